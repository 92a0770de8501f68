import CFFmpeg
import CFFmpegLog
import Foundation

/// Facts about the FFmpeg libraries this build links, and helpers shared by Decoder and Encoder.
public enum FFmpeg {
  /// FFmpeg's own version string, e.g. `5.1.9-0+deb12u1`.
  public static var version: String { String(cString: av_version_info()) }

  /// Versions of the individual libraries, e.g. `["libavformat": "59.27.100", …]`.
  public static var libraryVersions: [String: String] {
    func text(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xFF).\(v & 0xFF)" }
    return [
      "libavformat": text(avformat_version()), "libavcodec": text(avcodec_version()),
      "libavutil": text(avutil_version()), "libswscale": text(swscale_version()),
    ]
  }

  /// Short names of every video decoder this FFmpeg build provides, sorted.
  public static var videoDecoders: [String] { codecNames(decoders: true) }

  /// Short names of every video encoder this FFmpeg build provides, sorted.
  public static var videoEncoders: [String] { codecNames(decoders: false) }

  private static func codecNames(decoders: Bool) -> [String] {
    var names = Set<String>()
    var state: UnsafeMutableRawPointer? = nil
    while let codec = av_codec_iterate(&state) {
      let isDecoder = av_codec_is_decoder(codec) != 0
      guard codec.pointee.type == AVMEDIA_TYPE_VIDEO, isDecoder == decoders else { continue }
      names.insert(String(cString: codec.pointee.name))
    }
    return names.sorted()
  }

  /// Installs the log capture once per process: FFmpeg stops writing to stderr and its last
  /// error message becomes available to `errorText`.
  static let setUp: Void = { lrj_ffmpeg_log_install() }()

  /// FFmpeg's text for an error code, e.g. "Invalid data found when processing input".
  static func describe(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    return text(buffer)
  }

  /// The last error FFmpeg logged on this thread (cleared by reading), if any.
  static func takeLastLogMessage() -> String? {
    var buffer = [CChar](repeating: 0, count: 512)
    let length = lrj_ffmpeg_log_take_last(&buffer, Int32(buffer.count))
    return length > 0 ? text(buffer) : nil
  }

  /// The text of a NUL-terminated C buffer.
  static func text(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// "call failed: text (logged detail)" for a failing FFmpeg call.
  static func failure(_ call: String, _ code: Int32) -> String {
    var text = "\(call) failed: \(describe(code))"
    if let detail = takeLastLogMessage(), !detail.isEmpty { text += " (\(detail))" }
    return text
  }

  /// Writes an MP4's index, closes it and renames `<path>.partial` over `path` (one atomic
  /// rename: the path holds the old file or the complete new one, never a part).
  static func finishMP4(_ context: UnsafeMutablePointer<AVFormatContext>, partial: String, path: String)
    throws(MediaError)
  {
    let trailer = av_write_trailer(context)
    guard trailer >= 0 else { throw MediaError(.encodeFailed, path: path, failure("av_write_trailer", trailer)) }
    avio_closep(&context.pointee.pb)
    guard rename(partial, path) == 0 else {
      throw MediaError(.encodeFailed, path: path, "cannot move the finished file into place: \(String(cString: strerror(errno)))")
    }
  }

  static let eof = lrj_averror_eof()
  static let again = lrj_averror(EAGAIN)
  static let invalidData = lrj_averror_invaliddata()
  static let noPTS = lrj_nopts_value()
}

extension AVRational {
  /// The rational as a Double; 0 when the denominator is 0.
  var doubleValue: Double { den == 0 ? 0 : Double(num) / Double(den) }
}
