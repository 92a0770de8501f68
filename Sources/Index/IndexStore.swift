import Foundation
import GRDB
import Logging
import Store
import StoreSQLite

/// The searchable store of one procedure: exhibits, cameras, tracks, paths, thumbnails and saved zones, on a
/// ``StoreEngine``: one SQLite file (`index.sqlite`, the embedded default) or one schema of the unit's
/// PostgreSQL database. What is derived from footage is sealed at rest with the store's ``IndexSealing`` and
/// opened in memory when read; only routing data is clear (see ``IndexSealing``).
///
/// Writing an exhibit is atomic for searches: ``beginExhibit(_:)`` registers it as incomplete,
/// ``addTracks(_:toExhibit:)`` adds tracks in one transaction per chunk, and ``commitExhibit(_:completion:)``
/// makes it and all its tracks visible at once. Until then nothing of it appears in searches or listings; an
/// ingest interrupted before the commit is removed by the next ``beginExhibit(_:)`` of the same file or by
/// ``removeIncompleteExhibits()``. ``ingest(_:tracks:completion:sealThumbnail:beforeCommit:)`` does all three in a single transaction.
///
/// ## Topics
/// - Opening: ``init(path:sealing:logger:clock:)``, ``init(engine:sealing:logger:clock:)``, ``inMemory(sealing:logger:clock:)``
/// - Writing: ``beginExhibit(_:)``, ``addTracks(_:toExhibit:)``, ``commitExhibit(_:completion:)``,
///   ``ingest(_:tracks:completion:sealThumbnail:beforeCommit:)``, ``abandonExhibit(_:)``, ``removeIncompleteExhibits()``
/// - Correcting (L9): ``deleteTrack(_:)``, ``deleteExhibit(_:)``
/// - Reading: ``search(_:)``, ``track(_:)``, ``path(ofTrack:)``, ``boxes(ofExhibit:)``, ``exhibit(withSHA256:)``
/// - Zones: ``saveZone(_:name:replacing:)``, ``zone(named:camera:)``, ``zones(camera:)``
public struct IndexStore: Sendable {
  let engine: any StoreEngine
  let logger: Logger
  let clock: @Sendable () -> Date
  /// Seals what is derived from footage before it is written, opens it when read.
  let sealing: any IndexSealing

  /// Opens (creating if needed) the SQLite store at `path` and migrates it to the current schema.
  /// - Parameters:
  ///   - path: the `index.sqlite` file; its directory must exist.
  ///   - sealing: the procedure's sealing (a store of an earlier lrj is sealed with it when opened).
  ///   - logger: where the store logs (creation, commits, deletions).
  ///   - clock: the wall clock, injectable for tests.
  /// - Throws: ``IndexError/storage(_:)`` when the file cannot be opened or migrated.
  public init(
    path: String, sealing: any IndexSealing, logger: Logger = Logger(label: "lrj.index"),
    clock: @escaping @Sendable () -> Date = { Date() }
  ) throws {
    let engine = try Self.storage { try SQLiteEngine(path: path, label: "lrj.index", prepare: Self.preparePragmas) }
    try self.init(engine: engine, sealing: sealing, logger: logger, clock: clock)
  }

  /// Opens the store on `engine` (a SQLite file, or a PostgreSQL engine bound to the procedure's schema) and
  /// migrates it to the current schema.
  /// - Throws: ``IndexError/storage(_:)`` when the database cannot be read or migrated.
  public init(
    engine: any StoreEngine, sealing: any IndexSealing, logger: Logger = Logger(label: "lrj.index"),
    clock: @escaping @Sendable () -> Date = { Date() }
  ) throws {
    self.engine = engine
    self.sealing = sealing
    self.logger = logger
    self.clock = clock
    if let sqlite = engine as? SQLiteEngine {
      try Self.migrate(sqlite.pool, sealing: sealing, logger: logger)
    } else {
      _ = try Self.storage { try ServiceSchema.migrator().migrate(engine) }
    }
  }

