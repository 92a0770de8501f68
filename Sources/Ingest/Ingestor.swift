import Foundation
import Index
import Logging
import Media

/// A failure of ingest that is not the media layer's or the store's: bad camera, date, duplicate.
public struct IngestError: Error, CustomStringConvertible, Sendable {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// What one ingested file gave: the summary `lrj ingest` prints (DESIGN.md §9, `--json` keys).
public struct IngestReport: Sendable, Codable {
  public var exhibit: String
  public var file: String
  public var sha256: String
  public var camera: String
  public var start: String
  public var frames: Int
  public var width: Int
  public var height: Int
  public var fps: Double
  public var tracks: [String: Int]
  public var seconds: Double
  public var framesPerSecond: Double
  public var skippedPackets: Int
  /// Set when the file had already been ingested (same SHA-256): nothing new was stored.
  public var alreadyIngested: Bool
  /// How objects were found and classed: `cnn` (the detector first, motion for what it misses,
  /// geometry for those) or `geometry` (motion alone, no model).
  public var classifier: String?
  /// SHA-256 of the detector's model, when it was used.
  public var modelSHA256: String?
  /// Network runs: analysed frames plus crops (kept for scripts written against earlier versions).
  public var classifiedCrops: Int?
  /// The runtime the detector ran on, with its version (e.g. `OpenVINO 2026.4.1-…`, `OpenCV DNN 4.6.0`).
  public var detectorRuntime: String?
  /// Analysed frames the detector ran on (it does not run where nothing moves), and crops around small movers.
  public var detectorFrames: Int?
  public var detectorCrops: Int?
  /// Tracks found by motion alone (no detection explained them), classed by geometry.
  public var motionOnlyTracks: Int?

  public init(
    exhibit: String, file: String, sha256: String, camera: String, start: String, frames: Int, width: Int, height: Int, fps: Double,
    tracks: [String: Int], seconds: Double, framesPerSecond: Double, skippedPackets: Int, alreadyIngested: Bool,
    classifier: String? = nil, modelSHA256: String? = nil, classifiedCrops: Int? = nil, detectorRuntime: String? = nil,
    detectorFrames: Int? = nil, detectorCrops: Int? = nil, motionOnlyTracks: Int? = nil
  ) {
    self.exhibit = exhibit
    self.file = file
    self.sha256 = sha256
    self.camera = camera
    self.start = start
    self.frames = frames
    self.width = width
    self.height = height
    self.fps = fps
    self.tracks = tracks
    self.seconds = seconds
    self.framesPerSecond = framesPerSecond
    self.skippedPackets = skippedPackets
    self.alreadyIngested = alreadyIngested
    self.classifier = classifier
    self.modelSHA256 = modelSHA256
    self.classifiedCrops = classifiedCrops
    self.detectorRuntime = detectorRuntime
    self.detectorFrames = detectorFrames
    self.detectorCrops = detectorCrops
    self.motionOnlyTracks = motionOnlyTracks
  }
}

/// Ingests exhibit files into a procedure's index: analysis, then one atomic write per file.
///
/// Nothing of a file is visible in the index until its whole analysis has succeeded: the exhibit,
/// its tracks, paths and thumbnails are written in one transaction, so an interrupted ingest
/// leaves the index as it was, and running it again ingests the file fully. A file already
/// ingested (same SHA-256) is recognised and not stored twice.
public struct Ingestor: Sendable {
  let store: IndexStore
  let settings: AnalysisSettings
  let logger = Logger(label: "lrj.ingest")

  /// Creates an ingestor writing into `store`.
  public init(store: IndexStore, settings: AnalysisSettings = AnalysisSettings()) {
    self.store = store
    self.settings = settings
  }

