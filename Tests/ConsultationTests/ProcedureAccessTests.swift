import Crypto
import Foundation
import GRDB
@testable import Index
import Store
import TestSupport
import Testing

@testable import Consultation

/// The door with an injected clock: validity periods, forged tokens, sealed data, retention.
struct ProcedureAccessTests {
  static let fast = ScryptParameters(n: 1 << 10, r: 8, p: 1)
  static let passphrase = "pass"
  static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

  /// An installation with an administrator, a magistrate `judge` and an investigator `opj`.
  struct World {
    let folder: URL
    let installation: Installation
    let judge: Identity
    let opj: Identity

    func key(_ user: String) -> URL { folder.appendingPathComponent("\(user).key") }
  }

  static func world(now: Date = t0) throws -> World {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-access-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let installation = try Installation.create(
      home: folder.appendingPathComponent("home"), administrator: "admin", passphrase: passphrase,
      administratorKey: folder.appendingPathComponent("admin.key"), now: now, scrypt: fast)
    let admin = try installation.authenticate(keyFile: folder.appendingPathComponent("admin.key"), passphrase: passphrase, now: now)
    var identities: [String: Identity] = [:]
    for (user, role) in [("judge", Role.magistrate), ("opj", Role.investigator)] {
      let key = Curve25519.Signing.PrivateKey()
      let url = folder.appendingPathComponent("\(user).key")
      try SealedKeyFile.seal(key, user: user, passphrase: passphrase, parameters: fast).write(to: url)
      try installation.addUser(user, role: role, publicKey: key.publicKey.rawRepresentation.base64EncodedString(), by: admin, now: now)
      identities[user] = try installation.authenticate(keyFile: url, passphrase: passphrase, now: now)
    }
    return World(folder: folder, installation: installation, judge: identities["judge"]!, opj: identities["opj"]!)
  }