  /// Whether the store at `path` was written by an earlier lrj and is not sealed yet (opening it with
  /// the procedure's sealing seals it).
  public static func needsSealing(path: String) throws -> Bool {
    let queue = try storage { try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }()) }
    defer { try? queue.close() }
    return try storage {
      try queue.read { db in
        guard try db.tableExists("grdb_migrations") else { return false }
        return try Bool.fetchOne(db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?", arguments: [Schema.sealedVersion]) == nil
      }
    }
  }

  /// A store in memory, for tests.
  /// - Throws: ``IndexError/storage(_:)``.
  public static func inMemory(
    sealing: any IndexSealing = NoSealing(), logger: Logger = Logger(label: "lrj.index"),
    clock: @escaping @Sendable () -> Date = { Date() }
  ) throws -> IndexStore {
    let engine = try storage { try SQLiteEngine(inMemoryNamed: "lrj.index") }
    return try IndexStore(engine: engine, sealing: sealing, logger: logger, clock: clock)
  }

  /// Migrates a SQLite store with the schema's own migrator (versions 1 to 3 shipped with GRDB's).
  static func migrate(_ writer: any DatabaseWriter, sealing: any IndexSealing, logger: Logger) throws {
    let migrator = Schema.migrator(sealing: sealing)
    let sealingNow = try Self.storage {
      try writer.read { db in
        try db.tableExists("track") && !(try migrator.appliedIdentifiers(db).contains(Schema.sealedVersion))
      }
    }
    try Self.storage { try migrator.migrate(writer) }
    if sealingNow {
      // The clear rows the migration replaced: out of the free pages and the write-ahead log.
      try Self.storage {
        try writer.writeWithoutTransaction { db in
          try db.execute(sql: "VACUUM")
          if !(writer is DatabaseQueue) { try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
      }
      logger.notice("store sealed at rest")
    }
  }

  /// The GRDB writer of a SQLite store (tests that look at the file's own structure).
  var writer: any DatabaseWriter { (engine as! SQLiteEngine).pool }

  /// Which engine the store is on.
  public var dialect: StoreDialect { engine.dialect }

  /// Closes the store's connections (for example before its files are erased). Any later use throws.
  /// - Throws: ``IndexError/storage(_:)`` when a connection cannot be closed.
  public func close() throws {
    try Self.storage { try engine.close() }
  }

  /// Erases the store's contents for good and closes it: every row is deleted. On SQLite deleted bytes are
  /// overwritten (`secure_delete`), the write-ahead log is checkpointed and truncated, and the file is
  /// vacuumed, so that no record's bytes remain in the database files (the caller then unlinks them). On
  /// PostgreSQL the caller then drops the schema; what the server's own files keep is sealed to a key that
  /// closure destroys. Any later use throws.
  /// - Throws: ``IndexError/storage(_:)``.
  public func eraseAndClose() throws {
    guard let sqlite = engine as? SQLiteEngine else {
      try write { tx in
        for table in ServiceSchema.tables { try tx.execute("DELETE FROM \(table)") }
      }
      try close()
      logger.notice("store erased")
      return
    }
    try Self.storage {
      try sqlite.pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA secure_delete = ON")
        try db.execute(sql: "PRAGMA foreign_keys = OFF")  // everything goes, in any order
        let virtual = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")
        let tables = try String.fetchAll(
          db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
          .filter { name in !virtual.contains { name.hasPrefix($0 + "_") } }
        try db.inTransaction {
          for table in tables { try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier)") }
          return .commit
        }
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        try db.execute(sql: "VACUUM")
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
      }
      try sqlite.close()
    }
    logger.notice("store erased")
  }

  /// Pragmas of every connection to a SQLite store.
  @Sendable static func preparePragmas(_ db: Database) throws {
    // secure_delete: a corrected (L9) or erased record's bytes are overwritten, not left in free pages.
    // cache and mmap: the indexes of a 1M-track store stay in memory between queries.
    try db.execute(
      sql: """
        PRAGMA secure_delete = ON;
        PRAGMA cache_size = -131072;
        PRAGMA mmap_size = 4294967296;
        PRAGMA temp_store = MEMORY;
        """)
  }

  /// Runs `body`, turning database errors into ``IndexError/storage(_:)``.
  static func storage<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as DatabaseError {
      throw IndexError.storage(error.message.map { "\($0) (\(error.resultCode))" } ?? "\(error.resultCode)")
    } catch let error as StoreError {
      throw IndexError.storage(error.description)
    }
  }

  func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try Self.storage { try engine.write(body) }
  }

  func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try Self.storage { try engine.read(body) }
  }

  // MARK: Writing exhibits

  /// Registers an exhibit whose ingest starts; it stays invisible until ``commitExhibit(_:completion:)``.
  ///
  /// Creates the camera on first use. If the same file (same SHA-256) was left incomplete by an interrupted
  /// ingest, that leftover is removed first (an ingest of the same file still running in another process
  /// cannot be told apart from an interrupted one: callers serialise ingests per procedure).
  /// - Returns: the exhibit id, `E1`, `E2`…
  /// - Throws: ``IndexError/duplicateExhibit(sha256:existing:)`` when a complete exhibit has this SHA-256;
  ///   ``IndexError/invalidExhibit(_:)`` or ``IndexError/invalidName(_:)`` for bad metadata.
  public func beginExhibit(_ metadata: ExhibitMetadata) throws -> String {
    let metadata = try Self.validated(metadata)
    return try write { tx in try Self.insertExhibit(tx, metadata, ingestedAt: clock(), logger: logger) }
  }

  /// Adds a chunk of tracks to an exhibit being ingested, in one transaction: all of them or none.
  /// - Returns: the new track ids, in order (`T1`, `T2`…; never reused within the procedure).
  /// - Throws: ``IndexError/invalidTrack(index:reason:)`` (nothing written), ``IndexError/exhibitNotFound(_:)``,
  ///   ``IndexError/exhibitAlreadyComplete(_:)``.
  public func addTracks(_ tracks: [NewTrack], toExhibit exhibit: String) throws -> [String] {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    return try write { tx in try insertTracks(tx, tracks, exhibitRow: row) }
  }

  /// Completes an exhibit: from now on it and its tracks are searched.
  /// - Throws: ``IndexError/exhibitNotFound(_:)``, ``IndexError/exhibitAlreadyComplete(_:)``,
  ///   ``IndexError/invalidExhibit(_:)``.
  public func commitExhibit(_ exhibit: String, completion: ExhibitCompletion) throws {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    try Self.validate(completion)
    try write { tx in try complete(tx, exhibitRow: row, completion, at: clock()) }
    logger.info("exhibit committed", metadata: ["exhibit": "\(exhibit)"])
  }

  /// Stores a whole exhibit and its tracks in one transaction (for exhibits small enough to hold in memory).
  /// - Parameters:
  ///   - sealThumbnail: replaces each thumbnail before it is written (for example by its sealed bytes), given the
  ///     track id it gets.
  ///   - beforeCommit: called inside the transaction once everything is written, with the exhibit and track
  ///     ids; if it throws, nothing is committed (for example to log the ingest first).
  /// - Returns: the exhibit id and the track ids.
  /// - Throws: as ``beginExhibit(_:)``, ``addTracks(_:toExhibit:)`` and ``commitExhibit(_:completion:)``; on
  ///   any error nothing is written.
  public func ingest(
    _ metadata: ExhibitMetadata, tracks: [NewTrack], completion: ExhibitCompletion,
    sealThumbnail: ThumbnailSealer? = nil,
    beforeCommit: ((_ exhibit: String, _ tracks: [String]) throws -> Void)? = nil
  ) throws -> (exhibit: String, tracks: [String]) {
    let metadata = try Self.validated(metadata)
    try Self.validate(completion)
    let now = clock()
    return try write { tx in
      let exhibit = try Self.insertExhibit(tx, metadata, ingestedAt: now, logger: logger)
      let row = Identifier.row(of: exhibit, prefix: "E")!
      let ids = try insertTracks(tx, tracks, exhibitRow: row, sealThumbnail: sealThumbnail)
      try complete(tx, exhibitRow: row, completion, at: now)
      try beforeCommit?(exhibit, ids)
      return (exhibit, ids)
    }
  }

  /// Stores a whole exhibit and its tracks in one transaction, still invisible to searches: the first half
  /// of a two-step ingest whose log entry must be committed between the two (the log lives in another
  /// database). ``publishExhibit(_:digest:)`` makes it visible; ``removeStagedExhibit(_:)`` drops it.
  /// - Parameters:
  ///   - operation: the id of the logged operation that stores it; an exhibit of the same file staged by
  ///     another operation is refused as in progress (its leftovers are removed by whoever settles
  ///     interrupted operations).
  /// - Returns: the exhibit id, the track ids and the digest of what was stored.
  /// - Throws: as ``ingest(_:tracks:completion:sealThumbnail:beforeCommit:)``, and
  ///   ``IndexError/exhibitInProgress(sha256:exhibit:)``; on any error nothing is written.
  public func stageExhibit(
    _ metadata: ExhibitMetadata, tracks: [NewTrack], completion: ExhibitCompletion, operation: String,
    sealThumbnail: ThumbnailSealer? = nil
  ) throws -> (exhibit: String, tracks: [String], digest: ExhibitDigest) {
    let metadata = try Self.validated(metadata)
    try Self.validate(completion)
    guard (1...64).contains(operation.utf8.count) else { throw IndexError.invalidExhibit("operation id") }
    let now = clock()
    return try write { tx in
      let exhibit = try Self.insertExhibit(tx, metadata, ingestedAt: now, logger: logger, operation: operation)
      let row = Identifier.row(of: exhibit, prefix: "E")!
      let ids = try insertTracks(tx, tracks, exhibitRow: row, sealThumbnail: sealThumbnail)
      try fill(tx, exhibitRow: row, completion, at: now)
      return (exhibit, ids, try Self.digest(tx, exhibitRow: row))
    }
  }

  /// Makes a staged exhibit visible, once its stored data still have `digest` (the one its ingest logged).
  /// Publishing an exhibit already visible with that digest does nothing.
  /// - Throws: ``IndexError/exhibitNotFound(_:)``, ``IndexError/digestMismatch(_:)``.
  public func publishExhibit(_ exhibit: String, digest: String) throws {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    try write { tx in
      guard let complete = try tx.value(Int.self, "SELECT complete FROM exhibit WHERE id = ?", row)
      else { throw IndexError.exhibitNotFound(exhibit) }
      guard try Self.digest(tx, exhibitRow: row).digest == digest else { throw IndexError.digestMismatch("exhibit \(exhibit)") }
      if complete == 0 { try tx.execute("UPDATE exhibit SET complete = 1 WHERE id = ?", row) }
    }
    logger.info("exhibit published", metadata: ["exhibit": "\(exhibit)"])
  }

  /// Exhibits stored but not visible: staged by an ingest that is running, or that was interrupted.
  public func stagedExhibits() throws -> [(exhibit: String, sha256: String, operation: String?)] {
    try read { tx in
      try tx.rows("SELECT id, sha256, operation FROM exhibit WHERE complete = 0 ORDER BY id").map {
        (Identifier.exhibit(try $0.get(0)), try $0.get(1), try $0.get(2))
      }
    }
  }

  /// Removes a staged (still invisible) exhibit with everything stored for it.
  /// - Throws: ``IndexError/exhibitNotFound(_:)``, ``IndexError/exhibitAlreadyComplete(_:)``.
  public func removeStagedExhibit(_ exhibit: String) throws { try abandonExhibit(exhibit) }

  /// Removes an exhibit whose ingest failed or was cancelled (it must still be incomplete).
  /// - Throws: ``IndexError/exhibitNotFound(_:)``, ``IndexError/exhibitAlreadyComplete(_:)``.
  public func abandonExhibit(_ exhibit: String) throws {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    try write { tx in
      guard let complete = try tx.value(Int.self, "SELECT complete FROM exhibit WHERE id = ?", row)
      else { throw IndexError.exhibitNotFound(exhibit) }
      guard complete == 0 else { throw IndexError.exhibitAlreadyComplete(exhibit) }
      try tx.execute("DELETE FROM exhibit WHERE id = ?", row)
    }
    logger.notice("incomplete exhibit removed", metadata: ["exhibit": "\(exhibit)"])
  }

  /// Removes every exhibit left incomplete by an interrupted ingest, with its tracks.
  /// - Returns: the ids removed.
  @discardableResult
  public func removeIncompleteExhibits() throws -> [String] {
    let rows = try write { tx in
      let rows = try tx.values(Int64.self, "SELECT id FROM exhibit WHERE complete = 0")
      try tx.execute("DELETE FROM exhibit WHERE complete = 0")
      return rows
    }
    for row in rows { logger.notice("incomplete exhibit removed", metadata: ["exhibit": "\(Identifier.exhibit(row))"]) }
    return rows.map(Identifier.exhibit)
  }

  // MARK: Corrections (L9)

  /// Deletes a track with its colours, path and thumbnail (a correction ordered by the magistrate, L9).
  /// Deleted bytes are overwritten (`secure_delete`). - Throws: ``IndexError/trackNotFound(_:)``.
  public func deleteTrack(_ track: String) throws {
    guard let row = Identifier.row(of: track, prefix: "T") else { throw IndexError.invalidIdentifier(track) }
    try write { tx in
      guard
        let exhibit = try tx.row(
          "SELECT t.exhibit_id, e.complete FROM track t JOIN exhibit e ON e.id = t.exhibit_id WHERE t.id = ?", row)
      else { throw IndexError.trackNotFound(track) }
      try tx.execute("DELETE FROM track WHERE id = ?", row)
      if try exhibit.get(1, as: Int.self) == 1 { try SearchBlock.rebuild(tx, exhibitRow: try exhibit.get(0), sealing: sealing) }
    }
    logger.notice("track deleted", metadata: ["track": "\(track)"])
  }

  /// Deletes an exhibit and everything derived from it (L9). - Throws: ``IndexError/exhibitNotFound(_:)``.
  public func deleteExhibit(_ exhibit: String) throws {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    try write { tx in
      if try tx.execute("DELETE FROM exhibit WHERE id = ?", row) == 0 { throw IndexError.exhibitNotFound(exhibit) }
    }
    logger.notice("exhibit deleted", metadata: ["exhibit": "\(exhibit)"])
  }

  // MARK: Thumbnails

  /// Replaces a track's thumbnail (for example with sealed bytes). - Throws: ``IndexError/trackNotFound(_:)``.
  public func setThumbnail(_ thumbnail: Thumbnail, ofTrack track: String) throws {
    guard let row = Identifier.row(of: track, prefix: "T") else { throw IndexError.invalidIdentifier(track) }
    try Self.validate(thumbnail, index: 0)
    try write { tx in
      guard try tx.row("SELECT 1 FROM track WHERE id = ?", row) != nil else { throw IndexError.trackNotFound(track) }
      try tx.execute(
        """
        INSERT INTO thumbnail (track_id, format, bytes) VALUES (?, ?, ?)
        ON CONFLICT (track_id) DO UPDATE SET format = excluded.format, bytes = excluded.bytes
        """, row, thumbnail.format, thumbnail.data)
    }
  }

  /// Rewrites, in one transaction, every thumbnail whose format starts with `prefix` (re-sealing them under a
  /// new key, for instance). - Returns: how many were rewritten.
  public func rewriteThumbnails(
    withFormatPrefix prefix: String, _ transform: (_ track: String, _ thumbnail: Thumbnail) throws -> Thumbnail
  ) throws -> Int {
    try write { tx in
      var count = 0
      let rows = try tx.rows("SELECT track_id, format, bytes FROM thumbnail")
      for row in rows {
        let format: String = try row["format"]
        guard format.hasPrefix(prefix) else { continue }
        let trackRow: Int64 = try row["track_id"]
        let rewritten = try transform("T\(trackRow)", Thumbnail(format: format, data: try row["bytes"]))
        try Self.validate(rewritten, index: count)
        try tx.execute("UPDATE thumbnail SET format = ?, bytes = ? WHERE track_id = ?", rewritten.format, rewritten.data, trackRow)
        count += 1
      }
      return count
    }
  }

  /// A track's thumbnail, or nil when it has none. - Throws: ``IndexError/trackNotFound(_:)``.
  public func thumbnail(ofTrack track: String) throws -> Thumbnail? {
    let row = try Self.visibleTrackRow(track)
    return try read { tx in
      try Self.requireVisibleTrack(tx, row: row, id: track)
      guard let stored = try tx.row("SELECT format, bytes FROM thumbnail WHERE track_id = ?", row) else { return nil }
      return Thumbnail(format: try stored["format"], data: try stored["bytes"])
    }
  }
}

