import Foundation
import Index
@testable import Ingest
import Media
import TestSupport
import Testing

/// YOLOX's output layout and the network input, without a network.
struct YOLOXLayoutTests {
  @Test func anchorsOfRectangularInputs() {
    #expect(YOLOX.anchors(width: 416, height: 416) == 3549)
    #expect(YOLOX.anchors(width: 640, height: 384) == 5040)
  }

  @Test func decodesTheGridAndSuppressesWithinAClass() {
    let width = 64
    let height = 32
    var output = [Float](repeating: 0, count: YOLOX.anchors(width: width, height: height) * YOLOX.columns)
    func set(anchor: Int, dx: Float, dy: Float, logW: Float, logH: Float, objectness: Float, coco: Int, score: Float) {
      let r = anchor * YOLOX.columns
      output[r] = dx
      output[r + 1] = dy
      output[r + 2] = logW
      output[r + 3] = logH
      output[r + 4] = objectness
      output[r + 5 + coco] = score
    }
    // Stride 8: 8 cells a row. Anchor 10 is cell (2, 1): centre ((0.5 + 2) * 8, (0.5 + 1) * 8) = (20, 12).
    set(anchor: 10, dx: 0.5, dy: 0.5, logW: log(2), logH: log(3), objectness: 0.9, coco: 0, score: 0.8)
    // A weaker duplicate of the same person next to it, and a car on it (another class).
    set(anchor: 11, dx: 0.0, dy: 0.5, logW: log(2), logH: log(3), objectness: 0.8, coco: 0, score: 0.5)
    set(anchor: 12, dx: -0.5, dy: 0.5, logW: log(2), logH: log(3), objectness: 0.7, coco: 2, score: 0.9)
    // Below the threshold.
    set(anchor: 3, dx: 0.5, dy: 0.5, logW: 0, logH: 0, objectness: 0.05, coco: 0, score: 0.9)
    let found = YOLOX.decode(output, width: width, height: height, minimumScore: 0.1)
    #expect(found.count == 3)
    let person = found.first { $0.cocoClass == 0 && $0.score > 0.7 }!
    #expect(abs(person.box.centreX - 20) < 1e-3 && abs(person.box.centreY - 12) < 1e-3)
    #expect(abs(person.box.width - 16) < 1e-3 && abs(person.box.height - 24) < 1e-3)
    let kept = YOLOX.suppress(found, iou: 0.45)
    #expect(kept.count == 2, "the weaker person goes, the car stays: \(kept)")
    #expect(kept.map(\.cocoClass).sorted() == [0, 2])
  }

  @Test func networkInputMapsBackToThePicture() {
    // A 200x100 grey picture with a white 20x10 block at (100, 50).
    var luma = [UInt8](repeating: 126, count: 200 * 100)
    for y in 50..<60 { for x in 100..<120 { luma[y * 200 + x] = 235 } }
    let picture = YUVImage(
      luma: GrayImage(width: 200, height: 100, pixels: luma), cb: GrayImage(width: 100, height: 50, value: 128),
      cr: GrayImage(width: 100, height: 50, value: 128))
    let input = NetworkInput.make(from: picture, x: 0, y: 0, width: 200, height: 100, longSide: 100)
    #expect(input.width == 128 && input.height == 64, "100x50 content padded to multiples of 32")
    #expect(input.scale == 2)
    let plane = input.width * input.height
    // Input pixel (55, 27) is picture (110, 54): white; (10, 10) is grey; (120, 10) is padding.
    #expect(input.values[27 * input.width + 55] >= 254 && input.values[2 * plane + 27 * input.width + 55] >= 254)
    #expect(abs(input.values[10 * input.width + 10] - 128) < 2)
    #expect(input.values[10 * input.width + 120] == 114)
    // A crop keeps its origin.
    let crop = NetworkInput.make(from: picture, x: 90, y: 40, width: 64, height: 32, longSide: 64)
    #expect(crop.originX == 90 && crop.originY == 40 && crop.scale == 1 && crop.width == 64 && crop.height == 32)
    // Regions beyond the picture are clipped, never read out of bounds.
    let edge = NetworkInput.make(from: picture, x: 190, y: 95, width: 64, height: 64, longSide: 64)
    #expect(edge.originX == 190 && edge.originY == 95)
  }

