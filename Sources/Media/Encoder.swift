import CFFmpeg
import Foundation

/// Writes frames to an MP4 file with libavcodec: H.264 when this FFmpeg build has an H.264
/// encoder, else MPEG-4 part 2.
///
/// The file appears at its path only when `finish()` succeeds; until then it is written beside it
/// as `<path>.partial`, and an encoder dropped without `finish()` removes that file. Frames are
/// timed at a constant rate: frame n is shown at n / frameRate seconds.
public final class Encoder {
  /// How hard to compress.
  public enum Quality: Sendable, Hashable {
    /// Constant quality (x264's CRF scale, 0 best to 51 worst; mapped to a quantiser otherwise).
    case constant(Int)
    /// Average bit rate in bits per second.
    case bitRate(Int)
  }

  /// What to write.
  public struct Settings: Sendable, Hashable {
    /// Picture size; both sides must be even (4:2:0).
    public var size: PixelSize
    /// Frames per second, as a rational `numerator / denominator`.
    public var frameRate: (numerator: Int, denominator: Int) {
      get { (rateNumerator, rateDenominator) }
      set { (rateNumerator, rateDenominator) = newValue }
    }
    /// How hard to compress.
    public var quality: Quality
    /// x264 preset (ultrafast … veryslow); ignored by other encoders.
    public var preset: String
    /// Use MPEG-4 part 2 even when H.264 is available.
    public var forceMPEG4: Bool
    /// Container metadata to write, e.g. `["creation_time": "2026-03-01T09:00:00Z"]`.
    public var metadata: [String: String] = [:]

    private var rateNumerator: Int
    private var rateDenominator: Int

    /// Creates settings.
    public init(size: PixelSize, frameRate: Int, quality: Quality = .constant(23), preset: String = "veryfast",
                forceMPEG4: Bool = false) {
      self.size = size
      self.rateNumerator = frameRate
      self.rateDenominator = 1
      self.quality = quality
      self.preset = preset
      self.forceMPEG4 = forceMPEG4
    }
  }

  /// The encoder in use, e.g. `libx264` or `mpeg4`.
  public let codecName: String
  /// Frames appended so far.
  public private(set) var framesWritten = 0
  /// Where the finished file goes.
  public let path: String

  private let settings: Settings
  private let partialPath: String
  private var formatContext: UnsafeMutablePointer<AVFormatContext>?
  private var codecContext: UnsafeMutablePointer<AVCodecContext>?
  private var stream: UnsafeMutablePointer<AVStream>?
  private var frame: UnsafeMutablePointer<AVFrame>?
  private var packet: UnsafeMutablePointer<AVPacket>?
  private var scaler: OpaquePointer?
  private var finished = false

