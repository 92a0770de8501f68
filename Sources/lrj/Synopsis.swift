import ArgumentParser
import Consultation
import Foundation
import Synopsis

/// `lrj synopsis`: hours of one camera condensed into minutes, with clock times.
struct SynopsisCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synopsis",
    abstract: "Condense the tracks matching the filters (one camera) into a short MP4, with a JSON index and a PNG overview.",
    discussion: """
      Objects are shifted in time so that they play together, each with its original clock time beside it. \
      By default the synopsis is the shortest whose collision area (boxes of objects shown at once overlapping) \
      is at most 5 %. The index F.json beside F.mp4 lists every object's track, synopsis and source time spans.
      """)

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var options: FilterOptions

  @Option(help: "The MP4 file to write (its index goes beside it, .json).")
  var out: String

  @Option(help: "Also write a PNG overview: the background with every object a few times along its path.")
  var png: String?

  @Option(help: "Target length in seconds (collisions are minimised within it).")
  var length: Double?

  @Option(help: "At most this many objects at once (no collisions; the length follows).")
  var density: Int?

  @Option(help: "Most collision area in % when neither --length nor --density is given.")
  var maxCollision: Double = 5

  @Option(help: "Play objects this many times faster while they stay put (2 s or more), each with its true clock; 1 plays every object at its own speed.")
  var stillSpeedup: Int = SynopsisOptions().stillSpeedup

  @Flag(help: "Print the report as JSON.")
  var json = false

  @OptionGroup var key: KeyOption

  /// Checks the options (inside `run`, so that a mistake is a one-line `error:` like every other).
  func check() throws {
    if length != nil && density != nil { throw ValidationError("give --length or --density, not both") }
    if let length, !(length > 0 && length.isFinite) { throw ValidationError("--length must be more than 0 seconds") }
    if let density, density < 1 { throw ValidationError("--density must be at least 1") }
    if !(maxCollision >= 0 && maxCollision <= 100) { throw ValidationError("--max-collision must be 0 to 100") }
    if stillSpeedup < 1 { throw ValidationError("--still-speedup must be at least 1") }
  }

  func run() throws {
    try reportingErrors {
      try check()
      let index = SynopsisOutputs.indexPath(forVideo: out)
      // Whether each file can be written is checked behind the door, so that a refusal is logged.
      guard Set([out, index] + (png.map { [$0] } ?? [])).count == (png == nil ? 2 : 3) else {
        throw ValidationError("--out, --png and the index \(index) must be different files")
      }
      var settings = SynopsisOptions()
      settings.stillSpeedup = stillSpeedup
      if let length {
        settings.target = .length(seconds: length)
      } else if let density {
        settings.target = .density(density)
      } else {
        settings.target = .collision(maxCollision / 100)
      }
      let access = try key.access(procedure)
      let bar = ProgressBar(label: "synopsis")
      defer { bar.clear() }
      let report = try access.synopsis(options.filters, options: settings, output: out, overview: png) { progress in
        bar.update(done: progress.done, expected: progress.total, elapsed: progress.elapsed, stage: progress.stage.rawValue)
      }
      bar.clear()
      if json {
        print(Terminal.json(report))
      } else {
        print(Self.summary(report))
      }
      if let length, report.seconds > length + 1 / max(1, report.frameRate) {
        Terminal.note("note: the synopsis lasts \(String(format: "%.1f", report.seconds)) s, more than --length \(length) s: "
          + "an object is never cut, and objects that met keep their order and timing")
      }
    }
  }

  static func summary(_ r: SynopsisReport) -> String {
    func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
    var lines = [
      "\(r.video.path): \(r.objects) objects of camera \(r.camera) (exhibits \(r.exhibits.joined(separator: ", ")))",
      "  \(f(r.seconds)) s (\(r.frames) frames) for \(f(r.sourceSeconds)) s of footage: \(f(r.condensation))x shorter, "
        + "collision area \(f(r.collisionPercent, 2)) %, at most \(r.maxConcurrent) objects at once",
      "  SHA-256 \(r.video.sha256)",
      "index \(r.index.path)  SHA-256 \(r.index.sha256)",
    ]
    if let o = r.overview { lines.append("overview \(o.path)  SHA-256 \(o.sha256)") }
    lines.append("rendered in \(f(r.renderSeconds)) s")
    return lines.joined(separator: "\n")
  }
}
