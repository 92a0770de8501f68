import Foundation
import Media
import TestSupport
import Testing

/// The decoder against FFmpeg's own tools, on the Samples clip and on every shared clip.
@Suite(.enabled(if: Reference.available, "needs ffmpeg and ffprobe (make deps)"))
struct DecoderTests {
  @Test func samplesClipMatchesFFmpeg() throws {
    try checkAgainstFFmpeg(TestPaths.samplesClip)
  }

  @Test(.enabled(if: TestPaths.footage != nil, "../shared/footage is absent"), arguments: TestPaths.footageClips)
  func sharedClipMatchesFFmpeg(_ clip: String) throws {
    try checkAgainstFFmpeg(clip)
  }

  @Test func probeReportsTheSamplesClip() throws {
    let decoder = try Decoder(path: TestPaths.samplesClip)
    let info = decoder.info
    #expect(info.codec == "h264")
    #expect(info.width == 1280 && info.height == 720)
    #expect(abs(info.frameRate - 25) < 1e-9)
    #expect(abs((info.duration ?? 0) - 40) < 0.05)
    #expect(info.declaredFrames == 1000)
    #expect(info.creationTime?.hasPrefix("2026-03-01T09:00:00") == true)
    #expect(info.creationDate == ISO8601DateFormatter().date(from: "2026-03-01T09:00:00Z"))
    #expect(info.container.contains("mp4"))
    #expect(!info.hasAudio)
  }

  @Test func analysisFormatIsAtMost640WideWithColour() throws {
    let decoder = try Decoder(path: TestPaths.samplesClip, format: .analysis())
    #expect(decoder.outputSize == PixelSize(width: 640, height: 360))
    let frame = try #require(try decoder.nextFrame())
    guard case .yuv(let image) = frame.image else {
      Issue.record("analysis frames are Y′CbCr")
      return
    }
    #expect(image.isFullChroma && image.width == 640 && image.height == 360)
    #expect(frame.index == 0 && frame.time == 0)
  }

  @Test func fastPathAgreesWithSwscale() throws {
    // The 2x2 luma average must give the same picture as swscale's area filter, within rounding.
    let fast = try Decoder(path: TestPaths.samplesClip, format: .analysis())
    let scaled = try Decoder(path: TestPaths.samplesClip,
                             format: FrameFormat(layout: .gray, size: PixelSize(width: 640, height: 360), scaling: .area))
    for _ in 0..<3 {
      let a = try #require(try fast.nextFrame())
      let b = try #require(try scaled.nextFrame())
      guard case .yuv(let yuv) = a.image, case .gray(let gray) = b.image else {
        Issue.record("unexpected layouts")
        return
      }
      #expect(Compare.meanAbsoluteDifference(yuv.luma.pixels, gray.pixels) < 1.0)
    }
  }

  @Test func decodeSpanReturnsOnlyThatSpan() throws {
    let decoder = try Decoder(path: TestPaths.samplesClip, format: .analysis(maxWidth: 160))
    var indices: [Int] = []
    try decoder.decodeSpan(from: 10, to: 11) { indices.append($0.index) }
    #expect(indices == Array(250..<275))
  }

  /// Frame count, strictly increasing timestamps, first frame and seek, against ffmpeg/ffprobe.
  func checkAgainstFFmpeg(_ clip: String) throws {
    // 1. Every frame, in order.
    let decoder = try Decoder(path: clip, format: .analysis())
    var times: [Double] = []
    var lumaNearProbe: [(time: Double, luma: [UInt8])] = []
    let probeAt = (decoder.info.duration ?? 1) * 0.6
    let frameRate = decoder.info.frameRate
    while let frame = try decoder.nextFrame() {
      #expect(frame.index == times.count, "indices count decoded frames")
      times.append(frame.time)
      if abs(frame.time - probeAt) <= 3 / frameRate, case .yuv(let image) = frame.image {
        lumaNearProbe.append((frame.time, image.luma.pixels))
      }
    }
    #expect(times.count == (try Reference.decodedFrameCount(clip)), "frame count equals ffprobe -count_frames")
    #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "timestamps strictly increase")
    #expect(decoder.skippedPackets == 0)

    // 2. The first frame, at source size and scaled to 640 wide, against ffmpeg's.
    let source = try Decoder(path: clip, format: .sourceRGB)
    let first = try #require(try source.nextFrame())
    guard case .rgb(let ours) = first.image else {
      Issue.record("RGB asked, RGB expected")
      return
    }
    let theirs = try Reference.firstFrameRGB(clip)
    #expect(theirs.count == ours.pixels.count)
    if theirs.count == ours.pixels.count {
      #expect(Compare.meanAbsoluteDifference(ours.pixels, theirs) < 1.0, "first frame at source size")
    }
    let size = FrameFormat(layout: .rgb, maxWidth: 640).outputSize(for: PixelSize(width: ours.width, height: ours.height))
    let small = try Decoder(path: clip, format: FrameFormat(layout: .rgb, maxWidth: 640, scaling: .bicubic))
    let firstSmall = try #require(try small.nextFrame())
    guard case .rgb(let oursSmall) = firstSmall.image else { return }
    let theirsSmall = try Reference.firstFrameRGB(clip, width: size.width, height: size.height)
    #expect(theirsSmall.count == oursSmall.pixels.count)
    if theirsSmall.count == oursSmall.pixels.count {
      #expect(Compare.meanAbsoluteDifference(oursSmall.pixels, theirsSmall) < 2.5, "first frame at 640 wide")
    }

    // 3. A seek lands within one frame of the time asked, on the same picture as sequential decoding.
    let seeker = try Decoder(path: clip, format: .analysis())
    try seeker.seek(to: probeAt)
    let landed = try #require(try seeker.nextFrame())
    // Within one frame: the landed frame is the first at or after the time asked (half a frame of
    // tolerance), so it lies less than one frame interval after it.
    let interval = times.count > 1 ? (times.last! - times.first!) / Double(times.count - 1) : 1 / frameRate
    #expect(landed.time >= probeAt - interval && landed.time - probeAt <= max(interval, 1 / frameRate) + 1e-6,
            "seek to \(probeAt) landed at \(landed.time)")
    let sequential = try #require(lumaNearProbe.min { abs($0.time - landed.time) < abs($1.time - landed.time) })
    #expect(abs(sequential.time - landed.time) < 1e-3, "the landed time is one of the stream's frame times")
    if case .yuv(let image) = landed.image {
      #expect(Compare.meanAbsoluteDifference(image.luma.pixels, sequential.luma) < 0.5, "same picture as sequential")
    }
  }
}
