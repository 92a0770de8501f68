import Foundation
import Index
import Media
import Synopsis

/// An exhibit as an overview shows it.
public struct ExhibitOverview: Sendable, Codable {
  public var exhibit: Exhibit
  public var tracksByClass: [String: Int]
}

/// A track with every box of its path.
public struct TrackDetail: Sendable, Codable {
  public var summary: TrackSummary
  public var path: [PathSample]
}

extension ProcedureAccess {
  /// The procedure's exhibits (camera, clock span, SHA-256, frames) and their tracks by class.
  public func overview() throws -> [ExhibitOverview] {
    try perform(.overview, parameters: [:]) { workspace, _ in
      let exhibits = try workspace.store.exhibits().map { exhibit in
        ExhibitOverview(
          exhibit: exhibit,
          tracksByClass: Dictionary(uniqueKeysWithValues: try workspace.store.trackCounts(ofExhibit: exhibit.id).map { ($0.key.rawValue, $0.value) }))
      }
      return OperationOutcome(value: exhibits, resultCount: exhibits.count)
    }
  }

  /// A track's thumbnail, as PNG bytes (its SHA-256 is logged).
  public func thumbnail(track: String) throws -> Data {
    try perform(.show, parameters: ["track": track, "out": "(console)"]) { workspace, _ in
      let png = try workspace.thumbnail(track: track)
      return OperationOutcome(value: png, resultCount: 1, parameters: ["sha256": SHA256Hex.of(png)])
    }
  }

  /// A track's summary and path.
  public func track(_ track: String) throws -> TrackDetail {
    try perform(.show, parameters: ["track": track]) { workspace, _ in
      let id = try QueryParser.trackID(track)
      guard let summary = try workspace.store.track(id) else { throw ProcedureError("no track \(id) in procedure \(procedure)") }
      return OperationOutcome(value: TrackDetail(summary: summary, path: try workspace.store.path(ofTrack: id)), resultCount: 1)
    }
  }

  /// A still of a camera, to draw zones on: the scene without its moving objects (median of frames
  /// across its first exhibit, tracked objects masked out), at most `maxWidth` wide, as PNG.
  public func still(camera: String, maxWidth: Int = 960) throws -> (png: Data, width: Int, height: Int) {
    try perform(.still, parameters: ["camera": camera]) { workspace, _ in
      guard let exhibit = try workspace.store.exhibits().first(where: { $0.metadata.camera == camera }) else {
        throw ProcedureError("no camera \"\(camera)\" in procedure \(procedure)")
      }
      let source = exhibit.metadata.fileName
      let size = (try? FileManager.default.attributesOfItem(atPath: source)[.size] as? Int64) ?? nil
      guard size == exhibit.metadata.sizeBytes else {
        throw ProcedureError("the footage of exhibit \(exhibit.id) is no longer at \(source) as ingested")
      }
      let footage = SynopsisSource(
        exhibit: exhibit.id, path: source, start: exhibit.metadata.start, duration: exhibit.completion?.duration ?? 0,
        frameRate: exhibit.metadata.fps, size: PixelSize(width: exhibit.metadata.width, height: exhibit.metadata.height),
        trackedBoxes: try workspace.store.boxes(ofExhibit: exhibit.id))
      let image = try SceneBackground.still(of: footage, maxWidth: maxWidth)
      let png = Data(try PNG.encode(image))
      return OperationOutcome(value: (png, image.width, image.height), resultCount: 1)
    }
  }
}
