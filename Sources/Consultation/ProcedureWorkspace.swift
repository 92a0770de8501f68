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

/// One procedure's data under `LRJ_HOME/procedures/<id>/`, and the operations on it.
///
/// This is the door every command goes through to reach procedure data. Authorisation and the
/// consultation log (DESIGN.md §8) will be checked here; until they land, the workspace is
/// opened by procedure id alone.
public struct ProcedureWorkspace: Sendable {
  /// The procedure's id.
  public let id: String
  /// The procedure's folder.
  public let folder: URL
  let store: IndexStore

  /// `LRJ_HOME`, or `~/.local/share/lrj`.
  public static var home: URL {
    if let home = ProcessInfo.processInfo.environment["LRJ_HOME"], !home.isEmpty {
      return URL(fileURLWithPath: home)
    }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/lrj")
  }

  /// Opens a procedure's workspace; with `create`, makes it when it does not exist.
  /// - Throws: `ProcedureError` for an invalid id or a missing procedure, `IndexError` when the
  ///   store cannot be opened.
  public init(id: String, home: URL = ProcedureWorkspace.home, create: Bool) throws {
    guard (1...64).contains(id.count), id.first != ".",
      id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
    else {
      throw ProcedureError("invalid procedure id \"\(id)\": 1 to 64 ASCII letters, digits, '-', '_' or '.'")
    }
    self.id = id
    folder = home.appendingPathComponent("procedures").appendingPathComponent(id)
    let indexPath = folder.appendingPathComponent("index.sqlite").path
    if !FileManager.default.fileExists(atPath: indexPath) {
      guard create else { throw ProcedureError("no procedure \"\(id)\" in \(home.path)") }
      do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      } catch {
        throw ProcedureError("cannot create \(folder.path): \(error.localizedDescription)")
      }
    }
    store = try IndexStore(path: indexPath)
  }

  /// Ingests exhibit files (see `Ingestor.ingest`).
  public func ingest(path: String, camera: String, start: WallClockTime?, settings: AnalysisSettings = AnalysisSettings(),
                     progress: ((AnalysisProgress) -> Void)? = nil) throws -> IngestReport {
    try Ingestor(store: store, settings: settings).ingest(path: path, camera: camera, start: start, progress: progress)
  }

  /// Every box of every track of an exhibit in MOTChallenge format: `frame,id,x,y,w,h,1,-1,-1,-1`
  /// with 1-based decoded frame index and source pixels, one line per box, by frame then id.
  public func motTracks(exhibit: String) throws -> String {
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
