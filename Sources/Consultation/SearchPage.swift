import Foundation
import Index

/// How many hits of each camera overlap each stretch of its footage's clock span (a hit lasting over
/// several stretches counts in each, as a search of that stretch finds it).
public struct CameraTimeline: Sendable, Codable {
  public var camera: String
  /// The stretches' bounds, whole milliseconds: stretch `i` is [bounds[i], bounds[i + 1]).
  public var bounds: [WallClockTime]
  /// Hits per stretch, in order.
  public var counts: [Int]

  public var start: WallClockTime { bounds[0] }
  public var end: WallClockTime { bounds[bounds.count - 1] }

  /// The clock span of stretch `index`.
  public func span(of index: Int) -> (from: WallClockTime, to: WallClockTime) { (bounds[index], bounds[index + 1]) }
}

/// A search as the console shows it: a page of results, the procedure's cameras (to choose one), and
/// a timeline of every hit per camera.
public struct SearchPage: Sendable {
  public var result: SearchResult
  public var cameras: [String]
  public var timelines: [CameraTimeline]
  /// Whether the timeline counts every hit (it stops at `timelineLimit`).
  public var timelineComplete: Bool
}

extension ProcedureAccess {
  /// Hits counted on a timeline at most (the console's page stays quick on a large procedure).
  public static let timelineLimit = 50_000

  /// Tracks matching `filters` (one page), the procedure's cameras and a timeline of all the hits per
  /// camera in `buckets` stretches; one logged search.
  public func searchPage(_ filters: SearchFilters, buckets: Int = 48) throws -> SearchPage {
    try perform(.search, parameters: filters.logParameters) { workspace, _ in
      let result = try workspace.search(filters)
      var all = filters
      all.limit = TrackQuery.maximumLimit
      all.offset = 0
      var hits: [(camera: String, start: Date, end: Date)] = []
      var complete = true
      while hits.count < result.total {
        guard hits.count < Self.timelineLimit else { complete = false; break }
        let page = try workspace.search(all)
        if page.results.isEmpty { break }
        hits += page.results.map { ($0.camera, $0.start.date, $0.end.date) }
        all.offset += page.results.count
      }
      var spans: [String: (start: WallClockTime, end: Date)] = [:]
      for exhibit in try workspace.store.exhibits() {
        let end = exhibit.metadata.start.date.addingTimeInterval(exhibit.completion?.duration ?? 0)
        let camera = exhibit.metadata.camera
        if let known = spans[camera] {
          spans[camera] = (min(known.start, exhibit.metadata.start), max(known.end, end))
        } else {
          spans[camera] = (exhibit.metadata.start, end)
        }
      }
      let timelines = spans.keys.sorted().compactMap { camera -> CameraTimeline? in
        guard let span = spans[camera] else { return nil }
        let length = max(1, span.end.timeIntervalSince(span.start.date))
        let n = max(1, buckets)
        let bounds = (0...n).map { i in
          let ms = ((span.start.date.timeIntervalSince1970 + length * Double(i) / Double(n)) * 1000).rounded()
          return WallClockTime(date: Date(timeIntervalSince1970: ms / 1000), utcOffsetSeconds: span.start.utcOffsetSeconds)
        }
        var counts = [Int](repeating: 0, count: n)
        for hit in hits where hit.camera == camera {
          for i in 0..<n where hit.start < bounds[i + 1].date && hit.end >= bounds[i].date { counts[i] += 1 }
        }
        return CameraTimeline(camera: camera, bounds: bounds, counts: counts)
      }
      return OperationOutcome(
        value: SearchPage(result: result, cameras: try workspace.store.cameras(), timelines: timelines, timelineComplete: complete),
        resultCount: result.total)
    }
  }

  /// A signed export bundle of `tracks` made in memory, as a tar archive of its folder (for a download),
  /// logged as `exportBundle` logs it.
  public func exportBundleData(tracks: [String], withSynopsis: Bool) throws -> (report: ExportBundleReport, tar: Data) {
    try MemoryRenders.with { folder in
      let name = "bundle-\(procedure)"
      let bundle = folder.appendingPathComponent(name)
      let report = try exportBundle(tracks: tracks, withSynopsis: withSynopsis, to: bundle.path)
      var archive = TarWriter()
      for path in (try FileManager.default.subpathsOfDirectory(atPath: bundle.path)).sorted() {
        var isDirectory: ObjCBool = false
        let url = bundle.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
        try archive.add(name: "\(name)/\(path)", data: try Data(contentsOf: url))
      }
      return (report, archive.finish())
    }
  }
}
