import CFFmpeg
import Foundation
import Logging

/// Reads a video file with FFmpeg and hands out its frames, in order, as value types.
///
/// A `Decoder` owns every FFmpeg resource it opens and frees them when it goes away. It is not
/// `Sendable`: keep it in one task and pass the frames it returns (plain values) elsewhere.
///
/// Corrupt packets do not stop decoding: they are skipped and counted in `skippedPackets`, and
/// the frames FFmpeg flags as damaged are dropped (their index is still consumed, so indices stay
/// those of FFmpeg's decoded frames).
public final class Decoder {
  /// What FFmpeg reports about the file.
  public let info: VideoInfo
  /// The layout and size of the frames handed out.
  public let format: FrameFormat
  /// The size of the frames handed out.
  public let outputSize: PixelSize
  /// Packets or frames that were corrupt and skipped so far.
  public private(set) var skippedPackets = 0
  /// Frames whose timestamp was missing or out of order and had to be repaired.
  public private(set) var repairedTimestamps = 0

  private let path: String
  private let logger = Logger(label: "lrj.media.decoder")
  /// The single owner of every FFmpeg object this decoder opens, so that each is freed exactly
  /// once whether `init` completes or throws halfway.
  private let owned = DecodingResources()
  private var formatContext: UnsafeMutablePointer<AVFormatContext>? { owned.formatContext }
  private var codecContext: UnsafeMutablePointer<AVCodecContext>? { owned.codecContext }
  private var packet: UnsafeMutablePointer<AVPacket>? { owned.packet }
  private var frame: UnsafeMutablePointer<AVFrame>? { owned.frame }
  private let streamIndex: Int32
  private let timeBase: AVRational
  private var startPTS: Int64?
  private var inputEnded = false
  private var finished = false
  private var nextIndex = 0
  private var indexFromTimestamps = false
  private var discardBefore = -Double.infinity
  private var lastTime = -Double.infinity
  private var consecutiveReadErrors = 0

  /// The largest picture accepted, in pixels per side and in total (a 16K frame).
  public static let maximumSide = 16384
  public static let maximumPixels = 16384 * 8640
  /// The smallest picture accepted, in pixels per side: below it there is nothing to analyse (the
  /// motion model's 3x3 neighbourhoods, blob boxes and thumbnails need a few pixels of margin).
  public static let minimumSide = 16