  /// Creates `<path>.partial` and prepares the encoder.
  /// - Throws: `MediaError` when the size is odd or absurd, the frame rate is not positive, no
  ///   encoder exists or the file cannot be created.
  public init(path: String, settings: Settings) throws(MediaError) {
    FFmpeg.setUp
    self.path = path
    self.settings = settings
    partialPath = path + ".partial"
    let size = settings.size
    guard size.width > 0, size.height > 0, size.width % 2 == 0, size.height % 2 == 0,
      size.width <= Decoder.maximumSide, size.height <= Decoder.maximumSide
    else {
      throw MediaError(.invalidArgument, path: path, "cannot encode a \(size) picture (sides must be even and positive)")
    }
    guard settings.frameRate.numerator > 0, settings.frameRate.denominator > 0 else {
      throw MediaError(.invalidArgument, path: path, "frame rate must be positive")
    }

    let h264 = settings.forceMPEG4 ? nil : (avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_H264))
    guard let codec = h264 ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4) else {
      throw MediaError(.unsupportedCodec, path: path, "this FFmpeg build has neither an H.264 nor an MPEG-4 encoder")
    }
    codecName = String(cString: codec.pointee.name)

    var context: UnsafeMutablePointer<AVFormatContext>? = nil
    let allocStatus = avformat_alloc_output_context2(&context, nil, "mp4", partialPath)
    guard allocStatus >= 0, let context else {
      throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avformat_alloc_output_context2", allocStatus))
    }
    formatContext = context
    var ready = false
    defer { if !ready { self.release(removePartial: true) } }

    guard let stream = avformat_new_stream(context, nil), let codecContext = avcodec_alloc_context3(codec) else {
      throw MediaError(.allocation, path: path, "avformat_new_stream/avcodec_alloc_context3 failed")
    }
    self.stream = stream
    self.codecContext = codecContext
    let timeBase = AVRational(num: Int32(settings.frameRate.denominator), den: Int32(settings.frameRate.numerator))
    codecContext.pointee.width = Int32(size.width)
    codecContext.pointee.height = Int32(size.height)
    codecContext.pointee.pix_fmt = AV_PIX_FMT_YUV420P
    codecContext.pointee.time_base = timeBase
    codecContext.pointee.framerate = AVRational(num: timeBase.den, den: timeBase.num)
    codecContext.pointee.gop_size = Int32(max(1, 2 * settings.frameRate.numerator / settings.frameRate.denominator))
    codecContext.pointee.colorspace = AVCOL_SPC_SMPTE170M  // swscale's default RGB matrix (BT.601)
    codecContext.pointee.color_range = AVCOL_RANGE_MPEG
    codecContext.pointee.thread_count = 0
    if context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
      codecContext.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
    }
    var options: OpaquePointer? = nil
    defer { av_dict_free(&options) }
    Self.configure(codecContext, codecName: codecName, settings: settings, options: &options)
    let openStatus = avcodec_open2(codecContext, codec, &options)
    guard openStatus >= 0 else {
      throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avcodec_open2(\(codecName))", openStatus))
    }
    let parameterStatus = avcodec_parameters_from_context(stream.pointee.codecpar, codecContext)
    guard parameterStatus >= 0 else {
      throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avcodec_parameters_from_context", parameterStatus))
    }
    stream.pointee.time_base = timeBase
    stream.pointee.avg_frame_rate = codecContext.pointee.framerate

    let ioStatus = avio_open(&context.pointee.pb, partialPath, AVIO_FLAG_WRITE)
    guard ioStatus >= 0 else {
      throw MediaError(.encodeFailed, path: path, "cannot create the file (\(FFmpeg.failure("avio_open", ioStatus)))")
    }
    for (key, value) in settings.metadata.sorted(by: { $0.key < $1.key }) {
      av_dict_set(&context.pointee.metadata, key, value, 0)
    }
    var muxerOptions: OpaquePointer? = nil
    av_dict_set(&muxerOptions, "movflags", "+faststart", 0)  // playable while downloading
    let headerStatus = avformat_write_header(context, &muxerOptions)
    av_dict_free(&muxerOptions)
    guard headerStatus >= 0 else {
      throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avformat_write_header", headerStatus))
    }

    guard let frame = av_frame_alloc(), let packet = av_packet_alloc() else {
      throw MediaError(.allocation, path: path, "av_frame_alloc/av_packet_alloc failed")
    }
    self.frame = frame
    self.packet = packet
    frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
    frame.pointee.width = Int32(size.width)
    frame.pointee.height = Int32(size.height)
    frame.pointee.colorspace = AVCOL_SPC_SMPTE170M
    frame.pointee.color_range = AVCOL_RANGE_MPEG
    let bufferStatus = av_frame_get_buffer(frame, 0)
    guard bufferStatus >= 0 else {
      throw MediaError(.allocation, path: path, FFmpeg.failure("av_frame_get_buffer", bufferStatus))
    }
    ready = true
  }

  deinit {
    release(removePartial: !finished)
  }

  /// Appends one frame, shown for 1 / frameRate seconds. Its size must be the encoder's.
  public func append(_ image: FrameImage) throws(MediaError) {
    guard !finished, let codecContext, let frame else {
      throw MediaError(.invalidArgument, path: path, "the encoder is finished")
    }
    guard image.width == settings.size.width, image.height == settings.size.height else {
      throw MediaError(.invalidArgument, path: path,
                       "frame of \(image.width)x\(image.height) given to a \(settings.size) encoder")
    }
    let writable = av_frame_make_writable(frame)
    guard writable >= 0 else { throw MediaError(.encodeFailed, path: path, FFmpeg.failure("av_frame_make_writable", writable)) }
    try fill(frame, from: image)
    frame.pointee.pts = Int64(framesWritten)
    let status = avcodec_send_frame(codecContext, frame)
    guard status >= 0 else { throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avcodec_send_frame", status)) }
    framesWritten += 1
    try writePackets()
  }

  /// Flushes the encoder, writes the MP4 index and moves the file to its path.
  public func finish() throws(MediaError) {
    guard !finished, let codecContext, let formatContext else { return }
    guard framesWritten > 0 else { throw MediaError(.invalidArgument, path: path, "no frame to write") }
    let status = avcodec_send_frame(codecContext, nil)
    guard status >= 0 else { throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avcodec_send_frame", status)) }
    try writePackets()
    try FFmpeg.finishMP4(formatContext, partial: partialPath, path: path)
    finished = true
    release(removePartial: false)
  }

  // MARK: - Internals

  private static func configure(_ context: UnsafeMutablePointer<AVCodecContext>, codecName: String, settings: Settings,
                                options: inout OpaquePointer?) {
    let isX264 = codecName == "libx264"
    switch settings.quality {
    case .constant(let value):
      let crf = min(51, max(0, value))
      if isX264 {
        av_dict_set(&options, "crf", String(crf), 0)
      } else {
        // Map the CRF scale (0…51) onto MPEG-4's quantiser (2…31).
        let quantiser = 2 + (crf * 29) / 51
        context.pointee.flags |= AV_CODEC_FLAG_QSCALE
        context.pointee.global_quality = Int32(quantiser) * FF_QP2LAMBDA
      }
    case .bitRate(let rate):
      context.pointee.bit_rate = Int64(rate)
    }
    if isX264 {
      av_dict_set(&options, "preset", settings.preset, 0)
    }
  }

  private func fill(_ frame: UnsafeMutablePointer<AVFrame>, from image: FrameImage) throws(MediaError) {
    let width = settings.size.width
    let height = settings.size.height
    if case .yuv(let yuv) = image, !yuv.isFullChroma {
      // Already 4:2:0 at our size: copy plane by plane, honouring the frame's line sizes.
      Self.copy(yuv.luma.pixels, rowBytes: width, rows: height, into: frame.pointee.data.0!, stride: frame.pointee.linesize.0)
      Self.copy(yuv.cb.pixels, rowBytes: yuv.cb.width, rows: yuv.cb.height, into: frame.pointee.data.1!,
                stride: frame.pointee.linesize.1)
      Self.copy(yuv.cr.pixels, rowBytes: yuv.cr.width, rows: yuv.cr.height, into: frame.pointee.data.2!,
                stride: frame.pointee.linesize.2)
      return
    }
    let (sourceFormat, planes, strides): (AVPixelFormat, [[UInt8]], [Int32]) =
      switch image {
      case .rgb(let rgb): (AV_PIX_FMT_RGB24, [rgb.pixels], [Int32(width * 3)])
      case .gray(let gray): (AV_PIX_FMT_GRAY8, [gray.pixels], [Int32(width)])
      case .yuv(let yuv):
        (AV_PIX_FMT_YUV444P, [yuv.luma.pixels, yuv.cb.pixels, yuv.cr.pixels], Array(repeating: Int32(width), count: 3))
      }
    scaler = sws_getCachedContext(
      scaler, Int32(width), Int32(height), sourceFormat, Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
      SWS_BICUBIC, nil, nil, nil)
    guard let scaler else { throw MediaError(.encodeFailed, path: path, "sws_getCachedContext failed") }
    let coefficients = sws_getCoefficients(SWS_CS_ITU601)
    _ = sws_setColorspaceDetails(scaler, coefficients, 0, coefficients, 0, 0, 1 << 16, 1 << 16)
    let status = Self.withPlanePointers(planes, strides: strides) { sourceData, sourceStrides in
      withUnsafePointer(to: &frame.pointee.data) { data in
        withUnsafePointer(to: &frame.pointee.linesize) { linesize in
          data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { destinations in
            linesize.withMemoryRebound(to: Int32.self, capacity: 8) { destinationStrides in
              sws_scale(scaler, sourceData, sourceStrides, 0, Int32(height), destinations, destinationStrides)
            }
          }
        }
      }
    }
    guard status > 0 else { throw MediaError(.encodeFailed, path: path, FFmpeg.failure("sws_scale", status)) }
  }

  private static func copy(_ pixels: [UInt8], rowBytes: Int, rows: Int, into plane: UnsafeMutablePointer<UInt8>,
                           stride: Int32) {
    pixels.withUnsafeBufferPointer { source in
      for row in 0..<rows {
        (plane + row * Int(stride)).update(from: source.baseAddress! + row * rowBytes, count: rowBytes)
      }
    }
  }

  /// Calls `body` with C arrays of read-only plane pointers and strides (up to three planes).
  private static func withPlanePointers<R>(
    _ planes: [[UInt8]], strides: [Int32],
    _ body: (UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int32>) -> R
  ) -> R {
    let empty: [UInt8] = []
    let first = planes[0]
    let second = planes.count > 1 ? planes[1] : empty
    let third = planes.count > 2 ? planes[2] : empty
    let allStrides = strides + Array(repeating: 0, count: 4 - strides.count)
    return first.withUnsafeBufferPointer { a in
      second.withUnsafeBufferPointer { b in
        third.withUnsafeBufferPointer { c in
          let pointers: [UnsafePointer<UInt8>?] = [a.baseAddress, b.baseAddress, c.baseAddress, nil]
          return pointers.withUnsafeBufferPointer { p in
            allStrides.withUnsafeBufferPointer { s in body(p.baseAddress!, s.baseAddress!) }
          }
        }
      }
    }
  }

  private func writePackets() throws(MediaError) {
    guard let codecContext, let packet, let formatContext, let stream else { return }
    while true {
      let status = avcodec_receive_packet(codecContext, packet)
      if status == FFmpeg.again || status == FFmpeg.eof { return }
      guard status >= 0 else {
        throw MediaError(.encodeFailed, path: path, FFmpeg.failure("avcodec_receive_packet", status))
      }
      av_packet_rescale_ts(packet, codecContext.pointee.time_base, stream.pointee.time_base)
      packet.pointee.stream_index = stream.pointee.index
      let written = av_interleaved_write_frame(formatContext, packet)
      av_packet_unref(packet)
      guard written >= 0 else {
        throw MediaError(.encodeFailed, path: path, FFmpeg.failure("av_interleaved_write_frame", written))
      }
    }
  }

  private func release(removePartial: Bool) {
    sws_freeContext(scaler)
    scaler = nil
    av_frame_free(&frame)
    av_packet_free(&packet)
    avcodec_free_context(&codecContext)
    if let formatContext {
      if formatContext.pointee.pb != nil { avio_closep(&formatContext.pointee.pb) }
      avformat_free_context(formatContext)
      self.formatContext = nil
    }
    if removePartial { try? FileManager.default.removeItem(atPath: partialPath) }
  }
}
