import Consultation
import Foundation
import Media
import Synopsis
import TestSupport
import Testing

/// `lrj synopsis` on the ingested Samples clip: the index, the length, the collision bound, the
/// clock-time labels and the MP4 checked against the ground truth and ffprobe; then bad input.
@Suite(.serialized)
struct SynopsisCommandTests {
  struct Report: Decodable {
    var objects: Int
    var frames: Int
    var seconds: Double
    var collisionPercent: Double
  }

  struct Index: Decodable {
    struct Object: Decodable {
      var track: String
      var exhibit: String
      var synopsisStart: Double
      var synopsisEnd: Double
      var synopsisFirstFrame: Int
      var synopsisLastFrame: Int
      var sourceStartOffset: Double
      var sourceEndOffset: Double
      var start: String
      var end: String
    }
    var video: String
    var frameRate: Double
    var frames: Int
    var seconds: Double
    var collisionPercent: Double
    var objects: [Object]
  }

  /// The collision bound the default synopsis promises (`--max-collision` default, in %).
  static let collisionBound = 5.0

  @Test func synopsisOfTheSamplesClipAndBadInput() throws {
    let fixture = try SearchCommandTests.makeFixture()
    defer { fixture.installation.remove() }
    let out = fixture.installation.folder.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let video = out.appendingPathComponent("street-synopsis.mp4").path
    let png = out.appendingPathComponent("street-synopsis.png").path
    let run = try Run.lrj(["synopsis", "--procedure", "P1", "--out", video, "--png", png, "--json"], environment: fixture.env)
    try #require(run.status == 0, "\(run.standardError)")
    let report = try JSONDecoder().decode(Report.self, from: run.outputData)
    let indexPath = out.appendingPathComponent("street-synopsis.json").path
    let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: indexPath)))
    let truth = try SamplesTruth.load()

    // Logged through the door, with the SHA-256 of the three files, before they appeared.
    let logged = try #require(try Installation.open(home: fixture.home).logEntries().compactMap(\.entry).last { $0.operation == "synopsis" })
    #expect(logged.user == "opj" && logged.outcome == .success && logged.resultCount == index.objects.count)
    let hashes = try [video, indexPath, png].map { String(try Run.program("sha256sum", [$0]).standardOutput.prefix(64)) }
    #expect(Set(logged.filesWritten) == Set(hashes), "\(logged.filesWritten) vs \(hashes)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            == ["street-synopsis.json", "street-synopsis.mp4", "street-synopsis.png"], "no staging file left")

    // Every ground-truth object exactly once.
    let objects = index.objects.compactMap { fixture.objectOfTrack[$0.track] }
    for object in truth.objects {
      #expect(objects.filter { $0 == object.id }.count == 1, "object \(object.id) (\(object.label)) appears once")
    }
    #expect(Set(index.objects.map(\.track)).count == index.objects.count, "no track twice")
    #expect(report.objects == index.objects.count && index.video == "street-synopsis.mp4")

    // Shorter than the source, under the collision bound, objects inside the synopsis.
    let sourceSeconds = Double(truth.frames) / Double(truth.fps)
    #expect(index.seconds < sourceSeconds, "\(index.seconds) s for \(sourceSeconds) s")
    #expect(index.collisionPercent <= Self.collisionBound, "collision \(index.collisionPercent) %")
    for o in index.objects {
      #expect(o.synopsisFirstFrame >= 0 && o.synopsisLastFrame < index.frames && o.exhibit == "E1")
      let sourceSpan = o.sourceEndOffset - o.sourceStartOffset
      #expect(abs((o.synopsisEnd - o.synopsisStart) - sourceSpan) < 0.05, "\(o.track) keeps its duration")
    }

    // The MP4 decodes with the frame count the index states; the PNG is the picture's size.
    if Reference.available {
      #expect(try Reference.decodedFrameCount(video) == index.frames)
      #expect(report.frames == index.frames)
    }
    guard case .rgb(let overview) = try PNG.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))) else {
      Issue.record("the overview is a colour PNG")
      return
    }
    #expect(overview.width == 1280 && overview.height == 720)

    if Reference.available { try checkLabels(fixture: fixture, index: index, video: video, truth: truth) }
    try checkBadInput(fixture: fixture, out: out)
  }

  /// The red car's label shows its source clock time: the rendered label region matches the
  /// expected rendering of the right time better than any nearby wrong time.
  func checkLabels(fixture: SearchCommandTests.Fixture, index: Index, video: String, truth: SamplesTruth) throws {
    let redTrack = try #require(fixture.objectOfTrack.first { $0.value == 1 }?.key)
    let red = try #require(index.objects.first { $0.track == redTrack })
    let mot = try Run.lrj(["tracks", "--procedure", "P1", "--exhibit", "E1"], environment: fixture.env)
    let trackNumber = Int(redTrack.dropFirst())!
    let boxes = Dictionary(TrackBox.parseMOT(mot.standardOutput).filter { $0.track == trackNumber }.map { ($0.frame, $0) }) { a, _ in a }
    let fps = index.frameRate
    let scale = ClockLabel.scale(forHeight: 720)
    var matched = 0
    let samples = [0.3, 0.5, 0.7]
    for fraction in samples {
      let k = Int(Double(red.synopsisLastFrame - red.synopsisFirstFrame) * fraction)
      let outputFrame = red.synopsisFirstFrame + k
      let sourceTime = red.sourceStartOffset + Double(k) / fps
      let box = try #require(boxes[Int((sourceTime * Double(truth.fps)).rounded())], "box at \(sourceTime) s")
      // Clock time: the clip starts at 09:00:00 UTC (its creation_time), shown in UTC.
      func text(_ seconds: Int) -> String {
        String(format: "%02d:%02d:%02d", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60)
      }
      let second = 9 * 3600 + Int(sourceTime.rounded(.down))
      let frame = try Run.program(
        "ffmpeg", ["-v", "error", "-i", video, "-vf", "select=eq(n\\,\(outputFrame))", "-frames:v", "1", "-f", "rawvideo",
                   "-pix_fmt", "gray", "-"]).outputData
      try #require(frame.count == 1280 * 720, "frame \(outputFrame) decoded")
      let gray = [UInt8](frame)
      func mismatch(_ label: String) -> Double {
        let expected = ClockFont.render(label, scale: scale)
        var best = 1.0
        // The label sits just above the box or below it, or, moved clear of another object's
        // label, up to four label heights farther (ClockLabel.place).
        let shift = 4 * (expected.height + 2)
        let ys = Array(Int(box.y) - expected.height - 10 - shift...Int(box.y) - expected.height + 6)
          + Array(Int(box.y + box.height) - 4...Int(box.y + box.height) + 10 + shift)
        for y in ys where y >= 0 && y + expected.height <= 720 {
          for x in (Int(box.x) - 8)...(Int(box.x) + 8) where x >= 0 && x + expected.width <= 1280 {
            var wrong = 0
            for yy in 0..<expected.height {
              for xx in 0..<expected.width where (gray[(y + yy) * 1280 + x + xx] > 128) != (expected[xx, yy] > 127) {
                wrong += 1
              }
            }
            best = min(best, Double(wrong) / Double(expected.width * expected.height))
          }
        }
        return best
      }
      let right = mismatch(text(second))
      let wrongs = [second - 1, second + 1, second + 10, second - 60, second + 3600].map { mismatch(text($0)) }
      if right < 0.03 && wrongs.allSatisfy({ $0 > right }) { matched += 1 }
    }
    #expect(matched >= 2, "the red car's label reads its clock time in \(matched) of \(samples.count) frames")
  }

  /// Bad input: one-line errors, nothing written.
  func checkBadInput(fixture: SearchCommandTests.Fixture, out: URL) throws {
    // A second camera: the first 4 s of the clip, ingested under another name.
    let short = fixture.installation.folder.appendingPathComponent("short.mp4").path
    let cut = try Run.program("ffmpeg", ["-v", "error", "-i", TestPaths.samplesClip, "-t", "4", "-c", "copy", short])
    try #require(cut.status == 0, "\(cut.standardError)")
    let ingest = try Run.lrj(
      ["ingest", "--procedure", "P1", "--camera", "yard", "--start", "2026-03-01T10:00:00+01:00", short], environment: fixture.env)
    try #require(ingest.status == 0, "\(ingest.standardError)")

    let empty = out.appendingPathComponent("bad")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let target = empty.appendingPathComponent("s.mp4").path
    let png = empty.appendingPathComponent("s.png").path
    let cases: [([String], String)] = [
      (["--camera", "street", "--from", "2026-03-02T00:00:00Z"], "no track matches"),
      (["--camera", "street", "--class", "bus-truck", "--colour", "purple"], "no track matches"),
      (["--camera", "street", "--length", "0"], "--length"),
      (["--camera", "street", "--length=-5"], "--length"),
      (["--camera", "street", "--density", "0"], "--density"),
      (["--camera", "nowhere"], "unknown camera"),
      ([], "several cameras"),
      (["--camera", "street", "--out", "/no/such/folder/s.mp4"], "cannot write"),
      (["--camera", "street", "--png", "/no/such/folder/s.png"], "cannot write"),
      (["--camera", "street", "--class", "face"], "no biometric capability"),
    ]
    for (arguments, expected) in cases {
      var all = ["synopsis", "--procedure", "P1"] + arguments
      if !arguments.contains("--out") { all += ["--out", target] }
      if !arguments.contains("--png") { all += ["--png", png] }
      let result = try Run.lrj(all, environment: fixture.env)
      #expect(result.status != 0, "\(arguments) must fail")
      #expect(result.standardError.hasPrefix("error: "), "\(arguments): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1, "\(arguments): one line: \(result.standardError)")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
      let left = try FileManager.default.contentsOfDirectory(atPath: empty.path)
      #expect(left.isEmpty, "\(arguments) left \(left)")
    }

    // A --length shorter than an object: the synopsis is made, and says it is longer than asked.
    let short4 = try Run.lrj(["synopsis", "--procedure", "P1", "--camera", "yard", "--length", "0.5", "--out", target],
                             environment: fixture.env)
    #expect(short4.status == 0, "\(short4.standardError)")
    #expect(short4.standardError.hasPrefix("note: the synopsis lasts") && short4.standardError.contains("more than --length 0.5 s"),
            "\(short4.standardError)")
    // An existing file is never overwritten, not even the index beside the video.
    let kept = try Data(contentsOf: URL(fileURLWithPath: target))
    let again = try Run.lrj(["synopsis", "--procedure", "P1", "--camera", "yard", "--out", target], environment: fixture.env)
    #expect(again.status != 0 && again.standardError.contains("exists; lrj never overwrites a file"), "\(again.standardError)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == kept)
    let other = empty.appendingPathComponent("other.mp4").path
    try Data("the user's own notes".utf8).write(to: URL(fileURLWithPath: SynopsisOutputs.indexPath(forVideo: other)))
    let sidecar = try Run.lrj(["synopsis", "--procedure", "P1", "--camera", "yard", "--out", other], environment: fixture.env)
    #expect(sidecar.status != 0 && sidecar.standardError.contains("other.json exists"), "\(sidecar.standardError)")
    #expect(!FileManager.default.fileExists(atPath: other))
    // An absurd length is no limit, not a crash.
    let huge = empty.appendingPathComponent("huge.mp4").path
    let unbounded = try Run.lrj(["synopsis", "--procedure", "P1", "--camera", "yard", "--length", "1e19", "--out", huge],
                                environment: fixture.env)
    #expect(unbounded.status == 0, "\(unbounded.standardError)")
  }
}
