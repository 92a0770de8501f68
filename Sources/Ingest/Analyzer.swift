import Crypto
import Foundation
import Index
import Logging
import Media

/// How footage is analysed.
public struct AnalysisSettings: Sendable {
  /// Width of the background model, blob finding and colours (DESIGN.md §6: at most 640); the
  /// picture is reduced by a whole factor to about this width. Thumbnails come from the source.
  public var modelWidth = 320
  /// Analysed frames per second (the others are decoded but not looked at); path samples come at
  /// this rate, at least 4 Hz.
  public var analysisRate = 8.0
  /// With a detector, where nothing has moved for a second, only one analysed frame in this many
  /// is looked at until something moves (a mover is noticed within this many analysis steps).
  public var idleStrideFactor = 3
  /// Seconds of footage whose per-pixel median starts the background.
  public var bootstrapSeconds = 4.0
  /// A span that starts inside a file (a worker's, DESIGN.md §13) starts its background from the
  /// frames the whole file's analysis looks at over this many seconds before it (their median, then
  /// learnt from in order): objects already in the picture, even slow ones, are then seen as they
  /// are when the whole file is analysed.
  public var spanPrerollSeconds = 12.0
  /// Over this many seconds at the start of such a span, the detector looks at every analysed frame and
  /// a detection `spanStartTrackScore` confident (rather than the tracker's usual 0.7) starts a track:
  /// what already stands still there (a parked truck, cars at a red light) is in the preroll's
  /// background and would otherwise be taken up only when it moves, while the span before follows it
  /// through their overlap. Such a piece that does not move is kept only if it joins the span before's
  /// (`Spans.join`). Below 0.6, the tracker's confident score, the value changes nothing.
  public var spanStartSeconds = 1.0
  public var spanStartTrackScore = 0.6
  /// Tracks shorter than this are dropped.
  public var minimumTrackSeconds = 0.5
  /// Blobs smaller than this fraction of the picture are ignored.
  public var minimumBlobFraction = 0.0006
  /// Decoding threads; 0 leaves one core to the analysis (at least one thread).
  public var threads = 0
  /// The detector's model (YOLOX-nano); nil finds objects by motion and classes them by geometry only.
  public var classifierModel: ClassifierModel?
  /// The runtime to run the detector on; nil takes OpenVINO when `openVINOFolder` is given and
  /// loads, else OpenCV DNN.
  public var detectorRuntime: DetectorRuntime?
  /// The folder of OpenVINO's `libopenvino_c.so` (see `OpenVINORuntime.locate`).
  public var openVINOFolder: String?
  /// The detector's inference threads (OpenVINO; OpenCV DNN runs on the analysis thread).
  public var detectorThreads = 2
  /// Longer side of the network input for a whole frame (a multiple of 32).
  public var detectorInputSize = 416
  /// Side of the network input of a motion-centred crop (a multiple of 32): the crop covers that
  /// many source pixels, or more around a larger object.
  public var cropInputSize = 256
  /// Crops per analysed frame at most (0: whole frames only).
  public var maximumCrops = 4
  /// Seconds between two analysed frames with crops (small movers move little in pixels: the
  /// tracker follows them between two looks).
  public var cropInterval = 0.0
  /// An object shorter than this many network input pixels on the whole frame is looked at again
  /// on a crop at source resolution.
  public var smallObjectHeight = 48.0
  /// Tracking and fusion (durations in seconds).
  var fusion = FusionTracker.Settings()
  /// Seconds a lost detector track is kept (identity through occlusions and stops).
  public var lostTrackSeconds: Double {
    get { fusion.lostSeconds }
    set { fusion.lostSeconds = newValue }
  }
  /// Seconds a blob no detection explains must last to become a motion-only track.
  public var fusionSeconds: Double {
    get { fusion.fusionSeconds }
    set { fusion.fusionSeconds = newValue }
  }

  public init() {}
}

/// Progress of an analysis, for a progress bar.
public struct AnalysisProgress: Sendable {
  public var frames: Int
  /// Expected frames, when the container states the duration.
  public var expectedFrames: Int?
  public var elapsed: Double
}

