import Foundation
import TestSupport
import Testing

/// Seized files of every small picture size and several pixel formats, ingested with the built
/// `lrj`: nothing crashes (every exit code is below 128), a picture under 16 pixels on a side is
/// refused with one `error:` line naming the file and its size, logged and not stored, and every
/// other size is ingested.
@Suite(.enabled(if: Reference.available, "ffmpeg is not installed"))
struct PictureSizeTests {
  /// A pixel format and how to store it with a codec that takes every size.
  struct Format: Sendable {
    var pixelFormat: String
    var sides: [Int]
    /// Codec and container for a width and height.
    var codec: @Sendable (_ width: Int, _ height: Int) -> (codec: String, container: String)
  }

  struct Clip: Sendable {
    var path: String
    var width: Int
    var height: Int
    var pixelFormat: String
    var refused: Bool { width < 16 || height < 16 }
  }

  static let every = [1, 2, 3, 4, 7, 8, 15, 16, 17, 18, 23, 31, 32, 40]
  static let some = [1, 2, 3, 15, 16, 17, 31, 40]
  static let formats: [Format] = [
    // H.264 4:2:0 needs even sides; FFV1 takes any.
    Format(pixelFormat: "yuv420p", sides: every) { w, h in w % 2 == 0 && h % 2 == 0 ? ("libx264", "mp4") : ("ffv1", "mkv") },
    Format(pixelFormat: "yuv444p", sides: some) { _, _ in ("libx264", "mp4") },
    Format(pixelFormat: "gray", sides: some) { _, _ in ("ffv1", "mkv") },
    Format(pixelFormat: "rgb24", sides: some) { _, _ in ("rawvideo", "nut") },
    Format(pixelFormat: "yuvj422p", sides: some) { _, _ in ("mjpeg", "avi") },
    Format(pixelFormat: "yuv420p10le", sides: some) { _, _ in ("ffv1", "mkv") },
  ]

  /// Makes the clips: 40 frames at 8 fps (longer than the background's start-up) of FFmpeg's moving
  /// test pattern, scaled to each size.
  static func makeClips(in folder: URL) throws -> [Clip] {
    var clips: [Clip] = []
    for format in formats {
      for width in format.sides {
        for height in format.sides {
          let container = format.codec(width, height).container
          let path = folder.appendingPathComponent("\(format.pixelFormat)-\(width)x\(height).\(container)").path
          clips.append(Clip(path: path, width: width, height: height, pixelFormat: format.pixelFormat))
        }
      }
    }
    // One ffmpeg per pixel format and width, writing every height: one decode of the pattern
    // feeds every output, each with its own scaling and codec.
    let failures = Failures()
    let groups = Dictionary(grouping: clips) { "\($0.pixelFormat) \($0.width)" }.values.map { $0 }
    DispatchQueue.concurrentPerform(iterations: groups.count) { index in
      let group = groups[index]
      var arguments = ["-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=8"]
      for clip in group {
        let format = formats.first { $0.pixelFormat == clip.pixelFormat }!
        // A refused clip is refused before its first frame: two frames do.
        arguments += ["-frames:v", clip.refused ? "2" : "40", "-vf", "scale=\(clip.width):\(clip.height)",
                      "-pix_fmt", clip.pixelFormat, "-c:v", format.codec(clip.width, clip.height).codec, "-threads", "1",
                      clip.path]
      }
      let made = try? Run.program("ffmpeg", arguments)
      if made?.status != 0 { failures.add("\(group[0].path)…: \(made?.standardError ?? "ffmpeg did not run")") }
    }
    if let failure = failures.all.first { throw TestSetupError("ffmpeg could not make a clip: \(failure)") }
    return clips
  }