  /// The network input equals, value for value, the plain definition: each input pixel the mean of
  /// the luma samples it covers (every `step`-th row and column of its span), chroma at its centre.
  @Test func networkInputIsTheMeanOfTheSamplesItCovers() {
    var generator = SystemRandomNumberGenerator()
    let width = 331
    let height = 197
    let picture = YUVImage(
      luma: GrayImage(width: width, height: height, pixels: (0..<(width * height)).map { _ in UInt8.random(in: 0...255, using: &generator) }),
      cb: GrayImage(width: (width + 1) / 2, height: (height + 1) / 2,
                    pixels: (0..<((width + 1) / 2 * (height + 1) / 2)).map { _ in UInt8.random(in: 16...240, using: &generator) }),
      cr: GrayImage(width: (width + 1) / 2, height: (height + 1) / 2,
                    pixels: (0..<((width + 1) / 2 * (height + 1) / 2)).map { _ in UInt8.random(in: 16...240, using: &generator) }))
    for (x, y, w, h, side) in [(0, 0, width, height, 96), (0, 0, width, height, 64), (0, 0, width, height, 32), (40, 30, 100, 100, 96),
                               (40, 30, 64, 64, 64), (300, 180, 64, 64, 64), (0, 0, width, height, 320)] {
      let input = NetworkInput.make(from: picture, x: x, y: y, width: w, height: h, longSide: side)
      let x0 = Int(input.originX)
      let y0 = Int(input.originY)
      let cw = min(width - x0, w)
      let ch = min(height - y0, h)
      let contentWidth = Int((Double(cw) / input.scale).rounded(.down))
      let contentHeight = Int((Double(ch) / input.scale).rounded(.down))
      func span(_ i: Int, origin: Int, limit: Int) -> (start: Int, end: Int, step: Int) {
        let a = origin + Int((Double(i) * input.scale).rounded(.down))
        let b = max(a + 1, origin + Int((Double(i + 1) * input.scale).rounded(.down)))
        let start = min(limit - 1, a)
        let end = min(limit, b)
        return (start, max(start + 1, end), max(1, (end - start + 2) / 3))
      }
      var mismatches = 0
      for oy in 0..<contentHeight {
        let rows = span(oy, origin: y0, limit: height)
        for ox in 0..<contentWidth {
          let columns = span(ox, origin: x0, limit: width)
          var samples: [Int] = []
          for yy in stride(from: rows.start, to: rows.end, by: rows.step) {
            for xx in stride(from: columns.start, to: columns.end, by: columns.step) { samples.append(Int(picture.luma.pixels[yy * width + xx])) }
          }
          let l = 1.164 * Float(samples.reduce(0, +) / samples.count - 16)
          let chroma = min(picture.cb.height - 1, (rows.start + rows.end) / 2 * picture.cb.height / height) * picture.cb.width
            + min(picture.cb.width - 1, (columns.start + columns.end) / 2 * picture.cb.width / width)
          let u = Float(Int(picture.cb.pixels[chroma]) - 128)
          let v = Float(Int(picture.cr.pixels[chroma]) - 128)
          let i = oy * input.width + ox
          let plane = input.width * input.height
          if input.values[i] != max(0, min(255, l + 2.017 * u)) || input.values[plane + i] != max(0, min(255, l - 0.392 * u - 0.813 * v))
            || input.values[2 * plane + i] != max(0, min(255, l + 1.596 * v))
          {
            mismatches += 1
          }
        }
      }
      #expect(contentWidth > 0 && contentHeight > 0)
      #expect(mismatches == 0, "region \(x),\(y) \(w)x\(h) at \(side): \(mismatches) input pixels differ")
    }
  }
}

/// Both runtimes on a real frame: the same detections within tolerance (skipped without OpenVINO).
struct DetectorBackendTests {
  static var openVINOFolder: String? {
    OpenVINORuntime.locate(
      environment: ProcessInfo.processInfo.environment,
      home: ProcessInfo.processInfo.environment["LRJ_HOME"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/lrj"))
  }

  static var available: Bool { TestPaths.classifierModel != nil && TestPaths.footage != nil }

  @Test(.enabled(if: available && openVINOFolder != nil, "../shared or the OpenVINO runtime is absent"))
  func openVINOAndOpenCVAgree() throws {
    let model = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    let openCV = try OpenCVDetector(model: model)
    let openVINO = try OpenVINODetector(model: model, folder: try #require(Self.openVINOFolder))
    #expect(openVINO.runtime == .openVINO && openCV.runtime == .openCV)
    // Reports name the precision the CPU infers in (bf16 and f32 give slightly different detections).
    let precision = try #require(OpenVINORuntime.precision, "the CPU plugin states its precision")
    #expect(["bf16", "f32", "f16"].contains(precision), "\(precision)")
    #expect(DetectorRuntime.openVINO.description.hasSuffix("(CPU, \(precision))"), "\(DetectorRuntime.openVINO.description)")
    for (clip, index) in [("campus-crosswalk/crosswalk.mp4", 60), ("tud-stadtmitte/seq.mp4", 20)] {
      let picture = try ObjectDetectorTests.frame(clip, index)
      let input = NetworkInput.make(from: picture, x: 0, y: 0, width: picture.width, height: picture.height,
                                    longSide: 416)
      let a = try openCV.detect(input, minimumScore: 0.3)
      let b = try openVINO.detect(input, minimumScore: 0.3)
      #expect(!a.isEmpty, "\(clip): something is found")
      // Every confident detection of one runtime has a twin in the other: same class, IoU ≥ 0.9,
      // score within 0.05 (float arithmetic differs; boxes near the threshold may come and go).
      for (mine, theirs) in [(a, b), (b, a)] {
        for d in mine where d.score >= 0.4 {
          let twin = theirs.first { $0.cocoClass == d.cocoClass && $0.box.iou(d.box) >= 0.9 }
          #expect(twin != nil, "\(clip): \(d) has no twin in \(theirs)")
          if let twin { #expect(abs(twin.score - d.score) <= 0.05, "\(clip): \(d) vs \(twin)") }
        }
      }
    }
  }
}
