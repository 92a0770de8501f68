import ArgumentParser
import Consultation
import Foundation
import Index
import Ingest

/// `lrj ingest`: find, track and describe every moving object of exhibit files.
struct IngestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Ingest exhibit files into a procedure: every moving object, with class, colours, direction and path.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Option(help: "The camera's name (letters, digits, '-', '_', '.', spaces).")
  var camera: String

  @Option(help: "Wall-clock time of the first frame, ISO 8601 with offset (default: the file's creation_time, UTC).")
  var start: String?

  @Flag(help: "Print one JSON object per file when it finishes.")
  var json = false

  @Option(help: ArgumentHelp(
    "The object classifier's model, yolox_nano.onnx (default: LRJ_MODEL, else LRJ_HOME/models/yolox_nano.onnx; "
      + "checked by its SHA-256). Without a model, classes come from geometry and motion.",
    valueName: "file"))
  var model: String?

  @Flag(help: "Class objects by geometry and motion only, even when a model is installed.")
  var noModel = false

  @Option(help: ArgumentHelp("Width of the background model in pixels (tuning).", visibility: .hidden))
  var modelWidth: Int?

  @Option(help: ArgumentHelp("Analysed frames per second (tuning).", visibility: .hidden))
  var analysisRate: Double?

  @Argument(help: "Exhibit files.")
  var files: [String]

  func run() throws {
    try reportingErrors {
      let startTime = try start.map { text -> WallClockTime in
        let time: WallClockTime
        do { time = try WallClockTime(iso8601: text) } catch {
          throw ValidationError("--start \"\(text)\" is not an ISO 8601 time with offset (e.g. 2026-03-01T10:00:00+01:00)")
        }
        // Footage is recorded between 1970 and 2100; anything else is a typing mistake.
        guard (0..<4_102_444_800).contains(time.date.timeIntervalSince1970) else {
          throw ValidationError("--start \"\(text)\" is not between 1970 and 2100")
        }
        return time
      }
      if noModel && model != nil { throw ValidationError("--model and --no-model exclude each other") }
      let classifier = noModel ? ClassifierSetup.geometryOnly : try ClassifierSetup.resolve(explicit: model)
      // Said once, when a file was classified by geometry for want of a model (a refused file
      // keeps its one-line error).
      var notice = classifier.notice
      let access = try key.access(procedure)
      var failed = 0
      for file in files {
        let bar = ProgressBar(label: (file as NSString).lastPathComponent)
        do {
          var settings = AnalysisSettings()
          if let modelWidth { settings.modelWidth = modelWidth }
          if let analysisRate { settings.analysisRate = analysisRate }
          settings.classifierModel = classifier.model
          let report = try access.ingest(path: file, camera: camera, start: startTime, settings: settings) {
            bar.update($0)
          }
          bar.clear()
          if let text = notice, !report.alreadyIngested {
            Terminal.note("warning: \(text)")
            notice = nil
          }
          print(json ? Terminal.json(report) : Self.summary(report))
        } catch {
          bar.clear()
          Terminal.error(String(describing: error))
          failed += 1
        }
      }
      if failed > 0 { throw ExitCode.failure }
    }
  }

  static func summary(_ r: IngestReport) -> String {
    let tracks = r.tracks.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    if r.alreadyIngested {
      return "\(r.file): already ingested as exhibit \(r.exhibit) (same SHA-256 \(r.sha256)); nothing stored"
    }
    return """
      \(r.file) → exhibit \(r.exhibit) (camera \(r.camera), first frame \(r.start))
        SHA-256 \(r.sha256)
        \(r.frames) frames \(r.width)x\(r.height) at \(String(format: "%.2f", r.fps)) fps, \(r.skippedPackets) corrupt packets skipped
        tracks: \(tracks.isEmpty ? "none" : tracks) (classes by \(r.classifier ?? "geometry"))
        \(String(format: "%.1f s, %.0f frames/s", r.seconds, r.framesPerSecond))
      """
  }
}

/// `lrj tracks`: every box of every track of an exhibit.
struct Tracks: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print every box of every track of an exhibit (MOTChallenge format, source pixels).")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Option(help: "The exhibit id (E1, E2…).")
  var exhibit: String

  @Option(help: "Output format: mot.")
  var format: String = "mot"

  func run() throws {
    try reportingErrors {
      guard format == "mot" else { throw ValidationError("unknown format \"\(format)\"; valid: mot") }
      print(try key.access(procedure).motTracks(exhibit: exhibit), terminator: "")
    }
  }
}

/// A one-line progress bar on standard error, only when it is a terminal.
final class ProgressBar {
  private let label: String
  private let enabled = isatty(2) != 0
  private var shown = false

  init(label: String) {
    self.label = label
  }

  func update(_ progress: AnalysisProgress) {
    update(done: progress.frames, expected: progress.expectedFrames, elapsed: progress.elapsed)
  }

  /// Shows `done` of `expected` units (frames) after `elapsed` seconds, with the label `stage` when given.
  func update(done: Int, expected: Int?, elapsed: Double, stage: String? = nil) {
    guard enabled else { return }
    let label = stage.map { "\(self.label) \($0)" } ?? self.label
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    var text = "\(label): \(done) frames, \(Int(rate)) frames/s"
    if let expected, expected > 0 {
      let fraction = min(1, Double(done) / Double(expected))
      let filled = Int(fraction * 30)
      let eta = rate > 0 ? Double(max(0, expected - done)) / rate : 0
      text = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
        + "\(Int(fraction * 100))% \(Int(rate)) frames/s ETA \(Int(eta)) s"
    }
    FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
    shown = true
  }

  func clear() {
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