  /// Ingests one file.
  /// - Parameters:
  ///   - path: the exhibit file.
  ///   - camera: the camera's name (checked by the index: letters, digits, `-`, `_`, `.`, space).
  ///   - start: wall-clock time of the first frame; when nil, the container's `creation_time`
  ///     (taken as UTC) is used, and without it the ingest is refused.
  ///   - progress: called now and then with frames done.
  /// - Throws: `MediaError` for unreadable or bad footage, `IndexError` for a bad camera name or
  ///   an unwritable store, `IngestError` when no start time is known. Nothing is stored then.
  ///   - sealThumbnail: replaces each thumbnail before it is stored (see `IndexStore.ingest`).
  ///   - beforeCommit: called before the exhibit is committed, with its id, track count and SHA-256; if it
  ///     throws, nothing is stored (the caller logs the ingest there).
  ///   - staging: when given, the exhibit is stored in two steps (see `IndexStore.stageExhibit`): staged
  ///     under this operation id, then `afterStaging` (the caller logs what was stored, with its digest),
  ///     then published. If `afterStaging` throws, the staged exhibit is removed.
  public func ingest(
    path: String, camera: String, start: WallClockTime?, progress: ((AnalysisProgress) -> Void)? = nil,
    sealThumbnail: ThumbnailSealer? = nil,
    beforeCommit: ((_ exhibit: String, _ tracks: Int, _ sha256: String) throws -> Void)? = nil,
    staging: (operation: String, afterStaging: (_ digest: ExhibitDigest, _ sha256: String) throws -> Void)? = nil
  ) throws -> IngestReport {
    let started = Date()
    try IndexStore.validateCameraName(camera)
    // Refuse early what the analysis would only refuse at the end.
    let probe = try Decoder(path: path, format: FrameFormat(layout: .gray, size: PixelSize(width: 16, height: 16)))
    guard let startTime = try start ?? Self.creationTime(probe.info) else {
      throw IngestError(
        "\(path): no start time: the file has no creation_time; give the wall-clock time of its first frame with --start")
    }
    if let existing = try alreadyIngested(path: path, size: probe.info.fileSize) {
      return report(existing, path: path, seconds: Date().timeIntervalSince(started), duplicate: true)
    }

    var result = try Analyzer(settings: settings).analyse(path: path, progress: progress)
    // Thumbnails are cut again from fully decoded frames: the analysis skipped deblocking.
    result.tracks = SourceThumbnails.refine(result.tracks, path: path, threads: settings.threads)
    logger.info("analysed", metadata: ["file": "\(path)", "seconds": "\(Date().timeIntervalSince(started))"])
    let metadata = ExhibitMetadata(
      fileName: URL(fileURLWithPath: path).standardizedFileURL.path, sha256: result.sha256, sizeBytes: result.info.fileSize,
      container: result.info.container, codec: result.info.codec, width: result.info.width,
      height: result.info.height, fps: result.info.frameRate, camera: camera, start: startTime)
    let completion = ExhibitCompletion(
      duration: max(0, result.lastTime - result.firstTime), framesDecoded: result.frames,
      skippedPackets: result.skippedPackets)
    if let existing = try store.exhibit(withSHA256: result.sha256), existing.isComplete {
      return report(existing, path: path, seconds: Date().timeIntervalSince(started), duplicate: true)
    }
    let exhibit: String
    if let staging {
      let staged = try store.stageExhibit(
        metadata, tracks: result.tracks.map(\.track), completion: completion, operation: staging.operation,
        sealThumbnail: sealThumbnail)
      do {
        try staging.afterStaging(staged.digest, result.sha256)
      } catch {
        try? store.removeStagedExhibit(staged.exhibit)
        throw error
      }
      try store.publishExhibit(staged.exhibit, digest: staged.digest.digest)
      exhibit = staged.exhibit
    } else {
      (exhibit, _) = try store.ingest(
        metadata, tracks: result.tracks.map(\.track), completion: completion, sealThumbnail: sealThumbnail,
        beforeCommit: { exhibit, tracks in try beforeCommit?(exhibit, tracks.count, result.sha256) })
    }
    logger.info("ingested", metadata: ["file": "\(path)", "exhibit": "\(exhibit)", "tracks": "\(result.tracks.count)"])
    var counts: [String: Int] = [:]
    for track in result.tracks { counts[track.track.objectClass.rawValue, default: 0] += 1 }
    let seconds = Date().timeIntervalSince(started)
    return IngestReport(
      exhibit: exhibit, file: path, sha256: result.sha256, camera: camera, start: startTime.iso8601(),
      frames: result.frames, width: result.info.width, height: result.info.height, fps: result.info.frameRate,
      tracks: counts, seconds: seconds, framesPerSecond: Double(result.frames) / max(seconds, 1e-6),
      skippedPackets: result.skippedPackets, alreadyIngested: false,
      classifier: result.runtime == nil ? "geometry" : "cnn", modelSHA256: settings.classifierModel?.sha256,
      classifiedCrops: result.runtime == nil ? nil : result.detectorFrames + result.detectorCrops,
      detectorRuntime: result.runtime?.description, detectorFrames: result.runtime == nil ? nil : result.detectorFrames,
      detectorCrops: result.runtime == nil ? nil : result.detectorCrops,
      motionOnlyTracks: result.runtime == nil ? nil : result.motionOnlyTracks)
  }

  /// The container's creation time as a wall-clock time in UTC, if it has one.
  static func creationTime(_ info: VideoInfo) throws -> WallClockTime? {
    info.creationDate.map { WallClockTime(date: $0, utcOffsetSeconds: 0) }
  }

  /// An exhibit of the same size whose SHA-256 equals this file's (hashing only on a size match).
  private func alreadyIngested(path: String, size: Int64) throws -> Exhibit? {
    let candidates = try store.exhibits().filter { $0.metadata.sizeBytes == size }
    guard !candidates.isEmpty else { return nil }
    let hasher = ExhibitHasher()
    let sha256 = try hasher.finish(path: path)
    return candidates.first { $0.metadata.sha256 == sha256 }
  }

  private func report(_ exhibit: Exhibit, path: String, seconds: Double, duplicate: Bool) -> IngestReport {
    let counts = (try? store.trackCounts(ofExhibit: exhibit.id)) ?? [:]
    return IngestReport(
      exhibit: exhibit.id, file: path, sha256: exhibit.metadata.sha256, camera: exhibit.metadata.camera,
      start: exhibit.metadata.start.iso8601(), frames: exhibit.completion?.framesDecoded ?? 0,
      width: exhibit.metadata.width, height: exhibit.metadata.height, fps: exhibit.metadata.fps,
      tracks: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
      seconds: seconds, framesPerSecond: 0, skippedPackets: exhibit.completion?.skippedPackets ?? 0,
      alreadyIngested: duplicate)
  }
}
