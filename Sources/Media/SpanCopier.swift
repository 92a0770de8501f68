import CFFmpeg
import Foundation

/// Copies a time span of a file's video stream into a new MP4 without re-encoding (stream copy),
/// or, when the codec cannot go into MP4 as it is, re-encodes it.
///
/// A stream copy must start on a keyframe, so the copy starts at the last keyframe at or before
/// the span's start; the actual span is reported. The output appears only when complete.
public enum SpanCopier {
  /// What was written.
  public struct Result: Sendable, Hashable {
    /// Start and end of the copied footage, in seconds from the stream's start (as `VideoFrame.time`).
    public var from: Double
    public var to: Double
    /// True for a stream copy, false when the footage had to be re-encoded.
    public var streamCopied: Bool
    /// Frames written.
    public var frames: Int
  }

  /// Writes the video of `input` between `from` and `to` (seconds, like `VideoFrame.time`) to
  /// `output`.
  public static func copy(input: String, output: String, from: Double, to: Double) throws(MediaError) -> Result {
    guard from.isFinite, to.isFinite, to > from else {
      throw MediaError(.invalidArgument, path: input, "empty or invalid span \(from)…\(to) s")
    }
    do {
      return try streamCopy(input: input, output: output, from: from, to: to)
    } catch where error.kind == .unsupportedCodec {
      return try reencode(input: input, output: output, from: from, to: to)
    }
  }

  static func streamCopy(input: String, output: String, from: Double, to: Double) throws(MediaError) -> Result {
    // The decoder opens and checks the file (custom I/O, no protocols) and finds the stream.
    let source = try Decoder(path: input, format: FrameFormat(layout: .gray, size: PixelSize(width: 16, height: 16)))
    return try source.copyPackets(to: output, from: from, to: to)
  }

  static func reencode(input: String, output: String, from: Double, to: Double) throws(MediaError) -> Result {
    let decoder = try Decoder(path: input, format: FrameFormat(layout: .yuv420))
    let size = PixelSize(width: decoder.outputSize.width & ~1, height: decoder.outputSize.height & ~1)
    let rate = max(1, Int(decoder.info.frameRate.rounded()))
    let encoder = try Encoder(path: output, settings: Encoder.Settings(size: size, frameRate: rate, quality: .constant(18)))
    try decoder.seek(to: from)
    var first: Double?
    var last = from
    while let frame = try decoder.nextFrame(), frame.time < to {
      guard case .yuv(let picture) = frame.image else { break }
      let image: FrameImage =
        size == decoder.outputSize ? frame.image : .rgb(picture.rgbCrop(x: 0, y: 0, width: size.width, height: size.height))
      try encoder.append(image)
      first = first ?? frame.time
      last = frame.time
    }
    try encoder.finish()
    return Result(from: first ?? from, to: last, streamCopied: false, frames: encoder.framesWritten)
  }
}