// MARK: - Write internals

extension IndexStore {
  static func validated(_ metadata: ExhibitMetadata) throws -> ExhibitMetadata {
    var metadata = metadata
    metadata.sha256 = metadata.sha256.lowercased()
    func fail(_ reason: String) -> IndexError { .invalidExhibit(reason) }
    guard metadata.sha256.count == 64, metadata.sha256.allSatisfy(\.isHexDigit) else {
      throw fail("SHA-256 must be 64 hexadecimal digits")
    }
    guard !metadata.fileName.isEmpty, metadata.fileName.utf8.count <= 4096 else {
      throw fail("empty or too long file name")
    }
    guard metadata.sizeBytes >= 0 else { throw fail("negative size") }
    guard (1...65535).contains(metadata.width), (1...65535).contains(metadata.height) else {
      throw fail("frame size \(metadata.width)x\(metadata.height) out of range")
    }
    guard metadata.fps.isFinite, metadata.fps > 0, metadata.fps <= 10000 else {
      throw fail("frame rate \(metadata.fps)")
    }
    guard metadata.start.date.timeIntervalSince1970.isFinite else { throw fail("start time is not finite") }
    guard abs(metadata.start.utcOffsetSeconds) <= 64800, metadata.start.utcOffsetSeconds % 60 == 0 else {
      throw fail("UTC offset must be whole minutes within ±18 h")
    }
    guard metadata.container.utf8.count <= 256, metadata.codec.utf8.count <= 256 else {
      throw fail("format name too long")
    }
    try validateName(metadata.camera, what: "camera")
    return metadata
  }

