import CFFmpeg

/// Copies pixels out of AVFrames into Swift arrays, honouring each plane's line size.
enum PlaneCopy {
  /// Calls `body` with the frame's plane pointers and line sizes as the C arrays swscale takes.
  static func withSourcePlanes<R>(
    _ frame: UnsafeMutablePointer<AVFrame>,
    _ body: (UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int32>) -> R
  ) -> R {
    let data: [UnsafePointer<UInt8>?] = [
      UnsafePointer(frame.pointee.data.0), UnsafePointer(frame.pointee.data.1),
      UnsafePointer(frame.pointee.data.2), UnsafePointer(frame.pointee.data.3),
    ]
    let strides: [Int32] = [
      frame.pointee.linesize.0, frame.pointee.linesize.1, frame.pointee.linesize.2, frame.pointee.linesize.3,
    ]
    return data.withUnsafeBufferPointer { dataPointer in
      strides.withUnsafeBufferPointer { stridePointer in
        body(dataPointer.baseAddress!, stridePointer.baseAddress!)
      }
    }
  }

  /// A 4:2:0 frame's planes copied as they are.
  static func copy420(_ frame: UnsafeMutablePointer<AVFrame>, size: PixelSize) -> YUVImage {
    let chroma = PixelSize(width: (size.width + 1) / 2, height: (size.height + 1) / 2)
    return YUVImage(
      luma: GrayImage(width: size.width, height: size.height,
                      pixels: average(frame.pointee.data.0!, stride: Int(frame.pointee.linesize.0), block: 1, output: size)),
      cb: GrayImage(width: chroma.width, height: chroma.height,
                    pixels: average(frame.pointee.data.1!, stride: Int(frame.pointee.linesize.1), block: 1, output: chroma)),
      cr: GrayImage(width: chroma.width, height: chroma.height,
                    pixels: average(frame.pointee.data.2!, stride: Int(frame.pointee.linesize.2), block: 1, output: chroma)))
  }

  /// The analysis fast path of DESIGN.md §6 for a 4:2:0 frame exactly `factor` times `output`
  /// (factor even): luma averaged over factor x factor blocks, chroma over half that (the chroma
  /// planes are already half size), giving all three planes at `output` size with no swscale pass.
  static func downscale420(_ frame: UnsafeMutablePointer<AVFrame>, factor: Int, output: PixelSize) -> YUVImage {
    let luma = average(frame.pointee.data.0!, stride: Int(frame.pointee.linesize.0), block: factor, output: output)
    let cb = average(frame.pointee.data.1!, stride: Int(frame.pointee.linesize.1), block: factor / 2, output: output)
    let cr = average(frame.pointee.data.2!, stride: Int(frame.pointee.linesize.2), block: factor / 2, output: output)
    return YUVImage(
      luma: GrayImage(width: output.width, height: output.height, pixels: luma),
      cb: GrayImage(width: output.width, height: output.height, pixels: cb),
      cr: GrayImage(width: output.width, height: output.height, pixels: cr))
  }

  /// Averages `block` x `block` squares of a plane into an `output`-sized array (block 1 copies).
  private static func average(_ plane: UnsafeMutablePointer<UInt8>, stride: Int, block: Int, output: PixelSize)
    -> [UInt8]
  {
    let width = output.width
    let height = output.height
    return [UInt8](unsafeUninitializedCapacity: width * height) { buffer, count in
      let out = buffer.baseAddress!
      switch block {
      case 1:
        for y in 0..<height { (out + y * width).update(from: plane + y * stride, count: width) }
      case 2:
        for y in 0..<height {
          let top = plane + 2 * y * stride
          let bottom = top + stride
          let row = out + y * width
          for x in 0..<width {
            let sum = Int(top[2 * x]) + Int(top[2 * x + 1]) + Int(bottom[2 * x]) + Int(bottom[2 * x + 1])
            row[x] = UInt8(truncatingIfNeeded: (sum + 2) >> 2)
          }
        }
      default:
        let area = block * block
        var sums = [Int](repeating: 0, count: width)
        for y in 0..<height {
          for i in 0..<width { sums[i] = 0 }
          for dy in 0..<block {
            let source = plane + (y * block + dy) * stride
            for x in 0..<width {
              var sum = 0
              let start = x * block
              for dx in 0..<block { sum += Int(source[start + dx]) }
              sums[x] += sum
            }
          }
          let row = out + y * width
          for x in 0..<width { row[x] = UInt8(truncatingIfNeeded: (sums[x] + area / 2) / area) }
        }
      }
      count = width * height
    }
  }
}

/// Three planes of destination pixels (unused planes empty), filled through C pointers.
struct PlaneBuffers {
  /// Rows start every `stride` bytes, a multiple of ``alignment``, and every plane ends with
  /// ``tailPadding`` spare bytes: swscale's vector code writes whole blocks of pixels, past the end of
  /// a row whose width is not a multiple of the block, and past the end of a tight buffer (FFmpeg
  /// asks for padded, aligned destinations).
  static let alignment = 64
  static let tailPadding = 64

  struct Shape {
    var rowBytes: Int
    var rows: Int
    var stride: Int { (rowBytes + PlaneBuffers.alignment - 1) / PlaneBuffers.alignment * PlaneBuffers.alignment }
  }

  private let shapes: [Shape]
  private var storage: [[UInt8]]

  init(shapes: [Shape]) {
    precondition(shapes.count <= 3, "at most three planes")
    self.shapes = shapes
    storage = shapes.map { [UInt8](repeating: 0, count: $0.stride * $0.rows + Self.tailPadding) }
      + Array(repeating: [], count: 3 - shapes.count)
  }

  /// Each plane's stride, for `sws_scale` (four entries, unused ones 0).
  var strides: [Int32] { shapes.map { Int32($0.stride) } + Array(repeating: 0, count: 4 - shapes.count) }

  /// The planes with tight rows (`rowBytes` apart) and no padding.
  var planes: [[UInt8]] {
    zip(shapes, storage).map { shape, bytes in
      if shape.stride == shape.rowBytes { return Array(bytes[0..<shape.rowBytes * shape.rows]) }
      var tight = [UInt8]()
      tight.reserveCapacity(shape.rowBytes * shape.rows)
      for row in 0..<shape.rows {
        tight.append(contentsOf: bytes[row * shape.stride..<row * shape.stride + shape.rowBytes])
      }
      return tight
    } + Array(repeating: [], count: 3 - shapes.count)
  }

  /// Calls `body` with a C array of pointers to the planes' storage.
  mutating func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<UInt8>?>) -> R) -> R {
    var first = storage[0]
    var second = storage[1]
    var third = storage[2]
    storage = []
    defer { storage = [first, second, third] }
    return first.withUnsafeMutableBufferPointer { a in
      second.withUnsafeMutableBufferPointer { b in
        third.withUnsafeMutableBufferPointer { c in
          let pointers: [UnsafeMutablePointer<UInt8>?] = [a.baseAddress, b.baseAddress, c.baseAddress, nil]
          return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
      }
    }
  }
}
