import Foundation
import Index
import Media

/// The inference runtimes lrj can run the detector's network on.
public enum DetectorRuntime: String, Sendable, Hashable, Codable, CaseIterable {
  /// OpenVINO's C API, loaded at run time from the PyPI wheel's libraries when they are installed.
  case openVINO = "openvino"
  /// OpenCV's DNN module (Debian's libopencv-dnn), always linked: the fallback.
  case openCV = "opencv"

  /// A name for reports and the log, with the version of the library that runs the network.
  public var description: String {
    switch self {
    case .openVINO:
      "OpenVINO \(OpenVINORuntime.version ?? "(not loaded)")\(OpenVINORuntime.precision.map { " (CPU, \($0))" } ?? "")"
    case .openCV: "OpenCV DNN \(OpenCVDetector.openCVVersion)"
    }
  }
}

/// One box found by the network, in the pixels of the picture the input was cut from.
struct Detection: Equatable {
  var box: Rect
  var score: Double
  /// COCO class index (0 person, 1 bicycle, 2 car, 3 motorcycle, 5 bus, 7 truck, …).
  var cocoClass: Int
}

/// The network's input: a region of a picture scaled to fit, placed at the top-left of a
/// rectangle whose sides are multiples of 32 and padded with grey 114, as planar BGR floats in
/// 0…255 (YOLOX's training layout).
struct NetworkInput {
  let width: Int
  let height: Int
  /// 3 × height × width: the blue plane, the green plane, the red plane.
  var values: [Float]
  /// Where input pixels fall in the picture: picture = origin + input × scale.
  let originX: Double
  let originY: Double
  let scale: Double

  /// The region `x..<x+width`, `y..<y+height` of `picture` (clipped to it), scaled so that its
  /// longer side becomes `longSide` input pixels, never enlarged more than `maximumEnlargement`
  /// times. Pixels are averaged over the area each input pixel covers (at most 3 × 3 samples of
  /// luma; chroma at the centre), BT.601 limited range.
  static func make(
    from picture: YUVImage, x: Int, y: Int, width: Int, height: Int, longSide: Int, maximumEnlargement: Double = 1
  ) -> NetworkInput {
    let x0 = max(0, min(picture.width - 1, x))
    let y0 = max(0, min(picture.height - 1, y))
    let w = max(1, min(picture.width - x0, width))
    let h = max(1, min(picture.height - y0, height))
    let scale = max(1 / max(1, maximumEnlargement), Double(max(w, h)) / Double(max(32, longSide)))
    let contentWidth = max(1, min(Int((Double(w) / scale).rounded(.down)), 4096))
    let contentHeight = max(1, min(Int((Double(h) / scale).rounded(.down)), 4096))
    let inputWidth = (contentWidth + 31) / 32 * 32
    let inputHeight = (contentHeight + 31) / 32 * 32
    let plane = inputWidth * inputHeight
    var values = [Float](repeating: 114, count: 3 * plane)
    // Source column and row spans of every input pixel.
    func spans(_ count: Int, origin: Int, limit: Int) -> [(Int, Int, Int)] {
      (0..<count).map { i in
        let a = origin + Int((Double(i) * scale).rounded(.down))
        let b = max(a + 1, origin + Int((Double(i + 1) * scale).rounded(.down)))
        let start = min(limit - 1, a)
        let end = min(limit, b)
        let step = max(1, (end - start + 2) / 3)
        return (start, max(start + 1, end), step)
      }
    }
    let columns = spans(contentWidth, origin: x0, limit: picture.width)
    let rows = spans(contentHeight, origin: y0, limit: picture.height)
    let lumaWidth = picture.luma.width
    let chromaWidth = picture.cb.width
    let chromaHeight = picture.cb.height
    let chromaX = columns.map { min(chromaWidth - 1, ($0.0 + $0.1) / 2 * chromaWidth / max(1, picture.width)) }
    // The sampled rows of an input row are first summed column by column over the region (a loop the
    // compiler vectorises), then each input pixel adds up its sampled columns of that sum.
    let firstColumn = columns.first?.0 ?? x0
    let regionWidth = max(1, (columns.last?.1 ?? x0 + 1) - firstColumn)
    let sampledColumns = columns.map { ($0.1 - $0.0 + $0.2 - 1) / $0.2 }
    var rowSums = [Int32](repeating: 0, count: regionWidth)
    picture.luma.pixels.withUnsafeBufferPointer { luma in
      picture.cb.pixels.withUnsafeBufferPointer { cb in
        picture.cr.pixels.withUnsafeBufferPointer { cr in
          values.withUnsafeMutableBufferPointer { out in
            rowSums.withUnsafeMutableBufferPointer { sums in
            for (oy, row) in rows.enumerated() {
              let chromaRow = min(chromaHeight - 1, (row.0 + row.1) / 2 * chromaHeight / max(1, picture.height)) * chromaWidth
              for x in 0..<regionWidth { sums[x] = 0 }
              var sampledRows = 0
              var yy = row.0
              while yy < row.1 {
                let base = yy * lumaWidth + firstColumn
                for x in 0..<regionWidth { sums[x] &+= Int32(luma[base + x]) }
                sampledRows += 1
                yy += row.2
              }
              for (ox, column) in columns.enumerated() {
                var sum: Int32 = 0
                var xx = column.0 - firstColumn
                let end = column.1 - firstColumn
                while xx < end {
                  sum &+= sums[xx]
                  xx += column.2
                }
                let n = sampledRows * sampledColumns[ox]
                let l = 1.164 * Float(Int(sum) / max(1, n) - 16)
                let ci = chromaRow + chromaX[ox]
                let u = Float(Int(cb[ci]) - 128)
                let v = Float(Int(cr[ci]) - 128)
                let i = oy * inputWidth + ox
                out[i] = max(0, min(255, l + 2.017 * u))
                out[plane + i] = max(0, min(255, l - 0.392 * u - 0.813 * v))
                out[2 * plane + i] = max(0, min(255, l + 1.596 * v))
              }
            }
            }
          }
        }
      }
    }
    return NetworkInput(
      width: inputWidth, height: inputHeight, values: values, originX: Double(x0), originY: Double(y0), scale: scale)
  }

