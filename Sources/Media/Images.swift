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
