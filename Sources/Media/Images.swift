/// An 8-bit single-channel image, rows packed without padding.
public struct GrayImage: Sendable, Hashable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// `width * height` samples, row by row.
  public var pixels: [UInt8]

  /// Creates an image from packed samples; `pixels.count` must be `width * height`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0 && pixels.count == width * height, "GrayImage size mismatch")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// Creates an image filled with one value.
  public init(width: Int, height: Int, value: UInt8 = 0) {
    self.init(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height))
  }

  /// The sample at column `x`, row `y`.
  @inlinable public subscript(x: Int, y: Int) -> UInt8 {
    get { pixels[y * width + x] }
    set { pixels[y * width + x] = newValue }
  }
}

/// An 8-bit RGB image, three bytes per pixel, rows packed without padding.
public struct RGBImage: Sendable, Hashable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// `width * height * 3` bytes: R, G, B for each pixel, row by row.
  public var pixels: [UInt8]

  /// Creates an image from packed RGB bytes; `pixels.count` must be `width * height * 3`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGBImage size mismatch")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// Creates an image filled with one colour.
  public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in stride(from: 0, to: pixels.count, by: 3) {
      pixels[i] = fill.0
      pixels[i + 1] = fill.1
      pixels[i + 2] = fill.2
    }
    self.init(width: width, height: height, pixels: pixels)
  }
}

/// A Y′CbCr image in three planes. The chroma planes are either the luma size (4:4:4) or
/// half of it in each direction, rounded up (4:2:0).
public struct YUVImage: Sendable, Hashable {
  /// Luma.
  public var luma: GrayImage
  /// Blue-difference chroma.
  public var cb: GrayImage
  /// Red-difference chroma.
  public var cr: GrayImage

  /// Creates an image from its planes; chroma planes must have the same size as each other.
  public init(luma: GrayImage, cb: GrayImage, cr: GrayImage) {
    precondition(cb.width == cr.width && cb.height == cr.height, "chroma planes differ in size")
    self.luma = luma
    self.cb = cb
    self.cr = cr
  }

  /// Width of the luma plane.
  public var width: Int { luma.width }
  /// Height of the luma plane.
  public var height: Int { luma.height }
  /// True when the chroma planes have the luma plane's size.
  public var isFullChroma: Bool { cb.width == luma.width && cb.height == luma.height }
}

/// The picture of a decoded frame, in the layout the caller asked for.
public enum FrameImage: Sendable, Hashable {
  case yuv(YUVImage)
  case rgb(RGBImage)
  case gray(GrayImage)

  /// Width in pixels (of the luma plane for Y′CbCr).
  public var width: Int {
    switch self {
    case .yuv(let image): image.width
    case .rgb(let image): image.width
    case .gray(let image): image.width
    }
  }

  /// Height in pixels (of the luma plane for Y′CbCr).
  public var height: Int {
    switch self {
    case .yuv(let image): image.height
    case .rgb(let image): image.height
    case .gray(let image): image.height
    }
  }
}

extension YUVImage {
  /// A smaller picture with full chroma (4:4:4): each pixel the average of a `factor` x `factor`
  /// block of luma and of the chroma samples under it. Columns and rows left over are dropped.
  public func boxDownscaled(by factor: Int) -> YUVImage {
    precondition(factor >= 1)
    if factor % 2 == 0 && cb.width * 2 >= luma.width && cb.width * 2 <= luma.width + 1
      && cb.height * 2 >= luma.height && cb.height * 2 <= luma.height + 1
    {
      // 4:2:0 with an even factor: whole blocks in every plane.
      let width = luma.width / factor
      let height = luma.height / factor
      return YUVImage(
        luma: GrayImage(width: width, height: height, pixels: Self.blockAverage(luma, block: factor, width: width, height: height)),
        cb: GrayImage(width: width, height: height, pixels: Self.blockAverage(cb, block: factor / 2, width: width, height: height)),
        cr: GrayImage(width: width, height: height, pixels: Self.blockAverage(cr, block: factor / 2, width: width, height: height)))
    }
    let width = luma.width / factor
    let height = luma.height / factor
    let chromaScaleX = Double(cb.width) / Double(luma.width)
    let chromaScaleY = Double(cb.height) / Double(luma.height)
    func reduce(_ plane: GrayImage, scaleX: Double, scaleY: Double) -> [UInt8] {
      // The block of plane samples under output pixel (x, y).
      let columns = (0...width).map { min(plane.width, Int((Double($0 * factor) * scaleX).rounded(.down))) }
      let rows = (0...height).map { min(plane.height, Int((Double($0 * factor) * scaleY).rounded(.down))) }
      var out = [UInt8](repeating: 0, count: width * height)
      plane.pixels.withUnsafeBufferPointer { p in
        out.withUnsafeMutableBufferPointer { o in
          for y in 0..<height {
            let y0 = rows[y]
            let y1 = max(y0 + 1, rows[y + 1])
            for x in 0..<width {
              let x0 = columns[x]
              let x1 = max(x0 + 1, columns[x + 1])
              var sum = 0
              for yy in y0..<min(y1, plane.height) {
                let row = yy * plane.width
                for xx in x0..<min(x1, plane.width) { sum += Int(p[row + xx]) }
              }
              let count = (min(y1, plane.height) - y0) * (min(x1, plane.width) - x0)
              o[y * width + x] = UInt8(truncatingIfNeeded: count > 0 ? (sum + count / 2) / count : 0)
            }
          }
        }
      }
      return out
    }
    return YUVImage(
      luma: GrayImage(width: width, height: height, pixels: reduce(luma, scaleX: 1, scaleY: 1)),
      cb: GrayImage(width: width, height: height, pixels: reduce(cb, scaleX: chromaScaleX, scaleY: chromaScaleY)),
      cr: GrayImage(width: width, height: height, pixels: reduce(cr, scaleX: chromaScaleX, scaleY: chromaScaleY)))
  }