  /// Opens `path` and prepares to decode its best video stream.
  ///
  /// - Parameters:
  ///   - path: a local file; no other FFmpeg protocol is allowed.
  ///   - format: the layout and size of the frames to hand out.
  ///   - threads: decoding threads; 0 uses every core.
  /// - Throws: `MediaError` naming the file and the cause (missing, directory, empty, not a
  ///   video, still image, no video stream, unsupported codec, absurd dimensions).
  ///   - onRead: shown every block of bytes read from the file with its offset, in the order
  ///     FFmpeg reads them (to hash the file in the same pass).
  ///   - fast: decode faster for analysis: skip H.264/HEVC deblocking (pictures are slightly
  ///     blockier; fine for motion analysis, not for viewing).
  public init(path: String, format: FrameFormat = .sourceRGB, threads: Int = 0, fast: Bool = false,
              onRead: ((_ offset: Int64, _ bytes: UnsafeRawBufferPointer) -> Void)? = nil) throws(MediaError) {
    FFmpeg.setUp
    self.path = path
    self.format = format
    let fileSize = try Self.checkReadableFile(path)

    // Untrusted input: the file is read through our own I/O, so no FFmpeg protocol (URL,
    // playlist entry, device) can be reached from it.
    let input = try FileInput(path: path, size: fileSize, observer: onRead)
    owned.input = input
    owned.io = input.makeContext()
    guard let io = owned.io, var context = avformat_alloc_context() else {
      throw MediaError(.allocation, path: path, "avio_alloc_context/avformat_alloc_context failed")
    }
    context.pointee.pb = io
    context.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
    var options: OpaquePointer? = nil
    av_dict_set(&options, "protocol_whitelist", "file", 0)
    _ = FFmpeg.takeLastLogMessage()
    var opening: UnsafeMutablePointer<AVFormatContext>? = context
    let openStatus = avformat_open_input(&opening, path, nil, &options)  // frees the context on failure
    av_dict_free(&options)
    guard openStatus >= 0, let opened = opening else {
      throw MediaError(.notAVideo, path: path,
                       "not a video file FFmpeg can read (\(FFmpeg.failure("avformat_open_input", openStatus)))")
    }
    context = opened
    owned.formatContext = context

    let containerName = String(cString: context.pointee.iformat.pointee.name)
    if containerName == "image2" || containerName.hasSuffix("_pipe") {
      throw MediaError(.stillImage, path: path, "a still image (\(containerName)), not a video")
    }
    let infoStatus = avformat_find_stream_info(context, nil)
    guard infoStatus >= 0 else {
      throw MediaError(.notAVideo, path: path,
                       "not a video file FFmpeg can read (\(FFmpeg.failure("avformat_find_stream_info", infoStatus)))")
    }

    let streams = UnsafeBufferPointer(start: context.pointee.streams, count: Int(context.pointee.nb_streams))
    let isPicture = { (s: UnsafeMutablePointer<AVStream>) in
      s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
    }
    guard
      let index = streams.firstIndex(where: {
        $0!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && !isPicture($0!)
      })
    else {
      let hasAudio = streams.contains { $0!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
      throw MediaError(.noVideoStream, path: path,
                       hasAudio ? "no video stream (audio only)" : "no video stream")
    }
    let stream = streams[index]!
    let parameters = stream.pointee.codecpar!
    streamIndex = Int32(index)
    timeBase = stream.pointee.time_base

    let width = Int(parameters.pointee.width)
    let height = Int(parameters.pointee.height)
    guard width > 0, height > 0 else {
      throw MediaError(.invalidDimensions, path: path, "the video stream has no picture size (\(width)x\(height))")
    }
    guard width <= Self.maximumSide, height <= Self.maximumSide, width * height <= Self.maximumPixels else {
      throw MediaError(.invalidDimensions, path: path, "absurd picture size \(width)x\(height)")
    }
    guard width >= Self.minimumSide, height >= Self.minimumSide else {
      throw MediaError(
        .invalidDimensions, path: path,
        "picture size \(width)x\(height) is too small to analyse (lrj needs at least \(Self.minimumSide) pixels on each side)")
    }

    try Self.checkNotTruncated(stream, fileSize: fileSize, path: path)

    guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
      let name = String(cString: avcodec_get_name(parameters.pointee.codec_id))
      throw MediaError(.unsupportedCodec, path: path, "no decoder for codec \(name) in this FFmpeg build")
    }
    guard let codecContext = avcodec_alloc_context3(codec) else {
      throw MediaError(.allocation, path: path, "avcodec_alloc_context3 failed")
    }
    owned.codecContext = codecContext
    let copyStatus = avcodec_parameters_to_context(codecContext, parameters)
    guard copyStatus >= 0 else {
      throw MediaError(.decodeFailed, path: path, FFmpeg.failure("avcodec_parameters_to_context", copyStatus))
    }
    codecContext.pointee.thread_count = Int32(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount)
    codecContext.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
    codecContext.pointee.pkt_timebase = stream.pointee.time_base
    if fast {
      codecContext.pointee.skip_loop_filter = AVDISCARD_ALL
      codecContext.pointee.flags2 |= AV_CODEC_FLAG2_FAST
    }
    let openCodecStatus = avcodec_open2(codecContext, codec, nil)
    guard openCodecStatus >= 0 else {
      throw MediaError(.unsupportedCodec, path: path, FFmpeg.failure("avcodec_open2", openCodecStatus))
    }
    owned.packet = av_packet_alloc()
    owned.frame = av_frame_alloc()
    guard owned.packet != nil, owned.frame != nil else {
      throw MediaError(.allocation, path: path, "av_packet_alloc/av_frame_alloc failed")
    }

    // The measured average first (right for variable-rate camera files), else FFmpeg's guess.
    let average = stream.pointee.avg_frame_rate.doubleValue
    let rate = average > 0 && average < 1000 ? average : av_guess_frame_rate(context, stream, nil).doubleValue
    let streamDuration = stream.pointee.duration
    let duration: Double? =
      if streamDuration > 0 && streamDuration != FFmpeg.noPTS {
        Double(streamDuration) * timeBase.doubleValue
      } else if context.pointee.duration > 0 && context.pointee.duration != FFmpeg.noPTS {
        Double(context.pointee.duration) / Double(AV_TIME_BASE)
      } else {
        nil
      }
    let streamStart = stream.pointee.start_time
    startPTS = streamStart == FFmpeg.noPTS ? nil : streamStart
    let creation =
      Self.metadata(context.pointee.metadata, "creation_time")
      ?? Self.metadata(stream.pointee.metadata, "creation_time")
    let pixelFormatName = av_get_pix_fmt_name(AVPixelFormat(rawValue: parameters.pointee.format))
    let codecDescriptor = avcodec_descriptor_get(parameters.pointee.codec_id)
    info = VideoInfo(
      path: path,
      fileSize: fileSize,
      container: containerName,
      containerLongName: context.pointee.iformat.pointee.long_name.map { String(cString: $0) } ?? containerName,
      codec: String(cString: avcodec_get_name(parameters.pointee.codec_id)),
      codecLongName: codecDescriptor?.pointee.long_name.map { String(cString: $0) } ?? "",
      pixelFormat: pixelFormatName.map { String(cString: $0) } ?? "unknown",
      width: width, height: height,
      frameRate: rate.isFinite && rate > 0 ? rate : 0,
      duration: duration,
      startTime: streamStart == FFmpeg.noPTS ? 0 : Double(streamStart) * timeBase.doubleValue,
      declaredFrames: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
      bitRate: context.pointee.bit_rate > 0 ? Int(context.pointee.bit_rate) : nil,
      creationTime: creation,
      hasAudio: streams.contains { $0!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO })

    outputSize = format.outputSize(for: PixelSize(width: width, height: height))
    guard outputSize.width > 0, outputSize.height > 0, outputSize.width <= Self.maximumSide,
      outputSize.height <= Self.maximumSide
    else {
      throw MediaError(.invalidArgument, path: path, "invalid output size \(outputSize)")
    }
  }