  /// A whole RGB picture letterboxed into a `size` × `size` square (each input pixel the mean of
  /// the picture's pixels it covers).
  static func make(from picture: RGBImage, size: Int) -> NetworkInput {
    let scale = max(Double(picture.width), Double(picture.height)) / Double(size)
    let contentWidth = max(1, min(size, Int((Double(picture.width) / scale).rounded(.down))))
    let contentHeight = max(1, min(size, Int((Double(picture.height) / scale).rounded(.down))))
    func span(_ i: Int, limit: Int) -> Range<Int> {
      let a = min(limit - 1, Int((Double(i) * scale).rounded(.down)))
      let b = min(limit, max(a + 1, Int((Double(i + 1) * scale).rounded(.down))))
      return a..<b
    }
    let plane = size * size
    var values = [Float](repeating: 114, count: 3 * plane)
    if scale < 1 {
      // Enlarged: bilinear, pixel centres aligned.
      for oy in 0..<contentHeight {
        let fy = max(0, min(Double(picture.height - 1), (Double(oy) + 0.5) * scale - 0.5))
        let y0 = Int(fy)
        let y1 = min(picture.height - 1, y0 + 1)
        let wy = Float(fy - Double(y0))
        for ox in 0..<contentWidth {
          let fx = max(0, min(Double(picture.width - 1), (Double(ox) + 0.5) * scale - 0.5))
          let x0 = Int(fx)
          let x1 = min(picture.width - 1, x0 + 1)
          let wx = Float(fx - Double(x0))
          let i = oy * size + ox
          for c in 0..<3 {
            func at(_ x: Int, _ y: Int) -> Float { Float(picture.pixels[(y * picture.width + x) * 3 + c]) }
            let top = at(x0, y0) * (1 - wx) + at(x1, y0) * wx
            let bottom = at(x0, y1) * (1 - wx) + at(x1, y1) * wx
            values[(2 - c) * plane + i] = (top * (1 - wy) + bottom * wy).rounded()
          }
        }
      }
      return NetworkInput(width: size, height: size, values: values, originX: 0, originY: 0, scale: scale)
    }
    for oy in 0..<contentHeight {
      let rows = span(oy, limit: picture.height)
      for ox in 0..<contentWidth {
        let columns = span(ox, limit: picture.width)
        var r = 0
        var g = 0
        var b = 0
        for sy in rows {
          for sx in columns {
            let p = (sy * picture.width + sx) * 3
            r += Int(picture.pixels[p])
            g += Int(picture.pixels[p + 1])
            b += Int(picture.pixels[p + 2])
          }
        }
        let n = Float(rows.count * columns.count)
        let i = oy * size + ox
        values[i] = (Float(b) / n).rounded()
        values[plane + i] = (Float(g) / n).rounded()
        values[2 * plane + i] = (Float(r) / n).rounded()
      }
    }
    return NetworkInput(width: size, height: size, values: values, originX: 0, originY: 0, scale: scale)
  }
}

/// Runs the YOLOX network (80 COCO classes) on one runtime: the seam between the analysis and the
/// inference libraries. A detector holds a loaded network and is used by one thread only (it is
/// not Sendable, so the compiler keeps it on the thread that made it).
protocol Detector: AnyObject {
  /// The runtime this detector runs on.
  var runtime: DetectorRuntime { get }
  /// The network's raw output for `input`: for each anchor (strides 8, 16 and 32, row by row),
  /// cx, cy, w, h on the grid, objectness and the 80 class scores.
  /// - Throws: `ClassifierError` when the runtime fails.
  func forward(_ input: NetworkInput) throws -> [Float]
}