  @Test func everySizeAndPixelFormatIsIngestedOrRefusedWithoutACrash() throws {
    let started = Date()
    let installation = try TestInstallation.make("lrj-sizes")
    defer { installation.remove() }
    let clips = try Self.makeClips(in: installation.folder)
    let made = Date()
    let env = installation.env()
    let ingest = ["ingest", "--procedure", "P1", "--camera", "bench", "--start", "2026-03-01T10:00:00+01:00", "--json",
                  "--no-model"]
    var reports: [String: IngestCommandTests.Summary] = [:]
    var errors: [String: [String]] = [:]
    // One ingest per pixel format, every size in it.
    for format in Self.formats {
      let batch = clips.filter { $0.pixelFormat == format.pixelFormat }
      let result = try Run.lrj(ingest + batch.map(\.path), environment: env)
      #expect(result.status < 128, "lrj stopped by signal \(result.status - 128) on \(format.pixelFormat)")
      #expect(result.status == (batch.contains(where: \.refused) ? 1 : 0), "\(format.pixelFormat): \(result.status)")
      if result.status >= 128 {
        // Name the file that crashes it.
        for clip in batch {
          let alone = try Run.lrj(ingest + [clip.path], environment: env)
          #expect(alone.status < 128, "\(clip.path): stopped by signal \(alone.status - 128): \(alone.standardError)")
        }
        continue
      }
      for line in result.standardOutput.split(separator: "\n") {
        let report = try JSONDecoder().decode(IngestCommandTests.Summary.self, from: Data(line.utf8))
        reports[report.file] = report
      }
      for line in result.standardError.split(separator: "\n").map(String.init) {
        let clip = batch.first { line.hasPrefix("error: \($0.path): ") }
        errors[clip?.path ?? "?", default: []].append(line)
      }
    }
    for clip in clips {
      let size = "\(clip.width)x\(clip.height)"
      if clip.refused {
        let lines = errors[clip.path] ?? []
        #expect(lines.count == 1, "\(clip.path): one error line, got \(lines)")
        #expect(lines.first?.hasPrefix("error: \(clip.path): picture size \(size) is too small to analyse") == true,
                "\(clip.path): \(lines)")
        #expect(reports[clip.path] == nil)
      } else {
        let report = reports[clip.path]
        #expect(report?.width == clip.width && report?.height == clip.height && (report?.frames ?? 0) >= 39,
                "\(clip.path): \(errors[clip.path] ?? [])")
      }
    }
    #expect(errors["?"] == nil, "lines naming no clip: \(errors["?"] ?? [])")

    // The log holds each refusal and each success; nothing refused was stored.
    let refused = clips.filter(\.refused)
    let log = try installation.expect(["log", "--procedure", "P1", "--json"], installation.env(as: "judge"))
    let entries = try log.standardOutput.split(separator: "\n").map {
      try JSONDecoder().decode(LogLine.self, from: Data($0.utf8))
    }.filter { $0.operation == "ingest" }
    let failed = entries.filter { $0.outcome == "failed" && ($0.parameters["error"] ?? "").contains("is too small to analyse") }
    #expect(failed.count == refused.count, "\(failed.count) refusals logged for \(refused.count) small clips")
    #expect(entries.filter { $0.outcome == "success" }.count == clips.count - refused.count)
    let exhibits = try IngestCommandTests.exhibits(home: installation.home, procedure: "P1")
    #expect(exhibits.count == clips.count - refused.count && exhibits.allSatisfy(\.isComplete))
    try installation.expect(["log", "verify"], env)
    print("PictureSizeTests: tried \(clips.count) clips (\(refused.count) too small, refused), sizes 1x1 to 40x40 in "
          + "\(Self.formats.count) pixel formats; made in \(Int(made.timeIntervalSince(started))) s, ingested in "
          + "\(Int(Date().timeIntervalSince(made))) s")
  }

  /// One line of `lrj log --json`.
  struct LogLine: Decodable {
    var operation: String
    var outcome: String
    var parameters: [String: String]
  }
}

/// Failures collected from several threads.
final class Failures: @unchecked Sendable {  // `list` is only touched under `lock`
  private let lock = NSLock()
  private var list: [String] = []
  func add(_ failure: String) { lock.withLock { list.append(failure) } }
  var all: [String] { lock.withLock { list } }
}
