import Foundation
import Index
import Media
import Synopsis

/// A file written for the user, with its SHA-256 (for the consultation log).
public struct WrittenFile: Sendable, Hashable, Codable {
  public internal(set) var path: String
  public var sha256: String
  public var bytes: Int64
}

/// What `synopsis` wrote and what the synopsis is like.
public struct SynopsisReport: Sendable, Codable {
  public var camera: String
  public var objects: Int
  public var exhibits: [String]
  public var video: WrittenFile
  public var overview: WrittenFile?
  public var index: WrittenFile
  public var frames: Int
  public var frameRate: Double
  public var seconds: Double
  public var sourceSeconds: Double
  public var condensation: Double
  public var collisionPercent: Double
  public var maxConcurrent: Int
  /// Seconds spent making it.
  public var renderSeconds: Double
}

extension ProcedureWorkspace {
  /// Renders the synopsis of the tracks matching `filters` (one camera): the MP4 at `output`,
  /// its JSON index beside it (`F.json`) and, with `overview`, a PNG overview.
  ///
  /// The exhibit files are checked to be the ones ingested (SHA-256) before anything is decoded.
  /// - Throws: `ProcedureError` (no match, unknown camera, several cameras, footage missing or
  ///   changed), `QueryError`, `SynopsisError` or `MediaError`; no output file is left behind.
  func synopsis(_ filters: SearchFilters, options: SynopsisOptions = SynopsisOptions(), output: String,
                       overview: String? = nil, videoName: String? = nil,
                       progress: ((SynopsisProgress) -> Void)? = nil) throws -> SynopsisReport {
    let started = Date()
    let known = try store.cameras()
    for camera in filters.cameras where !known.contains(camera) {
      throw ProcedureError("unknown camera \"\(camera)\" in procedure \(id) (cameras: \(known.joined(separator: ", ")))")
    }
    // Every match, page by page.
    var page = filters
    page.limit = TrackQuery.maximumLimit
    page.offset = 0
    var tracks: [TrackSummary] = []
    while true {
      let result = try search(page)
      tracks += result.results
      if result.results.isEmpty || tracks.count >= result.total { break }
      page.offset += result.results.count
    }
    guard !tracks.isEmpty else { throw ProcedureError("no track matches the filters") }
    return try synopsis(of: tracks, options: options, output: output, overview: overview, videoName: videoName,
                        progress: progress, started: started)
  }

  /// Renders the synopsis of `tracks` (one camera), as `synopsis(_:options:output:overview:videoName:progress:)`.
  func synopsis(of tracks: [TrackSummary], options: SynopsisOptions, output: String, overview: String?, videoName: String?,
                progress: ((SynopsisProgress) -> Void)?, started: Date = Date()) throws -> SynopsisReport {
    let cameras = Set(tracks.map(\.camera)).sorted()
    guard cameras.count == 1, let camera = cameras.first else {
      throw ProcedureError("the tracks come from several cameras (\(cameras.joined(separator: ", "))): choose one with --camera")
    }

    var sources: [SynopsisSource] = []
    let exhibitIDs: [String] = Set(tracks.map(\.exhibit)).sorted { (a: String, b: String) -> Bool in
      (a.count, a) < (b.count, b)
    }
    for exhibitID in exhibitIDs {
      guard let exhibit = try store.exhibit(exhibitID) else { throw ProcedureError("no exhibit \(exhibitID)") }
      let path = try verifiedFootage(of: exhibit)
      sources.append(SynopsisSource(
        exhibit: exhibit.id, path: path, start: exhibit.metadata.start, duration: exhibit.completion?.duration ?? 0,
        frameRate: exhibit.metadata.fps, size: PixelSize(width: exhibit.metadata.width, height: exhibit.metadata.height),
        trackedBoxes: try store.boxes(ofExhibit: exhibit.id)))
    }
    let rate = Double(max(1, Int((sources[0].frameRate).rounded())))
    let startOfExhibit = Dictionary(uniqueKeysWithValues: sources.map { ($0.exhibit, $0.start) })
    let tubes = try tracks.compactMap { track in
      Tube(track: track.track, exhibit: track.exhibit, objectClass: track.objectClass,
           exhibitStart: startOfExhibit[track.exhibit]!, path: try store.path(ofTrack: track.track), frameRate: rate)
    }
    let outputs = SynopsisOutputs(video: output, overview: overview, videoName: videoName)
    let index = try SynopsisMaker.make(tubes: tubes, sources: sources, camera: camera, options: options, outputs: outputs,
                                       progress: progress)
    func written(_ path: String) throws -> WrittenFile {
      let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
      return WrittenFile(path: path, sha256: try SHA256Hex.ofFile(path), bytes: size)
    }
    return SynopsisReport(
      camera: camera, objects: index.objects.count, exhibits: sources.map(\.exhibit), video: try written(outputs.video),
      overview: try overview.map(written), index: try written(outputs.index), frames: index.frames,
      frameRate: index.frameRate, seconds: index.seconds, sourceSeconds: index.sourceSeconds,
      condensation: index.condensation, collisionPercent: index.collisionPercent, maxConcurrent: index.maxConcurrent,
      renderSeconds: Date().timeIntervalSince(started))
  }

  /// The exhibit's file, after checking it is still where it was ingested and unchanged (SHA-256).
  func verifiedFootage(of exhibit: Exhibit) throws -> String {
    let source = exhibit.metadata.fileName
    guard FileManager.default.fileExists(atPath: source) else {
      throw ProcedureError("the footage of exhibit \(exhibit.id) is no longer at \(source)")
    }
    guard try SHA256Hex.ofFile(source) == exhibit.metadata.sha256 else {
      throw ProcedureError("\(source) has changed since exhibit \(exhibit.id) was ingested (SHA-256 differs)")
    }
    return source
  }
}