  /// The next frame in presentation order, or `nil` at the end of the stream.
  ///
  /// - Throws: `MediaError` only when decoding cannot go on at all; corrupt packets are skipped.
  public func nextFrame() throws(MediaError) -> VideoFrame? {
    try decodeNext(convert: true).map { VideoFrame(index: $0.index, time: $0.time, image: $0.image!) }
  }

  /// Decodes the next frame but skips converting its picture: its index and time only, for
  /// frames the caller does not look at (cheaper than `nextFrame()`).
  public func skipFrame() throws(MediaError) -> (index: Int, time: Double)? {
    try decodeNext(convert: false).map { ($0.index, $0.time) }
  }

  /// The next frame, its picture converted only when `wanted` says so of its index (frames looked at
  /// by their place in the file, wherever decoding began).
  public func nextFrame(converting wanted: (Int) -> Bool) throws(MediaError) -> (index: Int, time: Double, image: FrameImage?)? {
    try decodeNext(convert: wanted)
  }

  private func decodeNext(convert: Bool) throws(MediaError) -> (index: Int, time: Double, image: FrameImage?)? {
    try decodeNext(convert: { _ in convert })
  }

  private func decodeNext(convert: (Int) -> Bool) throws(MediaError) -> (index: Int, time: Double, image: FrameImage?)? {
    guard let codecContext, let frame, let packet, let formatContext else { return nil }
    while !finished {
      let received = avcodec_receive_frame(codecContext, frame)
      if received == 0 {
        defer { av_frame_unref(frame) }
        if let decoded = try accept(frame, convert: convert) { return decoded }
        continue
      }
      if received == FFmpeg.eof {
        finished = true
        break
      }
      if received != FFmpeg.again {
        // A frame that failed to decode (reported late with frame threading): skip it.
        skippedPackets += 1
        continue
      }
      // The decoder wants input.
      if inputEnded {
        finished = true
        break
      }
      let read = av_read_frame(formatContext, packet)
      if read < 0 {
        if read == FFmpeg.eof || read == lrj_averror(EIO) || consecutiveReadErrors > 1000 {
          inputEnded = true
          _ = avcodec_send_packet(codecContext, nil)  // enter draining mode
        } else {
          skippedPackets += 1
          consecutiveReadErrors += 1
        }
        continue
      }
      consecutiveReadErrors = 0
      defer { av_packet_unref(packet) }
      guard packet.pointee.stream_index == streamIndex else { continue }
      if lrj_packet_is_corrupt(packet) != 0 {
        skippedPackets += 1
        continue
      }
      let sent = avcodec_send_packet(codecContext, packet)
      if sent < 0 && sent != FFmpeg.again {
        skippedPackets += 1
        logger.debug("skipped a packet", metadata: ["file": "\(path)", "cause": "\(FFmpeg.describe(sent))"])
      }
    }
    return nil
  }

