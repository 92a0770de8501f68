/// A failure in the media layer: what was being read or written, and why, in one line.
///
/// `description` is what a user sees after `error:`, for example
/// `clip.mp4: not a video file FFmpeg can read (moov atom not found)`.
public struct MediaError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What kind of failure this is, for callers that react differently to each.
  public enum Kind: String, Sendable, Equatable {
    /// The path does not exist, is a directory, is empty or cannot be read.
    case unreadable
    /// FFmpeg cannot read the file as a container.
    case notAVideo
    /// The file was cut short: its index refers to data past its end.
    case truncated
    /// The file has no video stream (audio only, data only).
    case noVideoStream
    /// The file holds a still image, not a video.
    case stillImage
    /// The video's codec has no decoder (or encoder) in this FFmpeg build.
    case unsupportedCodec
    /// The dimensions or frame rate are zero, negative or absurd.
    case invalidDimensions
    /// Decoding failed beyond what skipping corrupt packets can recover.
    case decodeFailed
    /// Encoding or writing the output failed.
    case encodeFailed
    /// A PNG could not be encoded or decoded.
    case png
    /// A caller passed a value the media layer cannot honour.
    case invalidArgument
    /// FFmpeg or libpng could not allocate memory.
    case allocation
  }

  /// What kind of failure this is.
  public let kind: Kind
  /// The file concerned, when there is one.
  public let path: String?
  /// The cause in words, including the failing C call and its error text when there is one.
  public let message: String

  /// Creates an error.
  public init(_ kind: Kind, path: String? = nil, _ message: String) {
    self.kind = kind
    self.path = path
    self.message = message
  }

  public var description: String {
    if let path { return "\(path): \(message)" }
    return message
  }
}