  @Test func anExpiredAuthorisationIsRefusedAndLogged() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let (token, _) = try world.installation.authorise(
      procedure: "P1", kind: .flagrance, investigators: ["opj"], notBefore: Self.t0, expires: Self.t0.addingTimeInterval(3600),
      by: world.judge, now: Self.t0)
    _ = try world.installation.openProcedure(token: token, by: world.opj, now: Self.t0)
    let during = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.opj) { Self.t0.addingTimeInterval(1800) }
    #expect(try during.search(SearchFilters()).total == 0)
    let after = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.opj) { Self.t0.addingTimeInterval(7200) }
    #expect(throws: AuthorisationError.expired(Self.t0.addingTimeInterval(3600))) { try after.search(SearchFilters()) }
    let last = try #require(try world.installation.logEntries().last?.entry)
    #expect(last.operation == "search" && last.outcome == .refused && last.parameters["reason"]?.contains("expired") == true)
    // The magistrate who authorised it may still consult it (and close it) after expiry.
    let magistrate = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.judge) { Self.t0.addingTimeInterval(7200) }
    #expect(try magistrate.search(SearchFilters()).total == 0)
  }

  @Test func aTokenWhoseFooterNamesAnotherProcedureIsRefused() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    // Signed by the enrolled magistrate, for P2, but with a footer claiming P1.
    let claims = AuthorisationClaims(
      installation: world.installation.id, procedure: "P2", kind: .preliminary, investigators: ["opj"], issuer: "judge",
      notBefore: Self.t0, expires: Self.t0.addingTimeInterval(86_400), issuedAt: Self.t0)
    let payload = try JSONEncoder().encode(claims)
    let forged = try PasetoV4Public.sign(
      payload: payload, footer: Data(#"{"kid":"judge","procedure":"P1"}"#.utf8),
      implicitAssertion: Authorisation.implicitAssertion(installation: world.installation.id, procedure: "P1"),
      key: world.judge.signingKey)
    #expect(throws: InstallationError.self) { try world.installation.openProcedure(token: forged, by: world.opj, now: Self.t0) }
    let last = try #require(try world.installation.logEntries().last?.entry)
    #expect(last.outcome == .refused && last.parameters["reason"]?.contains("another procedure (P2)") == true, "\(last)")
    #expect(try world.installation.procedures(visibleTo: world.judge).isEmpty, "nothing registered")
  }

  @Test func sealedDataOpensOnlyWithItsProcedurePrivateKeyAndObject() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-seal-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let kek = SymmetricKey(size: .bits256)
    let keys = ProcedureKeyFiles(home: folder, installation: "i")
    let publicKey = try keys.create(procedure: "P1", kek: kek)
    // A producer holds only the public key.
    let sealer = try ProcedureSealer(procedure: "P1", publicKey: publicKey)
    let clear = Data("thumbnail bytes".utf8)
    let sealed = try sealer.seal(clear, context: "thumbnail T1")
    #expect(sealed.count == clear.count + SealedFormat.overhead && sealed.range(of: clear) == nil)
    let opener = try keys.opener(procedure: "P1", kek: kek)
    #expect(try opener.open(sealed, context: "thumbnail T1") == clear)
    #expect(try opener.open(try sealer.seal(Data(), context: "empty"), context: "empty").isEmpty)
    #expect(throws: ProcedureError.self) { try opener.open(sealed, context: "thumbnail T2") }
    var flipped = sealed
    flipped[flipped.count - 20] ^= 1
    #expect(throws: ProcedureError.self) { try opener.open(flipped, context: "thumbnail T1") }
    #expect(throws: ProcedureError.self) { try opener.open(sealed.prefix(40), context: "thumbnail T1") }
    // Another procedure's key, or the same key file under another procedure's name, opens nothing.
    _ = try keys.create(procedure: "P2", kek: kek)
    #expect(throws: ProcedureError.self) { try keys.opener(procedure: "P2", kek: kek).open(sealed, context: "thumbnail T1") }
    try FileManager.default.copyItem(at: keys.url(of: "P1"), to: keys.url(of: "P3"))
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P3", kek: kek) }
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P1", kek: SymmetricKey(size: .bits256)) }
    #expect(throws: InstallationError.self) { try ProcedureKeyFiles(home: folder, installation: "j").opener(procedure: "P1", kek: kek) }
    // The key file is mode 0600; destroying it is final and idempotent.
    let mode = try FileManager.default.attributesOfItem(atPath: keys.url(of: "P1").path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    try keys.destroy(procedure: "P1")
    try keys.destroy(procedure: "P1")
    #expect(!FileManager.default.fileExists(atPath: keys.url(of: "P1").path))
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P1", kek: kek) }
    #expect(keys.procedures() == ["P2", "P3"])
  }

  /// An installation of an earlier lrj kept each procedure's symmetric key wrapped in the registry, and its
  /// index in clear: opening it gives each open procedure a key pair, seals its index and thumbnails to it, and
  /// leaves only the public key in the registry; searches give what they gave.
  /// Also when an earlier upgrade was killed after writing the key file, or after sealing the vault too.
  @Test(arguments: UpgradeInterruption.allCases)
  func anEarlierInstallationIsSealedAtRestWhenOpened(interrupted: UpgradeInterruption) throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let installation = world.installation
    let (token, _) = try installation.authorise(
      procedure: "P1", kind: .preliminary, investigators: ["opj"], notBefore: Self.t0, expires: Self.t0.addingTimeInterval(86_400 * 30),
      by: world.judge, now: Self.t0)
    _ = try installation.openProcedure(token: token, by: world.opj, now: Self.t0)
    let access = ProcedureAccess(procedure: "P1", installation: installation, identity: world.opj) { Self.t0.addingTimeInterval(60) }
    _ = try access.ingest(path: TestPaths.samplesClip, camera: "street", start: nil)
    var everything = SearchFilters()
    everything.limit = 500
    let before = try access.search(everything)
    #expect(before.total > 3)
    let kek = try installation.keyEncryptionKey()
    let current = try installation.procedureKeys.opener(procedure: "P1", kek: kek)
    let vaultFolder = installation.home.appendingPathComponent("procedures/P1")
    // Sealed at rest: no track's attributes or path is in clear in the vault's files.
    let sealedStore = try IndexStore(path: vaultFolder.appendingPathComponent("index.sqlite").path, sealing: try ProcedureSealing(opener: current))
    let details = try sealedStore.read { tx in
      try sealedStore.details(tx, rows: try tx.values(Int64.self, "SELECT id FROM track")).values.map { $0 }
    }
    try sealedStore.close()
    #expect(details.count == before.total)
    for file in try FileManager.default.contentsOfDirectory(at: vaultFolder, includingPropertiesForKeys: nil) {
      let content = try Data(contentsOf: file)
      for detail in details {
        let encoded = detail.encoded()
        #expect(content.range(of: encoded.subdata(in: 3..<59)) == nil, "clear attributes in \(file.lastPathComponent)")
        #expect(content.range(of: detail.path.prefix(49)) == nil, "a clear path in \(file.lastPathComponent)")
      }
    }

    // As an earlier lrj left it: the index in clear (schema v2), thumbnails sealed with a symmetric key wrapped in
    // the registry, no key file.
    let legacy = LegacyProcedureKey.generate()
    let vault = installation.home.appendingPathComponent("procedures/P1/index.sqlite")
    let (clear, paths) = try LegacyVault.write(from: vault, opener: current, legacyKey: legacy, procedure: "P1")
    #expect(clear.count == before.total && paths.count == before.total)
    try installation.registry.write { tx in
      try tx.execute("UPDATE procedure SET wrapped_key = ?, public_key = NULL WHERE id = 'P1'",
                     try legacy.wrapped(with: kek, installation: installation.id, procedure: "P1"))
    }
    try installation.procedureKeys.destroy(procedure: "P1")
    #expect(try IndexStore.needsSealing(path: vault.path))
    // An upgrade killed half way: its key file is written (and maybe the vault sealed); the registry is unchanged.
    var kept: Curve25519.KeyAgreement.PrivateKey?
    if interrupted != .never {
      let key = Curve25519.KeyAgreement.PrivateKey()
      try installation.procedureKeys.write(key, procedure: "P1", kek: kek)
      kept = key
      if interrupted == .afterSealingTheVault {
        let sealing = try ProcedureSealing(opener: ProcedureOpener(procedure: "P1", privateKey: key))
        try IndexStore(path: vault.path, sealing: sealing).close()
        #expect(try !IndexStore.needsSealing(path: vault.path))
      }
    }

    let upgraded = try Installation.open(home: installation.home)
    #expect(try !IndexStore.needsSealing(path: vault.path))
    let (wrapped, publicKey) = try upgraded.registry.read { tx in
      (try tx.value(Data.self, "SELECT wrapped_key FROM procedure WHERE id = 'P1'"),
       try tx.value(Data.self, "SELECT public_key FROM procedure WHERE id = 'P1'"))
    }
    #expect(wrapped == nil)
    let opener = try upgraded.procedureOpener("P1", publicKey: publicKey)
    #expect(opener.publicKey.rawRepresentation != current.publicKey.rawRepresentation, "a new key pair")
    if let kept { #expect(opener.publicKey.rawRepresentation == kept.publicKey.rawRepresentation, "the interrupted upgrade's key") }
    let after = ProcedureAccess(procedure: "P1", installation: upgraded, identity: world.opj) { Self.t0.addingTimeInterval(120) }
    #expect(try after.search(everything).results == before.results)
    for (track, bytes) in clear { #expect(try after.thumbnail(track: track) == bytes, "\(track)") }
    // No clear table is left, and no clear value of the former index is in the vault's files.
    let files = try FileManager.default.contentsOfDirectory(at: vault.deletingLastPathComponent(), includingPropertiesForKeys: nil)
    #expect(files.contains { $0.lastPathComponent == "index.sqlite" })
    for file in files {
      let content = try Data(contentsOf: file)
      for path in paths { #expect(content.range(of: path.prefix(49)) == nil, "a clear path in \(file.lastPathComponent)") }
    }
    let upgrade = try #require(try upgraded.logEntries().compactMap(\.entry).first { $0.operation == "procedure.upgrade" })
    #expect(upgrade.procedure == "P1" && upgrade.parameters["thumbnails-resealed"] == String(clear.count)
            && upgrade.parameters["index"] == (interrupted == .afterSealingTheVault ? "already sealed" : "sealed")
            && upgrade.parameters["seal-key"] == publicKey?.base64EncodedString())
    // Opening again changes nothing; the registry and the index agree with the log.
    let again = try Installation.open(home: installation.home)
    #expect(try again.logEntries().filter { $0.entry?.operation == "procedure.upgrade" }.count == 1)
    let report = try again.verifyLog()
    #expect(report.problems.isEmpty, "\(report.problems)")
  }

  /// A process killed after making its lock file and before its started entry was committed leaves a lock
  /// file no operation names: the next command removes it, never one a living process holds.
  @Test func orphanLockFilesAreRemovedButHeldOnesKept() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let home = world.installation.home
    let folder = RunningOperation.lockFolder(home: home)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let orphan = RunningOperation.newID()
    FileManager.default.createFile(atPath: RunningOperation.lockURL(id: orphan, home: home).path, contents: Data())
    FileManager.default.createFile(atPath: folder.appendingPathComponent(".\(RunningOperation.newID()).tmp").path, contents: Data())
    let held = RunningOperation.newID()
    let descriptor = try RunningOperation.lock(id: held, home: home)
    defer { close(descriptor) }
    try world.installation.settleInterruptedOperations(noticedBy: world.opj, now: Self.t0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [held])
  }

  @Test func bodiesOlderThanFiveYearsArePurgedAutomaticallyOnceADay() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let installation = world.installation
    let countBefore = try installation.logEntries().count
    #expect(countBefore >= 3)
    // Six years later, the first sign-in of the day purges the old bodies and logs the purge.
    let later = Self.t0.addingTimeInterval(6 * 365.25 * 86_400)
    let judge = try installation.authenticate(keyFile: world.key("judge"), passphrase: Self.passphrase, now: later)
    let remaining = try installation.logEntries()
    #expect(remaining.count == 1 && remaining[0].entry?.operation == ConsultationLog.purgeOperation)
    #expect(remaining[0].entry?.resultCount == countBefore)
    let report = try installation.verifyLog()
    #expect(report.isValid && report.chain.purgedCount == countBefore, "\(report.chain) \(report.problems)")
    // The purge entry carries the registry its purged entries built: the registry still checks out.
    #expect(remaining[0].entry?.parameters["registry-state"]?.contains("judge") == true)
    // Later the same day: nothing more to do, nothing logged.
    _ = try installation.authenticate(keyFile: world.key("judge"), passphrase: Self.passphrase, now: later.addingTimeInterval(3600))
    #expect(try installation.logEntries().count == 1)
    // The magistrate still reads what is left, and the chain still verifies.
    #expect(try installation.consultLog(LogFilter(), by: judge, now: later).count >= 1)
    #expect(try installation.verifyLog().isValid)
  }
}