  /// Positions the decoder so that the next frame returned is the first one at or after
  /// `seconds` (within half a frame), measured like `VideoFrame.time`.
  public func seek(to seconds: Double) throws(MediaError) {
    guard let formatContext, let codecContext else { return }
    guard seconds.isFinite else {
      throw MediaError(.invalidArgument, path: path, "cannot seek to \(seconds) s")
    }
    let base = startPTS ?? 0
    let target = base + Int64((max(0, seconds) / timeBase.doubleValue).rounded(.down))
    let status = av_seek_frame(formatContext, streamIndex, target, AVSEEK_FLAG_BACKWARD)
    guard status >= 0 else {
      throw MediaError(.decodeFailed, path: path, FFmpeg.failure("av_seek_frame", status))
    }
    avcodec_flush_buffers(codecContext)
    inputEnded = false
    finished = false
    indexFromTimestamps = true
    lastTime = -Double.infinity
    let halfFrame = info.frameRate > 0 ? 0.5 / info.frameRate : 0.001
    discardBefore = seconds - halfFrame
  }

  /// The times of the keyframes the container's index lists (an MP4's sync samples), measured like
  /// `VideoFrame.time`, in order; empty when the container has no index.
  public var indexedKeyframeTimes: [Double] {
    guard let formatContext else { return [] }
    let stream = formatContext.pointee.streams[Int(streamIndex)]!
    let base = startPTS ?? 0
    var times: [Double] = []
    for i in 0..<avformat_index_get_entries_count(stream) {
      guard let entry = avformat_index_get_entry(stream, i), entry.pointee.flags & AVINDEX_KEYFRAME != 0 else { continue }
      times.append(Double(entry.pointee.timestamp - base) * timeBase.doubleValue)
    }
    return times.sorted()
  }

  /// Decodes the frames with `from ≤ time < to`, seeking first, and passes each to `body`.
  public func decodeSpan(from: Double, to: Double, _ body: (VideoFrame) throws -> Void) throws {
    try seek(to: from)
    while let frame = try nextFrame() {
      if frame.time >= to { break }
      try body(frame)
    }
  }

  /// The demuxer and the video stream, for stream copies (`SpanCopier`).
  var formatContextForCopy: UnsafeMutablePointer<AVFormatContext>? { owned.formatContext }
  var streamForCopy: UnsafeMutablePointer<AVStream>? {
    owned.formatContext.flatMap { $0.pointee.streams[Int(streamIndex)] }
  }

  // MARK: - Frames

  /// Turns a decoded AVFrame into a `VideoFrame`, or `nil` when it is to be dropped.
  private func accept(_ frame: UnsafeMutablePointer<AVFrame>, convert wanted: (Int) -> Bool) throws(MediaError)
    -> (index: Int, time: Double, image: FrameImage?)?
  {
    let damaged = lrj_frame_is_corrupt(frame) != 0 || frame.pointee.decode_error_flags != 0
    var pts = frame.pointee.best_effort_timestamp
    if pts == FFmpeg.noPTS { pts = frame.pointee.pts }
    var time: Double
    if pts == FFmpeg.noPTS {
      let step = info.frameRate > 0 ? 1 / info.frameRate : 0.04
      time = lastTime.isFinite ? lastTime + step : 0
      repairedTimestamps += 1
    } else {
      if startPTS == nil { startPTS = pts }
      time = Double(pts - startPTS!) * timeBase.doubleValue
    }
    if time <= lastTime {
      time = lastTime + 0.001
      repairedTimestamps += 1
    }

    let index: Int
    if indexFromTimestamps && info.frameRate > 0 {
      index = Int((time * info.frameRate).rounded())
    } else {
      index = nextIndex
    }
    nextIndex = index + 1
    lastTime = time

    if damaged {
      skippedPackets += 1
      return nil
    }
    if time < discardBefore { return nil }
    return (index, time, wanted(index) ? try convert(frame) : nil)
  }