  /// Checks a camera name before any work is done with it (the store checks it again on write).
  /// - Throws: ``IndexError/invalidName(_:)``.
  public static func validateCameraName(_ name: String) throws {
    try validateName(name, what: "camera")
  }

  static func validateName(_ name: String, what: String) throws {
    let allowed = name.unicodeScalars.allSatisfy {
      ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || "-_. ".unicodeScalars.contains($0)
    }
    guard (1...64).contains(name.count), allowed else {
      throw IndexError.invalidName(
        "\(what) name \"\(name)\" must be 1 to 64 ASCII letters, digits, '-', '_', '.' or spaces")
    }
  }

  static func validate(_ completion: ExhibitCompletion) throws {
    guard completion.duration.isFinite, completion.duration >= 0, completion.framesDecoded >= 0,
      completion.skippedPackets >= 0
    else { throw IndexError.invalidExhibit("negative or non-finite duration or counts") }
  }

  static func validate(_ thumbnail: Thumbnail, index: Int) throws {
    guard (1...32).contains(thumbnail.format.count), !thumbnail.data.isEmpty else {
      throw IndexError.invalidTrack(index: index, reason: "thumbnail needs a format of 1 to 32 characters and bytes")
    }
  }

  static func validate(_ track: NewTrack, index: Int, width: Int, height: Int) throws {
    func fail(_ reason: String) -> IndexError { .invalidTrack(index: index, reason: reason) }
    guard !track.path.isEmpty else { throw fail("empty path") }
    guard track.path.count <= 50_000_000 else { throw fail("path too long") }
    guard track.classConfidence.isFinite, (0...1).contains(track.classConfidence) else {
      throw fail("class confidence \(track.classConfidence) outside 0..1")
    }
    guard track.speed.isFinite, track.speed >= 0 else { throw fail("speed \(track.speed)") }
    var seen = Set<Colour>()
    var sum = 0.0
    for colour in track.colours {
      guard seen.insert(colour.colour).inserted else { throw fail("colour \(colour.colour.rawValue) given twice") }
      guard colour.fraction.isFinite, (0...1).contains(colour.fraction) else {
        throw fail("colour fraction \(colour.fraction) outside 0..1")
      }
      sum += colour.fraction
    }
    guard sum <= 1.001 else { throw fail("colour fractions add up to \(sum) > 1") }
    if let area = track.maxBoxAreaFraction, !(area.isFinite && (0...1).contains(area)) {
      throw fail("box area fraction \(area) outside 0..1")
    }
    if let thumbnail = track.thumbnail { try validate(thumbnail, index: index) }
    let w = Double(width)
    let h = Double(height)
    var previous: PathSample?
    for sample in track.path {
      let box = sample.box
      guard sample.time.isFinite, sample.time >= 0 else { throw fail("sample time \(sample.time)") }
      guard (0...Int(UInt32.max)).contains(sample.frameIndex) else { throw fail("frame index \(sample.frameIndex)") }
      if let previous {
        guard sample.frameIndex > previous.frameIndex, sample.time >= previous.time else {
          throw fail("path samples out of order at frame \(sample.frameIndex)")
        }
      }
      guard [box.x, box.y, box.width, box.height].allSatisfy(\.isFinite), box.width > 0, box.height > 0,
        box.x >= -1, box.y >= -1, box.x + box.width <= w + 1, box.y + box.height <= h + 1
      else { throw fail("box \(box) at frame \(sample.frameIndex) is not inside the \(width)x\(height) frame") }
      previous = sample
    }
  }

