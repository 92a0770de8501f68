import Foundation
import Index
import Media
import TestSupport
import Testing

@testable import Ingest

/// Thumbnails at source quality (issue 18): cut from fully decoded frames (loop filter on), at the
/// source's resolution, only reduced; compared with ffmpeg's own decode of the same frame and region.
struct ThumbnailQualityTests {
  /// Frame `index` of `path` as ffmpeg decodes it, RGB24 at the source's size.
  static func ffmpegFrame(_ path: String, index: Int, width: Int, height: Int) throws -> [UInt8] {
    let result = try Run.program(
      "ffmpeg", ["-v", "error", "-i", path, "-vf", "select=eq(n\\,\(index))", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    guard result.outputData.count == width * height * 3 else { throw TestSetupError("ffmpeg gave \(result.outputData.count) bytes") }
    return [UInt8](result.outputData)
  }

  @Test func thumbnailsMatchFFmpegsFullDecode() throws {
    guard Reference.available else { return }
    let path = TestPaths.samplesClip
    let analysis = try Analyzer(settings: AnalysisSettings()).analyse(path: path)
    let refined = SourceThumbnails.refine(analysis.tracks, path: path, threads: 0)
    let fps = analysis.info.frameRate
    var compared = 0
    var psnrs: [Double] = []
    for (fast, track) in zip(analysis.tracks, refined) {
      guard let source = track.thumbnailSource, let png = track.track.thumbnail,
        case .rgb(let thumbnail) = try PNG.decode([UInt8](png.data))
      else { continue }
      let frame = try Self.ffmpegFrame(path, index: Int((source.time * fps).rounded()), width: analysis.info.width,
                                       height: analysis.info.height)
      let reference = RGBImage(width: analysis.info.width, height: analysis.info.height, pixels: frame)
        .averagedCrop(x: source.x, y: source.y, width: source.width, height: source.height, step: source.step)
      #expect(reference.width == thumbnail.width && reference.height == thumbnail.height)
      let psnr = Compare.psnr(reference.pixels, thumbnail.pixels)
      #expect(psnr >= 35, "thumbnail at \(source.time) s: PSNR \(psnr) dB against ffmpeg's decode")
      psnrs.append(psnr)
      if let old = fast.track.thumbnail, case .rgb(let before) = try PNG.decode([UInt8](old.data)), before.pixels.count == reference.pixels.count {
        print(String(format: "thumbnail at %.2f s: %.1f dB (fast decode: %.1f dB)", source.time, psnr, Compare.psnr(reference.pixels, before.pixels)))
      }
      compared += 1
    }
    #expect(compared >= 5, "\(compared) thumbnails compared")
    // The same decoder and conversion as ffmpeg's: near identical (the fast decode, deblocking skipped,
    // averages about 41 dB on this clip).
    #expect(psnrs.reduce(0, +) / Double(max(1, psnrs.count)) >= 50)
  }
}