  private func convert(_ frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> FrameImage {
    let source = PixelSize(width: Int(frame.pointee.width), height: Int(frame.pointee.height))
    let sourceFormat = AVPixelFormat(rawValue: frame.pointee.format)
    let is420 = sourceFormat == AV_PIX_FMT_YUV420P || sourceFormat == AV_PIX_FMT_YUVJ420P
    if is420 && format.layout == .yuv420 && outputSize == source {
      return .yuv(PlaneCopy.copy420(frame, size: source))
    }
    let factor = source.width / outputSize.width
    if is420 && format.layout == .yuv444 && factor >= 2 && factor % 2 == 0 && outputSize.width * factor == source.width
      && outputSize.height * factor == source.height
    {
      return .yuv(PlaneCopy.downscale420(frame, factor: factor, output: outputSize))
    }
    return try scale(frame, from: source, sourceFormat: sourceFormat)
  }

  private func scale(_ frame: UnsafeMutablePointer<AVFrame>, from source: PixelSize, sourceFormat: AVPixelFormat)
    throws(MediaError) -> FrameImage
  {
    let (target, planes) = Self.destination(for: format.layout, size: outputSize)
    owned.scaler = sws_getCachedContext(
      owned.scaler, Int32(source.width), Int32(source.height), sourceFormat,
      Int32(outputSize.width), Int32(outputSize.height), target,
      Self.swsFlags(format.scaling), nil, nil, nil)
    guard let scaler = owned.scaler else {
      throw MediaError(.decodeFailed, path: path, "sws_getCachedContext failed for \(source) → \(outputSize)")
    }
    Self.setColourDetails(scaler, frame: frame, sourceFormat: sourceFormat)
    var buffers = PlaneBuffers(shapes: planes.map { .init(rowBytes: $0.width * $0.channels, rows: $0.height) })
    let strides = buffers.strides
    let status = PlaneCopy.withSourcePlanes(frame) { sourceData, sourceStrides in
      buffers.withPointers { destinations in
        sws_scale(scaler, sourceData, sourceStrides, 0, Int32(source.height), destinations, strides)
      }
    }
    guard status > 0 else {
      throw MediaError(.decodeFailed, path: path, FFmpeg.failure("sws_scale", status))
    }
    let size = outputSize
    let planeData = buffers.planes
    switch format.layout {
    case .rgb:
      return .rgb(RGBImage(width: size.width, height: size.height, pixels: planeData[0]))
    case .gray:
      return .gray(GrayImage(width: size.width, height: size.height, pixels: planeData[0]))
    case .yuv444, .yuv420:
      let chroma = planes[1]
      return .yuv(
        YUVImage(
          luma: GrayImage(width: size.width, height: size.height, pixels: planeData[0]),
          cb: GrayImage(width: chroma.width, height: chroma.height, pixels: planeData[1]),
          cr: GrayImage(width: chroma.width, height: chroma.height, pixels: planeData[2])))
    }
  }

  private struct PlaneShape {
    var width: Int
    var height: Int
    var channels: Int
  }

  private static func destination(for layout: PixelLayout, size: PixelSize) -> (AVPixelFormat, [PlaneShape]) {
    let w = size.width
    let h = size.height
    switch layout {
    case .rgb: return (AV_PIX_FMT_RGB24, [PlaneShape(width: w, height: h, channels: 3)])
    case .gray: return (AV_PIX_FMT_GRAY8, [PlaneShape(width: w, height: h, channels: 1)])
    case .yuv444:
      return (AV_PIX_FMT_YUV444P, Array(repeating: PlaneShape(width: w, height: h, channels: 1), count: 3))
    case .yuv420:
      let chroma = PlaneShape(width: (w + 1) / 2, height: (h + 1) / 2, channels: 1)
      return (AV_PIX_FMT_YUV420P, [PlaneShape(width: w, height: h, channels: 1), chroma, chroma])
    }
  }

  static func swsFlags(_ scaling: Scaling) -> Int32 {
    switch scaling {
    case .fastBilinear: SWS_FAST_BILINEAR
    case .bilinear: SWS_BILINEAR
    case .bicubic: SWS_BICUBIC
    case .area: SWS_AREA
    }
  }

  /// Uses the frame's own colour matrix and range (BT.601 when unspecified, as FFmpeg does).
  static func setColourDetails(_ scaler: OpaquePointer, frame: UnsafeMutablePointer<AVFrame>,
                               sourceFormat: AVPixelFormat) {
    let space = frame.pointee.colorspace
    let matrix = space == AVCOL_SPC_UNSPECIFIED || space == AVCOL_SPC_RGB ? SWS_CS_DEFAULT : Int32(space.rawValue)
    let coefficients = sws_getCoefficients(matrix)
    let fullRange: Int32 =
      frame.pointee.color_range == AVCOL_RANGE_JPEG || sourceFormat == AV_PIX_FMT_YUVJ420P
        || sourceFormat == AV_PIX_FMT_YUVJ422P || sourceFormat == AV_PIX_FMT_YUVJ444P ? 1 : 0
    _ = sws_setColorspaceDetails(scaler, coefficients, fullRange, coefficients, fullRange, 0, 1 << 16, 1 << 16)
  }

  // MARK: - Input checks

  /// Checks that `path` is a readable, non-empty regular file and returns its size.
  static func checkReadableFile(_ path: String) throws(MediaError) -> Int64 {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw MediaError(.unreadable, path: path, "no such file")
    }
    if isDirectory.boolValue { throw MediaError(.unreadable, path: path, "is a directory, not a video file") }
    if let kind = FileInput.nonRegularKind(path: path) {
      throw MediaError(.unreadable, path: path, "is \(kind), not a regular file; lrj reads exhibits from regular files only")
    }
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw MediaError(.unreadable, path: path, "cannot be read (permission denied)")
    }
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    if size == 0 { throw MediaError(.unreadable, path: path, "empty file (0 bytes)") }
    return size
  }

  /// Refuses a file whose packet index (MP4, MOV, AVI…) refers to bytes past its end: a copy
  /// that was cut short.
  static func checkNotTruncated(_ stream: UnsafeMutablePointer<AVStream>, fileSize: Int64, path: String)
    throws(MediaError)
  {
    let count = avformat_index_get_entries_count(stream)
    guard count > 0 else { return }
    var missing = 0
    var furthest: Int64 = 0
    for i in 0..<count {
      guard let entry = avformat_index_get_entry(stream, i) else { continue }
      let end = entry.pointee.pos + Int64(entry.pointee.size)
      furthest = max(furthest, end)
      if end > fileSize { missing += 1 }
    }
    guard missing > 0 else { return }
    let percent = max(1, missing * 100 / Int(count))
    throw MediaError(
      .truncated, path: path,
      "truncated: the file has \(fileSize) bytes but its index refers to data up to byte \(furthest) "
        + "(\(missing) of \(count) video packets, about \(percent) %, are missing)")
  }

  static func metadata(_ dictionary: OpaquePointer?, _ key: String) -> String? {
    guard let dictionary, let entry = av_dict_get(dictionary, key, nil, 0), let value = entry.pointee.value else {
      return nil
    }
    return String(cString: value)
  }
}

/// Owns the FFmpeg objects of one `Decoder` and frees each exactly once.
private final class DecodingResources {
  var formatContext: UnsafeMutablePointer<AVFormatContext>?
  var codecContext: UnsafeMutablePointer<AVCodecContext>?
  var packet: UnsafeMutablePointer<AVPacket>?
  var frame: UnsafeMutablePointer<AVFrame>?
  var scaler: OpaquePointer?
  var io: UnsafeMutablePointer<AVIOContext>?
  var input: FileInput?

  deinit {
    sws_freeContext(scaler)
    av_frame_free(&frame)
    av_packet_free(&packet)
    avcodec_free_context(&codecContext)
    avformat_close_input(&formatContext)  // leaves a custom AVIO context alone
    FileInput.freeContext(&io)
  }
}