/// What the analysis of one file produced.
struct AnalysisResult {
  var info: VideoInfo
  /// The runtime the detector ran on (nil without a model).
  var runtime: DetectorRuntime?
  /// Analysed frames the detector ran on, and crops it looked at.
  var detectorFrames = 0
  var detectorCrops = 0
  /// Tracks found by motion alone (classes from geometry).
  var motionOnlyTracks = 0
  var sha256: String
  var frames: Int
  /// Frames from the window's `ownFrom` on (all of them without a window).
  var ownFrames: Int
  var firstTime: Double
  var lastTime: Double
  var skippedPackets: Int
  var tracks: [DescribedTrack]
}

/// Hashes a file from the blocks FFmpeg reads, in order, and reads only what it skipped.
final class ExhibitHasher {
  private var hasher = SHA256()
  private(set) var hashedUpTo: Int64 = 0

  /// Feeds the part of a block that extends the hashed prefix.
  func observe(offset: Int64, bytes: UnsafeRawBufferPointer) {
    let end = offset + Int64(bytes.count)
    guard offset <= hashedUpTo, end > hashedUpTo else { return }
    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[Int(hashedUpTo - offset)...]))
    hashedUpTo = end
  }

  /// Reads what FFmpeg did not (often the index at the end of an MP4) and returns the hex digest.
  func finish(path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(hashedUpTo))
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      hashedUpTo += Int64(chunk.count)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }
}

/// One analysed frame, made by the decoding thread: the reduced picture the analysis works on and
/// the source picture thumbnails are cut from.
struct AnalysedFrame: Sendable {
  var index: Int
  var time: Double
  var model: YUVImage
  var source: YUVImage?
}

/// A part of a file's time line, in seconds from its first frame: `from ≤ time < to`.
///
/// A span that overlaps the one before it owns only the frames from `ownFrom` on: the frames of
/// consecutive spans' own parts add up to the file's.
public struct AnalysisWindow: Sendable, Hashable, Codable {
  public var from: Double
  public var to: Double
  /// Where the frames this window counts as its own begin (`from` unless it overlaps the window before).
  public var ownFrom: Double

  public init(from: Double, to: Double, ownFrom: Double? = nil) {
    self.from = from
    self.to = to
    self.ownFrom = ownFrom ?? from
  }
}

/// What the decoding thread tells the analysis, in order.
enum DecodingMessage: Sendable {
  case opened(VideoInfo, stride: Int, factor: Int)
  /// Frames before a span's window, those the whole file's analysis looks at: its first background.
  case preroll([YUVImage])
  case frame(AnalysedFrame)
  case finished(frames: Int, ownFrames: Int, firstTime: Double, lastTime: Double, skippedPackets: Int, sha256: String)
  case failed(MediaError)
}

/// Finds, follows and describes every moving object of one video file.
///
/// A decoding thread reads the file (hashing it in the same pass), decodes every frame and reduces
/// the analysed ones; the calling thread models the background, finds blobs, tracks and
/// describes. A bounded queue between them keeps memory flat whatever the footage's length.
///
/// With a classifier model, the calling thread also keeps a few crops of each confirmed track
/// (when confirmed, at its largest, and every two seconds) and, when a track ends and is kept,
/// runs the CNN on them, on the same thread: no thread is added, and the network is never shared.
struct Analyzer {
  let settings: AnalysisSettings
  let logger = Logger(label: "lrj.ingest")
  private let namer = ColourNamer()

  init(settings: AnalysisSettings) {
    self.settings = settings
  }