  static func insertExhibit(
    _ tx: any StoreTransaction, _ metadata: ExhibitMetadata, ingestedAt: Date, logger: Logger, operation: String? = nil
  ) throws -> String {
    if let existing = try tx.row("SELECT id, complete, operation FROM exhibit WHERE sha256 = ?", metadata.sha256) {
      let row: Int64 = try existing["id"]
      let id = Identifier.exhibit(row)
      if try existing["complete"] as Int == 1 { throw IndexError.duplicateExhibit(sha256: metadata.sha256, existing: id) }
      // Staged by a logged operation: only whoever settles that operation may remove it.
      if try existing["operation"] as String? != nil { throw IndexError.exhibitInProgress(sha256: metadata.sha256, exhibit: id) }
      try tx.execute("DELETE FROM exhibit WHERE id = ?", row)
      logger.notice("removed the leftover of an interrupted ingest", metadata: ["exhibit": "\(id)"])
    }
    try tx.execute("INSERT INTO camera (name) VALUES (?) ON CONFLICT (name) DO NOTHING", metadata.camera)
    guard let camera = try tx.value(Int64.self, "SELECT id FROM camera WHERE name = ?", metadata.camera) else {
      throw IndexError.storage("camera \(metadata.camera) was not stored")
    }
    // Never reused, even after a deletion (SQLite AUTOINCREMENT; a PostgreSQL identity column).
    guard
      let row = try tx.value(
        Int64.self,
        """
        INSERT INTO exhibit (file_name, sha256, size_bytes, container, codec, width, height, fps, camera_id,
                             start_utc, utc_offset, ingested_at, operation)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
        """,
        metadata.fileName, metadata.sha256, metadata.sizeBytes, metadata.container, metadata.codec, metadata.width,
        metadata.height, metadata.fps, camera, metadata.start.date.timeIntervalSince1970,
        metadata.start.utcOffsetSeconds, ingestedAt.timeIntervalSince1970, operation)
    else { throw IndexError.storage("exhibit was not stored") }
    let id = Identifier.exhibit(row)
    logger.debug("exhibit registered", metadata: ["exhibit": "\(id)", "sha256": "\(metadata.sha256)"])
    return id
  }

