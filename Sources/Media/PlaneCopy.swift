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

  /// The analysis fast path of DESIGN.md §6 for a 4:2:0 frame exactly twice `output`: luma
  /// averaged over 2x2 blocks, chroma planes copied as they are (already at `output` size).
  static func halveLumaKeepChroma(_ frame: UnsafeMutablePointer<AVFrame>, output: PixelSize) -> YUVImage {
    let width = output.width
    let height = output.height
    let lumaStride = Int(frame.pointee.linesize.0)
    let source = frame.pointee.data.0!
    let luma = [UInt8](unsafeUninitializedCapacity: width * height) { buffer, count in
      for y in 0..<height {
        let top = source + 2 * y * lumaStride
        let bottom = top + lumaStride
        let row = buffer.baseAddress! + y * width
        for x in 0..<width {
          let sum = Int(top[2 * x]) + Int(top[2 * x + 1]) + Int(bottom[2 * x]) + Int(bottom[2 * x + 1])
          row[x] = UInt8(truncatingIfNeeded: (sum + 2) >> 2)
        }
      }
      count = width * height
    }
    func copyPlane(_ plane: UnsafeMutablePointer<UInt8>, stride: Int32) -> [UInt8] {
      [UInt8](unsafeUninitializedCapacity: width * height) { buffer, count in
        for y in 0..<height {
          (buffer.baseAddress! + y * width).update(from: plane + y * Int(stride), count: width)
        }
        count = width * height
      }
    }
    let cb = copyPlane(frame.pointee.data.1!, stride: frame.pointee.linesize.1)
    let cr = copyPlane(frame.pointee.data.2!, stride: frame.pointee.linesize.2)
    return YUVImage(
      luma: GrayImage(width: width, height: height, pixels: luma),
      cb: GrayImage(width: width, height: height, pixels: cb),
      cr: GrayImage(width: width, height: height, pixels: cr))
  }
}

/// Three planes of destination pixels (unused planes empty), filled through C pointers.
struct PlaneBuffers {
  var planes: [[UInt8]]

  init(sizes: [Int]) {
    precondition(sizes.count <= 3, "at most three planes")
    planes = sizes.map { [UInt8](repeating: 0, count: $0) } + Array(repeating: [], count: 3 - sizes.count)
  }

  /// Calls `body` with a C array of pointers to the planes' storage.
  mutating func withPointers<R>(_ body: (UnsafePointer<UnsafeMutablePointer<UInt8>?>) -> R) -> R {
    var first = planes[0]
    var second = planes[1]
    var third = planes[2]
    planes = []
    defer { planes = [first, second, third] }
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
