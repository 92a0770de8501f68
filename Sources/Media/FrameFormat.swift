/// How decoded frames are laid out in memory.
public enum PixelLayout: String, Sendable, Hashable, Codable {
  /// Y′CbCr with all three planes at the output size: luma plus colour, for analysis.
  case yuv444
  /// Y′CbCr 4:2:0, chroma planes at half size: what codecs store.
  case yuv420
  /// Packed 8-bit RGB.
  case rgb
  /// Luma only.
  case gray
}

/// The resampling filter used when the output size differs from the source.
public enum Scaling: String, Sendable, Hashable, Codable {
  case fastBilinear, bilinear, bicubic, area
}

/// A width and a height in pixels.
public struct PixelSize: Sendable, Hashable, Codable, CustomStringConvertible {
  public var width: Int
  public var height: Int

  public init(width: Int, height: Int) {
    self.width = width
    self.height = height
  }

  public var description: String { "\(width)x\(height)" }
}

/// What a `Decoder` hands out: pixel layout and size.
public struct FrameFormat: Sendable, Hashable {
  /// The pixel layout of every frame.
  public var layout: PixelLayout
  /// The widest frame wanted; narrower sources keep their size. `nil` keeps the source size.
  public var maxWidth: Int?
  /// An exact output size, overriding `maxWidth`.
  public var size: PixelSize?
  /// The resampling filter.
  public var scaling: Scaling

  /// Creates a format.
  public init(layout: PixelLayout, maxWidth: Int? = nil, size: PixelSize? = nil, scaling: Scaling = .area) {
    self.layout = layout
    self.maxWidth = maxWidth
    self.size = size
    self.scaling = scaling
  }

  /// The analysis format of DESIGN.md §6: luma plus colour, at most `maxWidth` pixels wide.
  public static func analysis(maxWidth: Int = 640) -> FrameFormat {
    FrameFormat(layout: .yuv444, maxWidth: maxWidth)
  }

  /// Packed RGB at the source size.
  public static let sourceRGB = FrameFormat(layout: .rgb)

  /// The output size for a source of `source` size: the exact size when set, else the source
  /// scaled down to `maxWidth` keeping the aspect ratio, with an even height.
  public func outputSize(for source: PixelSize) -> PixelSize {
    if let size { return size }
    guard let maxWidth, source.width > maxWidth else { return source }
    let scaledHeight = Int((Double(source.height) * Double(maxWidth) / Double(source.width) / 2).rounded()) * 2
    return PixelSize(width: maxWidth, height: max(2, scaledHeight))
  }
}

/// One decoded frame: its picture, its position in the stream and its presentation time.
public struct VideoFrame: Sendable {
  /// 0-based index among the frames the decoder produced, in presentation order (after a seek,
  /// derived from the timestamp and the frame rate).
  public let index: Int
  /// Presentation time in seconds from the stream's start (the first frame is at or near 0).
  public let time: Double
  /// The picture, in the layout that was asked for.
  public let image: FrameImage
}