  /// `count` new track ids, never given before in this store (an erased track's id is never reused).
  static func newTrackIDs(_ tx: any StoreTransaction, count: Int) throws -> [Int64] {
    guard count > 0 else { return [] }
    switch tx.dialect {
    case .sqlite:
      // The AUTOINCREMENT sequence, which SQLite moves on when rows are inserted with these ids.
      let first = 1 + max(
        try tx.value(Int64.self, "SELECT seq FROM sqlite_sequence WHERE name = 'track'") ?? 0,
        try tx.value(Int64.self, "SELECT max(id) FROM track") ?? 0)
      return Array(first..<first + Int64(count))
    case .postgres:
      return try tx.values(Int64.self, "SELECT nextval('track_id') FROM generate_series(1, ?)", count)
    }
  }

  func insertTracks(
    _ tx: any StoreTransaction, _ tracks: [NewTrack], exhibitRow: Int64, sealThumbnail: ThumbnailSealer? = nil
  ) throws -> [String] {
    let exhibitID = Identifier.exhibit(exhibitRow)
    guard let exhibit = try tx.row("SELECT camera_id, width, height, start_utc, complete FROM exhibit WHERE id = ?", exhibitRow)
    else { throw IndexError.exhibitNotFound(exhibitID) }
    guard try exhibit["complete"] as Int == 0 else { throw IndexError.exhibitAlreadyComplete(exhibitID) }
    let camera: Int64 = try exhibit["camera_id"]
    let width: Int = try exhibit["width"]
    let height: Int = try exhibit["height"]
    let start: Double = try exhibit["start_utc"]
    for (index, track) in tracks.enumerated() { try Self.validate(track, index: index, width: width, height: height) }

    let frameArea = Double(width) * Double(height)
    // Ids are chosen here so that each detail is sealed for its own track id.
    let rows = try Self.newTrackIDs(tx, count: tracks.count)
    var trackRows = BatchInsert(tx, "INSERT INTO track (id, exhibit_id, camera_id, detail) VALUES", columns: 4)
    var thumbnailRows = BatchInsert(tx, "INSERT INTO thumbnail (track_id, format, bytes) VALUES", columns: 3)
    for (track, row) in zip(tracks, rows) {
      let first = track.path[0]
      let last = track.path[track.path.count - 1]
      var maxArea = 0.0
      for sample in track.path { maxArea = max(maxArea, sample.box.width * sample.box.height / frameArea) }
      let detail = TrackDetail(
        objectClass: track.objectClass, direction: track.direction, classConfidence: track.classConfidence,
        speed: track.speed, startOffset: first.time, endOffset: last.time, startUTC: start + first.time,
        endUTC: start + last.time, maxArea: min(1, track.maxBoxAreaFraction ?? maxArea), firstBox: first.box,
        lastBox: last.box, frameWidth: width, frameHeight: height, colours: track.colours,
        path: PathCodec.encode(track.path))
      try trackRows.add([
        .integer(row), .integer(exhibitRow), .integer(camera),
        .blob(try sealing.sealed(detail.encoded(), context: SealContext.track(row))),
      ])
      if var thumbnail = track.thumbnail {
        if let sealThumbnail { thumbnail = try sealThumbnail(Identifier.track(row), thumbnail) }
        try thumbnailRows.add([.integer(row), .text(thumbnail.format), .blob(thumbnail.data)])
      }
    }
    try trackRows.flush()
    try thumbnailRows.flush()
    return rows.map(Identifier.track)
  }