  /// Starts the decoding thread; its messages arrive through the returned queue.
  /// Decoding threads by default: one core is left to the analysis thread (its own, beside the
  /// decoder's), at least one. Measured on 2 cores: one decoding thread beside the analysis reads
  /// busy 720p 10 % and still 720p 12 % faster than two.
  static var decodingThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount - 1) }

  /// Where `schedule` says nothing moves, only one analysed frame in `idleStrideFactor` is reduced
  /// and sent.
  /// With `window`, only the frames with `from ≤ time < to` are decoded (times stay those of the whole
  /// file); the file is still hashed whole.
  static func startDecoding(
    path: String, settings: AnalysisSettings, cancelled: Flag, schedule: FrameSchedule = FrameSchedule(),
    window: AnalysisWindow? = nil
  ) -> BoundedQueue<DecodingMessage> {
    let queue = BoundedQueue<DecodingMessage>(capacity: 8)
    let thread = Thread {
      do {
        let hasher = ExhibitHasher()
        let decoder = try Decoder(
          path: path, format: FrameFormat(layout: .yuv420), threads: settings.threads > 0 ? settings.threads : Self.decodingThreads, fast: true,
          onRead: { hasher.observe(offset: $0, bytes: $1) })
        let info = decoder.info
        let frameRate = info.frameRate > 0 ? info.frameRate : 25
        let stride = max(1, Int((frameRate / settings.analysisRate).rounded()))
        // About `modelWidth` wide, but never under the decoder's minimum on either side (a 4000x16
        // picture is not reduced to 307x1).
        let wanted = max(1, Int((Double(info.width) / Double(settings.modelWidth)).rounded()))
        let factor = max(1, min(wanted, min(info.width, info.height) / Decoder.minimumSide))
        // A ruling of the analysis applies two idle strides on: the decoder runs that far ahead at most.
        schedule.begin(lead: 2 * stride * settings.idleStrideFactor)
        queue.put(.opened(info, stride: stride, factor: factor))
        if let window, window.from > 0 {
          // The first frame fixes the time origin, so that a span's times are those of the whole file.
          _ = try decoder.skipFrame()
          // The pre-roll's frames that the whole file's analysis looks at (busy footage's rate).
          var preroll: [YUVImage] = []
          try decoder.seek(to: max(0, window.from - settings.spanPrerollSeconds))
          while !cancelled.isSet, let frame = try decoder.nextFrame(converting: { $0 % stride == 0 }),
            frame.time < window.from
          {
            if case .yuv(let picture)? = frame.image { preroll.append(picture.boxDownscaled(by: factor)) }
          }
          if !preroll.isEmpty { queue.put(.preroll(preroll)) }
          try decoder.seek(to: window.from)
        }
        let end = window?.to ?? .infinity
        let ownFrom = window?.ownFrom ?? -Double.infinity
        var frames = 0
        var ownFrames = 0
        // Damaged packets are counted from the first frame of the span's own part on: those before it
        // are the span before's (it reads up to that frame), so the spans' counts add up to the file's.
        var skippedBeforeOwn: Int? = (window?.from ?? 0) > 0 ? nil : 0
        var first: Double?
        var last = 0.0
        while !cancelled.isSet {
          // The frames looked at are chosen by their index in the file, so a span looks at the very
          // frames the whole file's analysis looks at (and at the next one when damage hid the first).
          let waited = first == nil && frames >= stride
          let wanted = { (index: Int) in
            index % (schedule.isIdle(at: index) ? stride * settings.idleStrideFactor : stride) == 0 || waited
          }
          guard let frame = try decoder.nextFrame(converting: wanted), frame.time < end else { break }
          if let image = frame.image {
            guard case .yuv(let picture) = image else { break }
            schedule.sent()
            queue.put(.frame(AnalysedFrame(index: frame.index, time: frame.time,
                                           model: picture.boxDownscaled(by: factor), source: picture)))
            first = first ?? frame.time
          }
          last = frame.time
          frames += 1
          if last >= ownFrom {
            ownFrames += 1
            skippedBeforeOwn = skippedBeforeOwn ?? decoder.skippedPackets
          }
        }
        guard frames > 0 else { throw MediaError(.decodeFailed, path: path, "no frame could be decoded") }
        let sha256: String
        do { sha256 = try hasher.finish(path: path) } catch {
          throw MediaError(.unreadable, path: path, "cannot be read to the end: \(error.localizedDescription)")
        }
        queue.put(.finished(frames: frames, ownFrames: ownFrames, firstTime: first ?? 0, lastTime: last,
                            skippedPackets: decoder.skippedPackets - (skippedBeforeOwn ?? decoder.skippedPackets), sha256: sha256))
      } catch let error as MediaError {
        queue.put(.failed(error))
      } catch {
        queue.put(.failed(MediaError(.decodeFailed, path: path, String(describing: error))))
      }
    }
    thread.start()
    return queue
  }

  func analyse(path: String, window: AnalysisWindow? = nil, progress: ((AnalysisProgress) -> Void)? = nil) throws -> AnalysisResult {
    let cancelled = Flag()
    let schedule = FrameSchedule()
    var idle = false
    let queue = Self.startDecoding(path: path, settings: settings, cancelled: cancelled, schedule: schedule, window: window)
    // On any exit, stop the decoding thread and let it finish.
    var done = false
    defer {
      if !done {
        cancelled.set()
        schedule.close()
        while true {
          switch queue.take() {
          case .finished, .failed: break
          default: continue
          }
          break
        }
      }
    }
    guard case .opened(let info, let stride, let factor) = queue.take() else {
      done = true
      if case .failed(let error) = queue.lastTaken { throw error }
      throw MediaError(.decodeFailed, path: path, "the decoder stopped before opening the file")
    }
    let frameRate = info.frameRate > 0 ? info.frameRate : 25
    let model = PixelSize(width: info.width / factor, height: info.height / factor)
    let analysedRate = frameRate / Double(stride)
    let describer = Describer(
      sourceWidth: info.width, sourceHeight: info.height,
      scaleX: Double(factor), scaleY: Double(factor), minimumDuration: settings.minimumTrackSeconds)
    let minimumArea = max(4, Int(settings.minimumBlobFraction * Double(model.width * model.height)))
    let expected = info.duration.map { Int($0 * frameRate) }
    let started = Date()
    // The network is made, used and freed on this thread.
    let detector = try settings.classifierModel.map { try Self.makeDetector(model: $0, settings: settings) }
    var detectorFrames = 0
    var detectorCrops = 0
    var lastCropTime = -Double.infinity
    var quietSince: Double?
    var lastProgress = -1
    /// Crops that looked at each motion-only track without finding it, and when last.
    var cropLooks: [Int: (count: Int, last: Double)] = [:]
    var motionOnlyTracks = 0

    var background: BackgroundModel?
    var tracker = Tracker(frame: model)
    var fusion = FusionTracker(settings: settings.fusion)
    var evidence: [Int: TrackEvidence] = [:]
    var described: [DescribedTrack] = []
    var bootstrap: [(frame: AnalysedFrame, model: ModelFrame)] = []
    let bootstrapCount = max(5, Int(settings.bootstrapSeconds * analysedRate))
    // Source pictures kept in the bootstrap buffer, for thumbnails: at most about 150 MB.
    let sourceBytes = info.width * info.height * 3 / 2
    let bootstrapSources = max(1, 150_000_000 / max(1, sourceBytes))

    var firstAnalysedTime: Double?
    func finish(_ ended: [TrackState], atEnd: Bool = false) throws {
      for var state in ended {
        let atStart = state.observations.first.map({ $0.time <= (firstAnalysedTime ?? 0) + 1e-6 }) == true
        if atEnd || atStart { state.cutByFootage = true }
        if let window, (atStart && window.from > 0) || (atEnd && window.to.isFinite) { state.cutBySpan = true }
        let gathered = evidence[state.id] ?? TrackEvidence()
        if let track = describer.describe(state, evidence: gathered) {
          if detector != nil && state.detectionHits == 0 { motionOnlyTracks += 1 }
          described.append(track)
        }
        evidence[state.id] = nil
      }
    }

    /// Whether `time` is in the first seconds of a span that starts inside the file.
    func atSpanStart(_ time: Double) -> Bool {
      guard let window, window.from > 0 else { return false }
      return time < window.from + settings.spanStartSeconds
    }

    /// Detector-first: the detector on the whole frame (and crops around small movers) when
    /// something moves or a track needs it, fused with the blobs.
    func detect(_ frame: AnalysedFrame, blobs: [Blob], detector: any Detector) throws -> [FusionTracker.Observed]? {
      guard let source = frame.source, !blobs.isEmpty || fusion.needsDetector || atSpanStart(frame.time) else { return nil }
      let full = NetworkInput.make(
        from: source, x: 0, y: 0, width: source.width, height: source.height, longSide: settings.detectorInputSize)
      var found = try detector.detect(full, minimumScore: settings.fusion.lowScore)
      detectorFrames += 1
      let scale = Double(factor)
      func sourceBox(_ r: Rect) -> Rect { Rect(x: r.x * scale, y: r.y * scale, width: r.width * scale, height: r.height * scale) }
      if settings.maximumCrops > 0 && full.scale > 1.3 && frame.time - lastCropTime >= settings.cropInterval - 1e-3 {
        lastCropTime = frame.time
        // Small movers: tracks the whole frame did not find, then blobs nothing explains, largest first.
        let confident = found.filter { $0.score >= settings.fusion.lowScore && COCOClass.objectClass($0.cocoClass) != nil }
        let live = fusion.tracks
        let predicted = fusion.predictedBoxes(at: frame.time).map(sourceBox)
        cropLooks = cropLooks.filter { id, _ in live.contains { $0.id == id } }
        // A motion-only track the crops have looked at twice in vain is looked at again once a second.
        let missed = live.indices.filter { t in
          guard !confident.contains(where: { $0.box.iou(predicted[t]) > 0.3 }) else { return false }
          guard live[t].origin == .motion, let look = cropLooks[live[t].id] else { return true }
          return look.count < 2 || frame.time - look.last >= 1
        }
        let missedTracks = missed.map { predicted[$0] }
        let loneBlobs = blobs.map { sourceBox($0.box) }
          .filter { b in
            let covered = (confident.map(\.box) + predicted).reduce(0.0) { $0 + $1.intersectionArea(b) }
            return covered < 0.5 * b.area
          }
          .sorted { $0.area > $1.area }
        let regions = DetectionPlanning.crops(
          candidates: missedTracks + loneBlobs, pictureWidth: source.width, pictureHeight: source.height,
          fullFrameScale: full.scale, smallHeight: settings.smallObjectHeight, cropSide: settings.cropInputSize,
          maximum: settings.maximumCrops)
        for region in regions {
          let input = NetworkInput.make(
            from: source, x: region.x, y: region.y, width: region.side, height: region.side,
            longSide: settings.cropInputSize)
          let inCrop = try detector.detect(input, minimumScore: settings.fusion.lowScore)
          found += DetectionPlanning.insideCrop(inCrop, region: region, pictureWidth: source.width,
                                                pictureHeight: source.height)
          detectorCrops += 1
        }
        for t in missed where live[t].origin == .motion {
          let box = predicted[t]
          let looked = regions.contains { r in
            box.centreX >= Double(r.x) && box.centreX <= Double(r.x + r.side) && box.centreY >= Double(r.y)
              && box.centreY <= Double(r.y + r.side)
          }
          if looked { cropLooks[live[t].id] = ((cropLooks[live[t].id]?.count ?? 0) + 1, frame.time) }
        }
      }
      return DetectionPlanning.observations(found, pictureWidth: source.width, pictureHeight: source.height, factor: scale)
    }

    func process(_ frame: AnalysedFrame, _ modelFrame: ModelFrame, with model: inout BackgroundModel) throws {
      firstAnalysedTime = firstAnalysedTime ?? frame.time
      let raw = model.apply(modelFrame)
      let cleaned = BlobFinder.clean(raw)
      var blobs = BlobFinder.blobs(in: cleaned, minimumArea: minimumArea)
      blobs.removeAll { blob in
        guard model.isGhost(blob.box, mask: cleaned, frame: modelFrame) else { return false }
        model.absorb(blob.box, mask: cleaned, frame: modelFrame)
        return true
      }
      if let detector {
        let observed = try detect(frame, blobs: blobs, detector: detector)
        // LRJ_LOG=trace: what each analysed frame gave, to compare two analyses of the same frames
        // (a span's and the whole file's) and see where they part.
        if logger.logLevel <= .trace {
          logger.trace("""
            analysed \(frame.index) fg \(raw.bits.reduce(0) { $0 + Int($1) }) blobs \(blobs.count) \
            area \(blobs.reduce(0) { $0 + $1.area }) detections \(observed?.count ?? -1) \
            tracks \(fusion.tracks.count) confirmed \(fusion.tracks.filter(\.confirmed).count) idle \(idle)
            """)
        }
        try finish(fusion.step(detections: observed, blobs: blobs, frameIndex: frame.index, time: frame.time,
                               newTrackScore: atSpanStart(frame.time) ? settings.spanStartTrackScore : nil))
        // Nothing moving and nothing followed for a second: the decoder sends fewer frames until
        // something moves again (footage where nothing happens is read at close to decoding speed).
        if blobs.isEmpty && fusion.tracks.isEmpty {
          quietSince = quietSince ?? frame.time
          if frame.time - (quietSince ?? frame.time) >= 1 { idle = true }
        } else {
          quietSince = nil
          idle = false
        }
        for track in fusion.tracks where track.observations.last?.frameIndex == frame.index {
          guard let observation = track.observations.last, !observation.grouped else { continue }
          var gathered = evidence[track.id] ?? TrackEvidence()
          if track.hits % 2 == 0 || track.hits < 4 {
            sampleObjectColours(modelFrame, mask: raw, box: observation.box, into: &gathered.colourCounts)
          }
          if let source = frame.source {
            keepBestView(source, time: frame.time, box: observation.box, factor: factor, model: model.width,
                         modelHeight: model.height, into: &gathered)
          }
          evidence[track.id] = gathered
        }
        return
      }
      try finish(tracker.step(blobs: blobs, frameIndex: frame.index, time: frame.time))
      for track in tracker.active where track.observations.last?.frameIndex == frame.index {
        guard let observation = track.observations.last, !observation.grouped else { continue }
        var gathered = evidence[track.id] ?? TrackEvidence()
        if track.hits % 2 == 0 {
          sampleColours(modelFrame, mask: raw, box: observation.box, into: &gathered.colourCounts)
        }
        if let source = frame.source {
          keepBestView(source, time: frame.time, box: observation.box, factor: factor, model: model.width,
                       modelHeight: model.height, into: &gathered)
        }
        evidence[track.id] = gathered
      }
    }

    var outcome: (frames: Int, ownFrames: Int, firstTime: Double, lastTime: Double, skippedPackets: Int, sha256: String)?
    while outcome == nil {
      switch queue.take() {
      case .opened:
        continue
      case .preroll(let pictures):
        // Started from their median, then taught them in order, as the whole file's analysis would
        // have been by the span's start: what stands still is absorbed, noisy pixels widened.
        let frames = pictures.map {
          ModelFrame(width: $0.width, height: $0.height, y: $0.luma.pixels, cb: $0.cb.pixels, cr: $0.cr.pixels)
        }
        var model = BackgroundModel(bootstrap: frames)
        for frame in frames { _ = model.apply(frame) }
        background = model
      case .failed(let error):
        done = true
        throw error
      case .finished(let frames, let ownFrames, let firstTime, let lastTime, let skippedPackets, let sha256):
        done = true
        outcome = (frames, ownFrames, firstTime, lastTime, skippedPackets, sha256)
      case .frame(var frame):
        let modelFrame = ModelFrame(
          width: frame.model.width, height: frame.model.height, y: frame.model.luma.pixels,
          cb: frame.model.cb.pixels, cr: frame.model.cr.pixels)
        if var current = background {
          try process(frame, modelFrame, with: &current)
          background = current
        } else {
          if bootstrap.count >= bootstrapSources { frame.source = nil }
          bootstrap.append((frame, modelFrame))
          if bootstrap.count >= bootstrapCount {
            var current = BackgroundModel(bootstrap: bootstrap.map(\.model))
            for (buffered, bufferedModel) in bootstrap { try process(buffered, bufferedModel, with: &current) }
            bootstrap = []
            background = current
          }
        }
        schedule.analysed(frame.index, idle: idle)
        if frame.index / 50 != lastProgress {
          lastProgress = frame.index / 50
          progress?(AnalysisProgress(frames: frame.index + 1, expectedFrames: expected,
                                     elapsed: Date().timeIntervalSince(started)))
        }
      }
    }
    if !bootstrap.isEmpty {
      // Footage shorter than the bootstrap: its own median is the background.
      var current = BackgroundModel(bootstrap: bootstrap.map(\.model))
      for (buffered, bufferedModel) in bootstrap { try process(buffered, bufferedModel, with: &current) }
    }
    try finish(tracker.finish())
    try finish(fusion.finish(), atEnd: true)
    let result = outcome!
    progress?(AnalysisProgress(frames: result.frames, expectedFrames: expected, elapsed: Date().timeIntervalSince(started)))
    described.sort { ($0.boxes.first?.frameIndex ?? 0) < ($1.boxes.first?.frameIndex ?? 0) }
    if let detector {
      logger.info(
        "detected",
        metadata: [
          "file": "\(path)", "runtime": "\(detector.runtime.description)", "frames": "\(detectorFrames)",
          "crops": "\(detectorCrops)", "tracks": "\(described.count)", "motionOnly": "\(motionOnlyTracks)",
        ])
    }
    return AnalysisResult(
      info: info, runtime: detector?.runtime, detectorFrames: detectorFrames, detectorCrops: detectorCrops,
      motionOnlyTracks: motionOnlyTracks, sha256: result.sha256, frames: result.frames, ownFrames: result.ownFrames,
      firstTime: result.firstTime, lastTime: result.lastTime, skippedPackets: result.skippedPackets, tracks: described)
  }

  /// The detector for `model` on the runtime `settings` ask for: OpenVINO when its folder is given
  /// and it loads (else OpenCV DNN, with a warning in the log), or the one named.
  static func makeDetector(model: ClassifierModel, settings: AnalysisSettings) throws -> any Detector {
    let logger = Logger(label: "lrj.ingest")
    switch settings.detectorRuntime {
    case .openCV?:
      return try OpenCVDetector(model: model, threads: 1)
    case .openVINO?:
      return try OpenVINODetector(model: model, folder: settings.openVINOFolder ?? "", threads: settings.detectorThreads)
    case nil:
      if let folder = settings.openVINOFolder {
        do {
          return try OpenVINODetector(model: model, folder: folder, threads: settings.detectorThreads)
        } catch {
          // A bad model is the model's error, whatever the runtime.
          _ = try ClassifierModel.verifiedBytes(model.path)
          logger.warning("OpenVINO unusable, OpenCV DNN instead", metadata: ["cause": "\(error)"])
        }
      }
      return try OpenCVDetector(model: model, threads: 1)
    }
  }

  /// Counts the colour names of the object's own pixels inside its detection `box` (model
  /// pixels): the foreground pixels when the motion model sees enough of the object, else the
  /// middle of the box (an object standing still has become background).
  private func sampleObjectColours(_ frame: ModelFrame, mask: Mask, box: Rect, into counts: inout [Int]) {
    let x0 = max(0, Int(box.x))
    let y0 = max(0, Int(box.y))
    let x1 = min(mask.width, Int(box.maxX.rounded(.up)))
    let y1 = min(mask.height, Int(box.maxY.rounded(.up)))
    guard x0 < x1, y0 < y1 else { return }
    var foreground = 0
    for y in y0..<y1 {
      for x in x0..<x1 where mask.bits[y * mask.width + x] == 1 { foreground += 1 }
    }
    if foreground * 4 >= (x1 - x0) * (y1 - y0) {
      sampleColours(frame, mask: mask, box: box, into: &counts)
      return
    }
    let mx0 = x0 + (x1 - x0) / 4
    let mx1 = max(mx0 + 1, x1 - (x1 - x0) / 4)
    let my0 = y0 + (y1 - y0) / 6
    let my1 = max(my0 + 1, y1 - (y1 - y0) / 6)
    for y in my0..<min(my1, mask.height) {
      for x in mx0..<min(mx1, mask.width) {
        let i = y * frame.width + x
        counts[Int(namer.colourIndex(y: frame.y[i], cb: frame.cb[i], cr: frame.cr[i]))] += 1
      }
    }
  }

  /// Counts the colour names of the foreground pixels inside `box` (model pixels).
  private func sampleColours(_ frame: ModelFrame, mask: Mask, box: Rect, into counts: inout [Int]) {
    let x0 = max(0, Int(box.x))
    let y0 = max(0, Int(box.y))
    let x1 = min(mask.width, Int(box.maxX.rounded(.up)))
    let y1 = min(mask.height, Int(box.maxY.rounded(.up)))
    guard x0 < x1, y0 < y1 else { return }
    for y in y0..<y1 {
      for x in x0..<x1 where mask.bits[y * mask.width + x] == 1 {
        let i = y * frame.width + x
        counts[Int(namer.colourIndex(y: frame.y[i], cb: frame.cb[i], cr: frame.cr[i]))] += 1
      }
    }
  }

  /// A square region around `box` (model pixels) with a fifth of its longer side as margin on
  /// every side, cut from the source picture (clipped at its edges) and reduced by a whole step to
  /// between one and two times `inputSize`; with the tracked box in the crop's pixels.
  static func squareCrop(_ source: YUVImage, box: Rect, factor: Int, inputSize: Int)
    -> (picture: RGBImage, target: Rect)?
  {
    let scale = Double(factor)
    let side = max(box.width, box.height) * scale * 1.4
    let x0 = max(0, Int((box.centreX * scale - side / 2).rounded(.down)))
    let y0 = max(0, Int((box.centreY * scale - side / 2).rounded(.down)))
    let x1 = min(source.width, Int((box.centreX * scale + side / 2).rounded(.up)))
    let y1 = min(source.height, Int((box.centreY * scale + side / 2).rounded(.up)))
    guard x1 - x0 >= 8, y1 - y0 >= 8 else { return nil }
    let step = max(1, max(x1 - x0, y1 - y0) / inputSize)
    let picture = source.rgbCrop(x: x0, y: y0, width: x1 - x0, height: y1 - y0, step: step)
    let s = Double(step)
    let target = Rect(
      x: (box.x * scale - Double(x0)) / s, y: (box.y * scale - Double(y0)) / s, width: box.width * scale / s,
      height: box.height * scale / s)
    return (picture, target)
  }

  /// Keeps a crop, from the source picture, of the largest view of the object that does not
  /// touch the picture's edge (at most about 240 pixels tall).
  private func keepBestView(_ source: YUVImage, time: Double, box: Rect, factor: Int, model: Int, modelHeight: Int,
                            into evidence: inout TrackEvidence) {
    let touchesEdge = box.x < 1 || box.y < 1 || box.maxX > Double(model - 1) || box.maxY > Double(modelHeight - 1)
    let area = box.area * (touchesEdge ? 0.5 : 1)
    guard area > evidence.bestArea * 1.1 || evidence.thumbnail == nil else { return }
    let margin = 0.15
    let scale = Double(factor)
    let x0 = max(0, Int(((box.x - margin * box.width) * scale).rounded(.down)))
    let y0 = max(0, Int(((box.y - margin * box.height) * scale).rounded(.down)))
    let x1 = min(source.width, Int(((box.maxX + margin * box.width) * scale).rounded(.up)))
    let y1 = min(source.height, Int(((box.maxY + margin * box.height) * scale).rounded(.up)))
    guard x1 - x0 >= 2, y1 - y0 >= 2 else { return }
    let step = max(1, (y1 - y0) / 240)
    evidence.bestArea = area
    evidence.thumbnail = source.rgbCrop(x: x0, y: y0, width: x1 - x0, height: y1 - y0, step: step)
    evidence.thumbnailSource = ThumbnailSource(time: time, x: x0, y: y0, width: x1 - x0, height: y1 - y0, step: step)
  }
}