/// Writes an index as lrj before "sealed at rest" kept it (schema v2, clear rows, thumbnails sealed with a
/// symmetric key), from a current vault, in its place.
enum LegacyVault {
  /// - Returns: each track's clear thumbnail, and the clear path blobs written.
  static func write(
    from vault: URL, opener: ProcedureOpener, legacyKey: LegacyProcedureKey, procedure: String
  ) throws -> (thumbnails: [String: Data], paths: [Data]) {
    let sealing = try ProcedureSealing(opener: opener)
    let current = try IndexStore(path: vault.path, sealing: sealing)
    let legacyPath = vault.deletingLastPathComponent().appendingPathComponent("legacy.sqlite").path
    let legacy = try DatabaseQueue(path: legacyPath)
    try Schema.migrator(sealing: NoSealing()).migrate(legacy, upTo: "v2-operation")
    var thumbnails: [String: Data] = [:]
    var paths: [Data] = []
    let rows = try current.writer.read { db in
      (cameras: try Row.fetchAll(db, sql: "SELECT * FROM camera"),
       exhibits: try Row.fetchAll(db, sql: "SELECT id, file_name, sha256, size_bytes, container, codec, width, height, fps, camera_id, start_utc, utc_offset, ingested_at, duration, frames_decoded, skipped_packets, complete, operation FROM exhibit"),
       tracks: try Row.fetchAll(db, sql: "SELECT t.id, t.exhibit_id, t.camera_id, t.detail, h.format, h.bytes FROM track t LEFT JOIN thumbnail h ON h.track_id = t.id"))
    }
    try legacy.write { db in
      for row in rows.cameras { try db.execute(sql: "INSERT INTO camera (id, name) VALUES (?, ?)", arguments: [row["id"], row["name"]]) }
      for row in rows.exhibits {
        try db.execute(
          sql: "INSERT INTO exhibit (id, file_name, sha256, size_bytes, container, codec, width, height, fps, camera_id, start_utc, utc_offset, ingested_at, duration, frames_decoded, skipped_packets, complete, operation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          arguments: StatementArguments(row.databaseValues))
        try db.execute(
          sql: "INSERT INTO search_block (exhibit_id, block, track_count, min_start_utc, max_start_utc, max_end_utc, data, paths) VALUES (?, 0, 1, 0, 0, 0, ?, x'01')",
          arguments: [row["id"], Data(repeating: 1, count: 105)])
      }
      for row in rows.tracks {
        let id: Int64 = row["id"]
        let detail = try sealing.detail(row: id, sealed: row["detail"])
        try db.execute(
          sql: """
            INSERT INTO track (id, exhibit_id, camera_id, class, class_confidence, direction, speed, start_offset, end_offset,
              start_utc, end_utc, first_x, first_y, first_w, first_h, last_x, last_y, last_w, last_h, frame_width, frame_height, max_area)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [id, row["exhibit_id"], row["camera_id"], detail.objectClass.rawValue, detail.classConfidence, detail.direction.rawValue,
                      detail.speed, detail.startOffset, detail.endOffset, detail.startUTC, detail.endUTC, detail.firstBox.x, detail.firstBox.y,
                      detail.firstBox.width, detail.firstBox.height, detail.lastBox.x, detail.lastBox.y, detail.lastBox.width,
                      detail.lastBox.height, detail.frameWidth, detail.frameHeight, detail.maxArea])
        for colour in detail.colours {
          try db.execute(sql: "INSERT INTO track_colour (track_id, colour, fraction) VALUES (?, ?, ?)", arguments: [id, colour.colour.rawValue, colour.fraction])
        }
        try db.execute(sql: "INSERT INTO track_path (track_id, sample_count, samples) VALUES (?, ?, ?)",
                       arguments: [id, (detail.path.count - 1) / 24, detail.path])
        paths.append(detail.path)
        if let bytes = row["bytes"] as Data? {
          let track = Identifier.track(id)
          let png = try opener.open(bytes, context: "thumbnail \(track)")
          thumbnails[track] = png
          try db.execute(sql: "INSERT INTO thumbnail (track_id, format, bytes) VALUES (?, 'sealed-png', ?)",
                         arguments: [id, try legacyKey.seal(png, procedure: procedure, context: "thumbnail \(track)")])
        }
      }
    }
    try legacy.close()
    try current.close()
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: vault.path + suffix) }
    try FileManager.default.moveItem(atPath: legacyPath, toPath: vault.path)
    return (thumbnails, paths)
  }
}

/// Where an earlier upgrade of an installation was killed.
enum UpgradeInterruption: CaseIterable, Sendable {
  case never
  case afterWritingTheKeyFile
  case afterSealingTheVault
}
