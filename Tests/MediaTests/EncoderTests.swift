import Foundation
import Media
import TestSupport
import Testing

struct EncoderTests {
  /// A moving diagonal gradient with a bright square, different in every frame.
  static func pattern(_ n: Int, size: PixelSize) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: size.width * size.height * 3)
    for y in 0..<size.height {
      for x in 0..<size.width {
        let i = (y * size.width + x) * 3
        pixels[i] = UInt8((x + n * 4) & 0xFF)
        pixels[i + 1] = UInt8((y * 2 + n) & 0xFF)
        pixels[i + 2] = UInt8(((x + y) / 2) & 0xFF)
        if abs(x - (40 + n * 3)) < 20 && abs(y - 120) < 20 { pixels[i] = 250; pixels[i + 1] = 250; pixels[i + 2] = 40 }
      }
    }
    return RGBImage(width: size.width, height: size.height, pixels: pixels)
  }

  /// Encodes 50 frames at 25 fps, decodes them back and returns the mean PSNR.
  func roundTrip(forceMPEG4: Bool) throws -> (codec: String, psnr: Double) {
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("round-trip.mp4").path
    let size = PixelSize(width: 320, height: 240)
    let encoder = try Encoder(
      path: path, settings: Encoder.Settings(size: size, frameRate: 25, quality: .constant(18), forceMPEG4: forceMPEG4))
    let originals = (0..<50).map { Self.pattern($0, size: size) }
    for image in originals { try encoder.append(.rgb(image)) }
    #expect(!FileManager.default.fileExists(atPath: path), "nothing at the path before finish()")
    try encoder.finish()
    #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

    let decoder = try Decoder(path: path, format: .sourceRGB)
    #expect(decoder.info.codec == (forceMPEG4 ? "mpeg4" : "h264"))
    #expect(abs((decoder.info.duration ?? 0) - 2.0) < 0.001, "50 frames at 25 fps last 2 s")
    var psnrs: [Double] = []
    var times: [Double] = []
    while let frame = try decoder.nextFrame() {
      guard case .rgb(let image) = frame.image else { break }
      psnrs.append(Compare.psnr(image.pixels, originals[frame.index].pixels))
      times.append(frame.time)
    }
    #expect(psnrs.count == 50, "every frame comes back")
    #expect(times.enumerated().allSatisfy { abs($0.element - Double($0.offset) / 25) < 1e-6 }, "frame n at n/25 s")
    return (encoder.codecName, psnrs.reduce(0, +) / Double(max(1, psnrs.count)))
  }

  @Test func h264RoundTrip() throws {
    let (codec, psnr) = try roundTrip(forceMPEG4: false)
    #expect(codec == "libx264")
    #expect(psnr > 32, "mean PSNR \(psnr) dB at CRF 18")
  }

  @Test func mpeg4RoundTrip() throws {
    let (codec, psnr) = try roundTrip(forceMPEG4: true)
    #expect(codec == "mpeg4")
    #expect(psnr > 26, "mean PSNR \(psnr) dB at quantiser 12")
  }

  @Test func refusesOddSizesAndWrongFrames() throws {
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("x.mp4").path
    #expect(throws: MediaError.self) {
      _ = try Encoder(path: path, settings: Encoder.Settings(size: PixelSize(width: 321, height: 240), frameRate: 25))
    }
    let encoder = try Encoder(path: path, settings: Encoder.Settings(size: PixelSize(width: 64, height: 48), frameRate: 25))
    #expect(throws: MediaError.self) { try encoder.append(.rgb(RGBImage(width: 32, height: 48))) }
  }

  @Test func unwritableFolderIsAClearError() throws {
    let path = "/proc/no-such-folder/out.mp4"
    do {
      _ = try Encoder(path: path, settings: Encoder.Settings(size: PixelSize(width: 64, height: 48), frameRate: 25))
      Issue.record("an encoder in an unwritable folder must fail")
    } catch {
      #expect(error.kind == .encodeFailed)
      #expect(error.description.hasPrefix(path + ": cannot create the file"))
    }
  }

  @Test func abandonedEncoderLeavesNothing() throws {
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("abandoned.mp4").path
    do {
      let encoder = try Encoder(path: path, settings: Encoder.Settings(size: PixelSize(width: 64, height: 48), frameRate: 25))
      try encoder.append(.rgb(RGBImage(width: 64, height: 48, fill: (9, 9, 9))))
      #expect(FileManager.default.fileExists(atPath: path + ".partial"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test func yuvFramesEncodeToo() throws {
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("yuv.mp4").path
    // Re-encode the first second of the Samples clip from 4:2:0 frames at 640x360.
    let decoder = try Decoder(path: TestPaths.samplesClip, format: FrameFormat(layout: .yuv420, maxWidth: 640))
    let encoder = try Encoder(path: path, settings: Encoder.Settings(size: decoder.outputSize, frameRate: 25))
    var originals: [[UInt8]] = []
    while let frame = try decoder.nextFrame(), frame.index < 25 {
      guard case .yuv(let image) = frame.image else { break }
      originals.append(image.luma.pixels)
      try encoder.append(frame.image)
    }
    try encoder.finish()
    let check = try Decoder(path: path, format: FrameFormat(layout: .gray))
    var count = 0
    while let frame = try check.nextFrame() {
      guard case .gray(let image) = frame.image else { break }
      #expect(Compare.psnr(image.pixels, originals[frame.index]) > 30)
      count += 1
    }
    #expect(count == 25)
  }
}
