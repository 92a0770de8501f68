import Foundation
import Index
import Ingest

/// A failure at the procedure level: bad procedure id, unknown procedure, unknown exhibit.
public struct ProcedureError: Error, CustomStringConvertible, Sendable {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// One procedure's vault: its folder `LRJ_HOME/procedures/<id>/` and its index (a file there, or a schema of
/// the installation's PostgreSQL database, see `ProcedureIndexes`), and the operations on it.
///
/// Only `ProcedureAccess` opens a workspace, after checking the authorisation and before logging
/// the operation: nothing outside Consultation reaches procedure data (DESIGN.md §3).
struct ProcedureWorkspace: Sendable {
  /// The procedure's id.
  let id: String
  /// The procedure's folder.
  let folder: URL
  let store: IndexStore
  /// Where the installation keeps procedures' indexes.
  let indexes: ProcedureIndexes
  /// Opens what is derived from footage (thumbnails) and makes sealers for it; nil only for a vault being created.
  let opener: ProcedureOpener?

  /// The thumbnail format prefix of bytes sealed to the procedure's public key (``SealedFormat``).
  static let sealedPrefix = "sealed1-"
  /// The prefix of thumbnails sealed by lrj before key pairs (a symmetric procedure key kept in the registry).
  static let legacySealedPrefix = "sealed-"

  /// Procedure ids: 1 to 64 ASCII letters, digits, '-', '_' or '.', not starting with '.'.
  static func validateID(_ id: String) throws {
    guard (1...64).contains(id.count), id.first != ".",
      id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
    else {
      throw ProcedureError("invalid procedure id \"\(id)\": 1 to 64 ASCII letters, digits, '-', '_' or '.'")
    }
  }

  /// The vault folder of procedure `id`.
  static func folder(of id: String, home: URL) -> URL {
    home.appendingPathComponent("procedures").appendingPathComponent(id)
  }

  /// Opens a procedure's vault; with `create`, makes it when it does not exist.
  /// - Throws: `ProcedureError` for an invalid id or a missing vault, `IndexError` when the
  ///   store cannot be opened.
  init(id: String, indexes: ProcedureIndexes, create: Bool, opener: ProcedureOpener? = nil) throws {
    try Self.validateID(id)
    self.id = id
    self.opener = opener
    self.indexes = indexes
    folder = indexes.folder(of: id)
    if !(try indexes.exists(id)) {
      guard create else { throw ProcedureError("the vault of procedure \(id) is missing (\(indexes.name(of: id)))") }
      try indexes.create(id)
    }
    store = try indexes.open(id, sealing: try opener.map(ProcedureSealing.init(opener:)) ?? ProcedureSealing.locked(id))
  }

  /// Ingests an exhibit file (see `Ingestor.ingest`), sealing its thumbnails: staged under `operation`,
  /// then `afterStaging` (which logs what was stored), then made visible.
  func ingest(
    path: String, camera: String, start: WallClockTime?, settings: AnalysisSettings, progress: ((AnalysisProgress) -> Void)?,
    operation: String, afterStaging: @escaping (_ digest: ExhibitDigest, _ sha256: String) throws -> Void
  ) throws -> IngestReport {
    guard let opener else { throw ProcedureError("procedure \(id) has no key") }
    let sealer = try opener.sealer()
    return try Ingestor(store: store, settings: settings).ingest(
      path: path, camera: camera, start: start, progress: progress,
      sealThumbnail: { track, thumbnail in
        Thumbnail(format: Self.sealedPrefix + thumbnail.format, data: try sealer.seal(thumbnail.data, context: "thumbnail \(track)"))
      },
      staging: (operation, afterStaging))
  }

  /// Every box of every track of an exhibit in MOTChallenge format: `frame,id,x,y,w,h,1,-1,-1,-1`
  /// with 1-based decoded frame index and source pixels, one line per box, by frame then id.
  func motTracks(exhibit: String) throws -> String {
    guard try store.exhibit(exhibit)?.isComplete == true else {
      throw ProcedureError("no exhibit \(exhibit) in procedure \(id)")
    }
    let boxes = try store.boxes(ofExhibit: exhibit)
    func number(_ track: String) -> Int { Int(track.dropFirst()) ?? 0 }
    return boxes
      .sorted { ($0.frameIndex, number($0.track)) < ($1.frameIndex, number($1.track)) }
      .map { b in
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        return "\(b.frameIndex + 1),\(number(b.track)),\(f(b.box.x)),\(f(b.box.y)),\(f(b.box.width)),\(f(b.box.height)),1,-1,-1,-1"
      }
      .joined(separator: "\n") + (boxes.isEmpty ? "" : "\n")
  }
}