extension Detector {
  /// The boxes of score at least `minimumScore` in the picture `input` was cut from, best first,
  /// overlapping boxes of one class suppressed.
  func detect(_ input: NetworkInput, minimumScore: Double = 0.1, nmsIoU: Double = 0.45) throws -> [Detection] {
    let output = try forward(input)
    let found = YOLOX.decode(output, width: input.width, height: input.height, minimumScore: minimumScore)
    return YOLOX.suppress(found, iou: nmsIoU).map { d in
      var d = d
      d.box = Rect(
        x: input.originX + d.box.x * input.scale, y: input.originY + d.box.y * input.scale,
        width: d.box.width * input.scale, height: d.box.height * input.scale)
      return d
    }
  }

  /// The boxes found in a whole RGB picture letterboxed into a `size` square, in its pixels.
  func detect(_ picture: RGBImage, size: Int, minimumScore: Double = 0.25, nmsIoU: Double = 0.45) throws -> [Detection] {
    try detect(NetworkInput.make(from: picture, size: size), minimumScore: minimumScore, nmsIoU: nmsIoU)
  }
}

/// YOLOX's output layout: grid decoding and per-class non-maximum suppression (pure functions).
enum YOLOX {
  static let classes = 80
  static let columns = 5 + classes
  static let strides = [8, 16, 32]

  /// Anchors of an input of `width` × `height` pixels.
  static func anchors(width: Int, height: Int) -> Int {
    strides.reduce(0) { $0 + (width / $1) * (height / $1) }
  }

  /// Boxes (input pixels) of score (objectness × best class score) at least `minimumScore`.
  static func decode(_ output: [Float], width: Int, height: Int, minimumScore: Double) -> [Detection] {
    let count = anchors(width: width, height: height)
    guard output.count >= count * columns else { return [] }
    let threshold = Float(minimumScore)
    var found: [Detection] = []
    output.withUnsafeBufferPointer { rows in
      var anchor = 0
      for stride in strides {
        let cellsX = width / stride
        let cellsY = height / stride
        let s = Float(stride)
        for gy in 0..<cellsY {
          for gx in 0..<cellsX {
            defer { anchor += 1 }
            let r = anchor * columns
            let objectness = rows[r + 4]
            guard objectness >= threshold else { continue }
            var best = 0
            var bestScore: Float = -1
            for c in 0..<classes where rows[r + 5 + c] > bestScore {
              bestScore = rows[r + 5 + c]
              best = c
            }
            let score = objectness * bestScore
            guard score >= threshold else { continue }
            let cx = (rows[r] + Float(gx)) * s
            let cy = (rows[r + 1] + Float(gy)) * s
            let w = exp(min(rows[r + 2], 10)) * s
            let h = exp(min(rows[r + 3], 10)) * s
            found.append(
              Detection(
                box: Rect(x: Double(cx - w / 2), y: Double(cy - h / 2), width: Double(w), height: Double(h)),
                score: Double(score), cocoClass: best))
          }
        }
      }
    }
    return found
  }

  /// Greedy non-maximum suppression within each class, best first (ties by position, so the
  /// result never depends on the input's order).
  static func suppress(_ detections: [Detection], iou: Double) -> [Detection] {
    let sorted = detections.sorted {
      ($0.score, -$0.box.x, -$0.box.y) > ($1.score, -$1.box.x, -$1.box.y)
    }
    var kept: [Detection] = []
    for d in sorted where !kept.contains(where: { $0.cocoClass == d.cocoClass && $0.box.iou(d.box) > iou }) {
      kept.append(d)
    }
    return kept
  }
}

/// The COCO classes lrj uses, and what each means for a moving object.
enum COCOClass {
  static let person = 0
  static let bicycle = 1
  static let car = 2
  static let motorcycle = 3
  static let bus = 5
  static let truck = 7

  /// The lrj class a whole-object COCO class stands for, or nil for classes that cannot be a
  /// moving object of a street scene: airplane and boat (4, 8), street furniture (9…13), carried
  /// or indoor objects and food (24…79). A moving track seen as one of those is a misreading (a
  /// car seen from above reads as a "cell phone", a school bus or a dark car at dusk as an
  /// "airplane"), and such a detection is not used. Trains and animals are `other`.
  static func objectClass(_ coco: Int) -> ObjectClass? {
    switch coco {
    case person: .person
    case bicycle, motorcycle: .twoWheeler
    case car: .car
    case bus, truck: .busTruck
    case 6: .other  // train
    case 14...23: .other  // bird, cat, dog, horse, sheep, cow, elephant, bear, zebra, giraffe
    default: nil
    }
  }
}
