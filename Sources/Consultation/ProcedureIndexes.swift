import Crypto
import Foundation
import Index
import Store
import StorePostgres

/// Where the installation keeps each procedure's index (DESIGN.md §13): a SQLite file in the procedure's
/// folder, `LRJ_HOME/procedures/<id>/index.sqlite` (embedded), or a schema of its own in the installation's
/// PostgreSQL database (the unit's service). The procedure's folder exists in both cases (lock files of
/// running operations). Only Consultation opens an index, after its checks (DESIGN.md §3).
struct ProcedureIndexes: Sendable {
  let home: URL
  /// The installation's id: schema names are derived from it, so two installations never share one.
  let installation: String
  /// The PostgreSQL database; nil for the embedded SQLite files.
  let service: PostgresLocation?
  /// The registry's engine (on PostgreSQL, where schemas are made and dropped).
  let registry: any StoreEngine

  /// The procedure's folder.
  func folder(of procedure: String) -> URL { ProcedureWorkspace.folder(of: procedure, home: home) }

  /// The SQLite file of an embedded index.
  func file(of procedure: String) -> URL { folder(of: procedure).appendingPathComponent("index.sqlite") }

  /// The schema of the procedure's index on PostgreSQL: a digest of installation and procedure, because a
  /// procedure id may be longer than PostgreSQL's 63-byte names and may hold characters names cannot.
  func schema(of procedure: String) -> String {
    let digest = SHA256.hash(data: Data("lrj index schema\0\(installation)\0\(procedure)".utf8))
    return "lrj_p_" + digest.prefix(14).map { String(format: "%02x", $0) }.joined()
  }

  /// What messages call the index of `procedure`.
  func name(of procedure: String) -> String {
    guard let service else { return file(of: procedure).path }
    return "schema \(schema(of: procedure)) of \(service.redacted)"
  }

  /// Whether the procedure's index exists.
  func exists(_ procedure: String) throws -> Bool {
    guard service != nil else { return FileManager.default.fileExists(atPath: file(of: procedure).path) }
    return try registry.read { tx in
      try tx.row("SELECT 1 FROM pg_namespace WHERE nspname = ?", schema(of: procedure)) != nil
    }
  }

  /// Makes the procedure's folder and, on PostgreSQL, its schema (the index's tables are made when it is
  /// first opened).
  func create(_ procedure: String) throws {
    let folder = folder(of: procedure)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw ProcedureError("cannot create \(folder.path): \(error.localizedDescription)")
    }
    if service != nil {
      _ = try registry.write { tx in try tx.execute(try PostgresEngine.createSchema(schema(of: procedure))) }
    }
  }

  /// Opens the procedure's index with `sealing` (it must exist).
  func open(_ procedure: String, sealing: any IndexSealing) throws -> IndexStore {
    guard let service else { return try IndexStore(path: file(of: procedure).path, sealing: sealing) }
    let engine: PostgresEngine
    do {
      engine = try PostgresEngine(location: service, schema: schema(of: procedure))
    } catch let error as StoreError {
      throw IndexError.storage(error.description)
    }
    return try IndexStore(engine: engine, sealing: sealing)
  }

  /// The index of the procedure when it exists and opens, opening nothing sealed (settling, digests).
  func openLocked(_ procedure: String) throws -> IndexStore? {
    guard try exists(procedure) else { return nil }
    return try open(procedure, sealing: ProcedureSealing.locked(procedure))
  }

  /// Erases the index: its rows deleted (on SQLite with secure_delete, the WAL truncated and the file
  /// vacuumed), on PostgreSQL its schema dropped; then every file of the procedure's folder is overwritten and
  /// unlinked, and the folder removed. Whatever an interrupted erasure left, it finishes it.
  /// - Returns: the files and bytes of the folder erased.
  /// - Throws: when a file or the schema remains.
  func erase(_ procedure: String) throws -> (files: [String], bytes: Int64) {
    if (try? exists(procedure)) == true, let store = try? open(procedure, sealing: ProcedureSealing.locked(procedure)) {
      try? store.eraseAndClose()
    }
    if service != nil {
      _ = try registry.write { tx in try tx.execute(try PostgresEngine.dropSchema(schema(of: procedure))) }
      guard try !exists(procedure) else { throw ProcedureError("the index of procedure \(procedure) could not be erased (\(name(of: procedure)) remains)") }
    }
    let folder = folder(of: procedure)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
    var bytes: Int64 = 0
    for name in files {
      let url = folder.appendingPathComponent(name)
      bytes += (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
      try ProcedureWorkspace.overwriteAndUnlink(url)
    }
    if FileManager.default.fileExists(atPath: folder.path) { try FileManager.default.removeItem(at: folder) }
    guard !FileManager.default.fileExists(atPath: folder.path) else {
      throw ProcedureError("the vault of procedure \(procedure) could not be erased (\(folder.path) remains)")
    }
    return (files, bytes)
  }
}

extension Installation {
  /// Keeps the search blocks that searches open in memory between searches, up to `bytes`, in this
  /// process (the console: each later search fetches and opens only blocks it has not seen, or that were
  /// rewritten since). A one-off command does not need it.
  public static func keepOpenedSearchBlocks(upTo bytes: Int) {
    IndexStore.keepOpenedBlocks(upTo: bytes)
  }
}