  func complete(_ tx: any StoreTransaction, exhibitRow: Int64, _ completion: ExhibitCompletion, at date: Date) throws {
    let id = Identifier.exhibit(exhibitRow)
    guard let complete = try tx.value(Int.self, "SELECT complete FROM exhibit WHERE id = ?", exhibitRow)
    else { throw IndexError.exhibitNotFound(id) }
    guard complete == 0 else { throw IndexError.exhibitAlreadyComplete(id) }
    try fill(tx, exhibitRow: exhibitRow, completion, at: date)
    try tx.execute("UPDATE exhibit SET complete = 1 WHERE id = ?", exhibitRow)
  }

  /// Records how the analysis ended and builds the search blocks; the exhibit stays as visible as it was.
  func fill(_ tx: any StoreTransaction, exhibitRow: Int64, _ completion: ExhibitCompletion, at date: Date) throws {
    try tx.execute(
      """
      UPDATE exhibit SET duration = ?, frames_decoded = ?, skipped_packets = ?, ingested_at = ?
      WHERE id = ?
      """,
      completion.duration, completion.framesDecoded, completion.skippedPackets, date.timeIntervalSince1970, exhibitRow)
    try SearchBlock.rebuild(tx, exhibitRow: exhibitRow, sealing: sealing)
  }