extension Decoder {
  /// Stream-copies this decoder's video packets from the keyframe at or before `from` up to `to`
  /// into an MP4 at `output` (written as `<output>.partial`, moved into place when complete).
  func copyPackets(to output: String, from: Double, to end: Double) throws(MediaError) -> SpanCopier.Result {
    guard let input = formatContextForCopy, let stream = streamForCopy else {
      throw MediaError(.decodeFailed, path: info.path, "the file is not open")
    }
    let partial = output + ".partial"
    var outputContext: UnsafeMutablePointer<AVFormatContext>? = nil
    let status = avformat_alloc_output_context2(&outputContext, nil, "mp4", partial)
    guard status >= 0, let outputContext else {
      throw MediaError(.encodeFailed, path: output, FFmpeg.failure("avformat_alloc_output_context2", status))
    }
    var finished = false
    defer {
      if outputContext.pointee.pb != nil { avio_closep(&outputContext.pointee.pb) }
      avformat_free_context(outputContext)
      if !finished { try? FileManager.default.removeItem(atPath: partial) }
    }
    let codecID = stream.pointee.codecpar.pointee.codec_id
    guard avformat_query_codec(outputContext.pointee.oformat, codecID, FF_COMPLIANCE_NORMAL) == 1,
      let outStream = avformat_new_stream(outputContext, nil)
    else {
      throw MediaError(.unsupportedCodec, path: info.path, "codec \(info.codec) cannot be stream-copied into MP4")
    }
    var copied = avcodec_parameters_copy(outStream.pointee.codecpar, stream.pointee.codecpar)
    guard copied >= 0 else { throw MediaError(.encodeFailed, path: output, FFmpeg.failure("avcodec_parameters_copy", copied)) }
    outStream.pointee.codecpar.pointee.codec_tag = 0
    outStream.pointee.time_base = stream.pointee.time_base
    copied = avio_open(&outputContext.pointee.pb, partial, AVIO_FLAG_WRITE)
    guard copied >= 0 else {
      throw MediaError(.encodeFailed, path: output, "cannot create the file (\(FFmpeg.failure("avio_open", copied)))")
    }
    copied = avformat_write_header(outputContext, nil)
    guard copied >= 0 else {
      throw MediaError(.unsupportedCodec, path: info.path, FFmpeg.failure("avformat_write_header", copied))
    }

    let timeBase = stream.pointee.time_base.doubleValue
    let base = stream.pointee.start_time == FFmpeg.noPTS ? 0 : stream.pointee.start_time
    let target = base + Int64((max(0, from) / timeBase).rounded(.down))
    let seek = av_seek_frame(input, stream.pointee.index, target, AVSEEK_FLAG_BACKWARD)
    guard seek >= 0 else { throw MediaError(.decodeFailed, path: info.path, FFmpeg.failure("av_seek_frame", seek)) }
    guard let packet = av_packet_alloc() else { throw MediaError(.allocation, path: info.path, "av_packet_alloc failed") }
    var packetOwner: UnsafeMutablePointer<AVPacket>? = packet
    defer { av_packet_free(&packetOwner) }

    var offset: Int64?  // the first packet's dts becomes 0
    var first: Double?
    var last = from
    var frames = 0
    while av_read_frame(input, packet) >= 0 {
      defer { av_packet_unref(packet) }
      guard packet.pointee.stream_index == stream.pointee.index else { continue }
      let pts = packet.pointee.pts == FFmpeg.noPTS ? packet.pointee.dts : packet.pointee.pts
      let time = Double(pts - base) * timeBase
      let decodeTime = packet.pointee.dts == FFmpeg.noPTS ? time : Double(packet.pointee.dts - base) * timeBase
      if decodeTime >= end { break }  // packets come in decoding order
      if offset == nil {
        guard packet.pointee.flags & AV_PKT_FLAG_KEY != 0 else { continue }
        offset = packet.pointee.dts == FFmpeg.noPTS ? pts : packet.pointee.dts
      }
      first = min(first ?? time, time)
      last = max(last, time)
      if packet.pointee.pts != FFmpeg.noPTS { packet.pointee.pts -= offset! }
      if packet.pointee.dts != FFmpeg.noPTS { packet.pointee.dts -= offset! }
      av_packet_rescale_ts(packet, stream.pointee.time_base, outStream.pointee.time_base)
      packet.pointee.stream_index = outStream.pointee.index
      packet.pointee.pos = -1
      let written = av_interleaved_write_frame(outputContext, packet)
      guard written >= 0 else {
        throw MediaError(.encodeFailed, path: output, FFmpeg.failure("av_interleaved_write_frame", written))
      }
      frames += 1
    }
    guard frames > 0 else { throw MediaError(.decodeFailed, path: info.path, "no frame between \(from) s and \(end) s") }
    try FFmpeg.finishMP4(outputContext, partial: partial, path: output)
    finished = true
    return SpanCopier.Result(from: first ?? from, to: last, streamCopied: true, frames: frames)
  }
}
