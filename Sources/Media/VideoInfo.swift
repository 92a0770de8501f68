import Foundation

/// What FFmpeg reports about a video file, before any frame is decoded.
public struct VideoInfo: Sendable, Hashable, Codable {
  /// The path as given.
  public var path: String
  /// File size in bytes.
  public var fileSize: Int64
  /// Container short name(s) as FFmpeg spells them, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
  public var container: String
  /// Container long name, e.g. `QuickTime / MOV`.
  public var containerLongName: String
  /// Video codec short name, e.g. `h264`.
  public var codec: String
  /// Video codec long name.
  public var codecLongName: String
  /// Pixel format of the decoded frames, e.g. `yuv420p`.
  public var pixelFormat: String
  /// Width of the coded picture in pixels.
  public var width: Int
  /// Height of the coded picture in pixels.
  public var height: Int
  /// Average frame rate in frames per second (the nominal rate when the average is unknown).
  public var frameRate: Double
  /// Duration in seconds, when the container states it.
  public var duration: Double?
  /// Presentation time of the stream's start, in seconds (frame times are relative to it).
  public var startTime: Double
  /// Number of video frames, when the container states it (not a decoded count).
  public var declaredFrames: Int?
  /// Overall bit rate in bits per second, when known.
  public var bitRate: Int?
  /// The container's `creation_time` metadata, verbatim, when present.
  public var creationTime: String?
  /// Whether the file also holds an audio stream.
  public var hasAudio: Bool

  /// `creationTime` parsed as an ISO 8601 instant, when it parses.
  public var creationDate: Date? {
    guard let creationTime else { return nil }
    return Self.parseCreationTime(creationTime)
  }

  /// Parses FFmpeg's `creation_time` forms (`2026-03-01T09:00:00.000000Z`, with or without
  /// fractional seconds or zone).
  static func parseCreationTime(_ text: String) -> Date? {
    let formats = [
      "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mm:ssXXXXX",
      "yyyy-MM-dd HH:mm:ss",
    ]
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    for format in formats {
      formatter.dateFormat = format
      if let date = formatter.date(from: text) { return date }
    }
    return nil
  }
}