  static func visibleTrackRow(_ track: String) throws -> Int64 {
    guard let row = Identifier.row(of: track, prefix: "T") else { throw IndexError.invalidIdentifier(track) }
    return row
  }

  /// Throws unless the track exists and belongs to a complete exhibit.
  static func requireVisibleTrack(_ tx: any StoreTransaction, row: Int64, id: String) throws {
    let visible = try tx.row("SELECT 1 FROM track t JOIN exhibit e ON e.id = t.exhibit_id WHERE t.id = ? AND e.complete = 1", row)
    guard visible != nil else { throw IndexError.trackNotFound(id) }
  }
}

/// Rows inserted many per statement (`INSERT … VALUES (…), (…)`): one round trip per batch on a server.
struct BatchInsert {
  let tx: any StoreTransaction
  let prefix: String
  let columns: Int
  private var values: [StoreValue] = []
  /// Rows per statement: well under both engines' limits on bound values.
  static let rowsPerStatement = 200

  init(_ tx: any StoreTransaction, _ prefix: String, columns: Int) {
    self.tx = tx
    self.prefix = prefix
    self.columns = columns
  }

  mutating func add(_ row: [StoreValue]) throws {
    precondition(row.count == columns)
    values += row
    if values.count >= columns * Self.rowsPerStatement { try flush() }
  }

  mutating func flush() throws {
    guard !values.isEmpty else { return }
    let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
    let sql = prefix + " " + Array(repeating: row, count: values.count / columns).joined(separator: ", ")
    try tx.execute(sql, values)
    values.removeAll(keepingCapacity: true)
  }
}