  /// Averages `block` x `block` squares of `plane` into a `width` x `height` array: rows are
  /// summed first (a loop the compiler vectorises), then groups of `block` columns.
  static func blockAverage(_ plane: GrayImage, block: Int, width: Int, height: Int) -> [UInt8] {
    let area = block * block
    let stride = plane.width
    let span = width * block
    return [UInt8](unsafeUninitializedCapacity: width * height) { out, count in
      plane.pixels.withUnsafeBufferPointer { source in
        var sums = [UInt16](repeating: 0, count: span)
        sums.withUnsafeMutableBufferPointer { acc in
          let a = acc.baseAddress!
          for y in 0..<height {
            let first = source.baseAddress! + y * block * stride
            for i in 0..<span { a[i] = UInt16(first[i]) }
            for dy in 1..<max(1, block) {
              let row = first + dy * stride
              for i in 0..<span { a[i] &+= UInt16(row[i]) }
            }
            let target = out.baseAddress! + y * width
            switch block {
            case 2:
              for x in 0..<width { target[x] = UInt8(truncatingIfNeeded: (Int(a[2 * x]) + Int(a[2 * x + 1]) + 2) >> 2) }
            case 4:
              for x in 0..<width {
                let b = 4 * x
                let sum = Int(a[b]) + Int(a[b + 1]) + Int(a[b + 2]) + Int(a[b + 3])
                target[x] = UInt8(truncatingIfNeeded: (sum + 8) >> 4)
              }
            default:
              for x in 0..<width {
                var sum = 0
                let b = block * x
                for dx in 0..<block { sum += Int(a[b + dx]) }
                target[x] = UInt8(truncatingIfNeeded: (sum + area / 2) / area)
              }
            }
          }
        }
      }
      count = width * height
    }
  }

  /// The RGB picture of the region `x..<x+width`, `y..<y+height` (BT.601 limited range),
  /// reduced by `step` (every step-th pixel) when the region is large.
  public func rgbCrop(x: Int, y: Int, width: Int, height: Int, step: Int = 1) -> RGBImage {
    let outWidth = max(1, width / step)
    let outHeight = max(1, height / step)
    var pixels = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
    let cx = Double(cb.width) / Double(luma.width)
    let cy = Double(cb.height) / Double(luma.height)
    var o = 0
    for row in 0..<outHeight {
      let sy = min(luma.height - 1, y + row * step)
      let chromaRow = min(cb.height - 1, Int(Double(sy) * cy)) * cb.width
      for column in 0..<outWidth {
        let sx = min(luma.width - 1, x + column * step)
        let ci = chromaRow + min(cb.width - 1, Int(Double(sx) * cx))
        let l = 1.164 * Double(Int(luma.pixels[sy * luma.width + sx]) - 16)
        let u = Double(Int(cb.pixels[ci]) - 128)
        let v = Double(Int(cr.pixels[ci]) - 128)
        pixels[o] = UInt8(max(0, min(255, l + 1.596 * v)))
        pixels[o + 1] = UInt8(max(0, min(255, l - 0.392 * u - 0.813 * v)))
        pixels[o + 2] = UInt8(max(0, min(255, l + 2.017 * u)))
        o += 3
      }
    }
    return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
  }
}
