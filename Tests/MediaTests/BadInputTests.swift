import Foundation
import Media
import TestSupport
import Testing

/// Every bad input of the foundation issue: a clear error naming the file, or, for corrupt
/// packets in the middle, a decode that goes on and counts what it skipped.
struct BadInputTests {
  @Test func fatalInputsAreClearErrors() throws {
    let files = try BadFiles()
    defer { files.remove() }
    for (path, cause) in files.fatal {
      do {
        _ = try Decoder(path: path)
        Issue.record("\(path) must be refused")
      } catch {
        #expect(error.path == path)
        #expect(error.description.hasPrefix("\(path): "))
        #expect(error.description.contains(cause), "\(error.description) should say \(cause)")
        #expect(!error.description.contains("\n"), "one line")
      }
    }
  }

  @Test func truncatedFileNamesTheCause() throws {
    let files = try BadFiles()
    defer { files.remove() }
    do {
      _ = try Decoder(path: files.truncated)
      Issue.record("a truncated MP4 must be refused")
    } catch {
      #expect(error.kind == .truncated)
      #expect(error.description.contains("are missing"), "\(error)")
    }
  }

  @Test(.enabled(if: Reference.available, "needs ffmpeg"))
  func mp4WithoutItsIndexNamesFFmpegsCause() throws {
    // An MP4 whose index (moov) is at the end, cut in half: FFmpeg's own words are kept.
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("index-at-end.mp4").path
    let made = try Run.program("ffmpeg", ["-v", "error", "-i", TestPaths.samplesClip, "-t", "2", "-c", "copy", path])
    try #require(made.status == 0)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
    do {
      _ = try Decoder(path: path)
      Issue.record("an MP4 without its index must be refused")
    } catch {
      #expect(error.kind == .notAVideo)
      #expect(error.description.contains("moov atom not found"), "\(error)")
    }
  }

  @Test func corruptPacketsAreSkippedAndCounted() throws {
    let files = try BadFiles()
    defer { files.remove() }
    let decoder = try Decoder(path: files.corruptMiddle, format: .analysis(maxWidth: 320))
    var frames = 0
    var last = -1.0
    while let frame = try decoder.nextFrame() {
      #expect(frame.time > last)
      last = frame.time
      frames += 1
    }
    #expect(decoder.skippedPackets > 0, "corrupt packets are counted")
    #expect(frames > 900, "the rest of the file decodes (\(frames) of 1000 frames)")
  }

  @Test func absurdRequestsAreRefused() throws {
    #expect(throws: MediaError.self) {
      _ = try Decoder(path: TestPaths.samplesClip, format: FrameFormat(layout: .rgb, size: PixelSize(width: 0, height: 10)))
    }
    let decoder = try Decoder(path: TestPaths.samplesClip)
    #expect(throws: MediaError.self) { try decoder.seek(to: .nan) }
  }
}
