import Consultation
import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

/// Governance under attack (issue 20): an insider who holds one magistrate key, or who can write
/// `LRJ_HOME`, tries what the adversarial review tried; each attempt is refused and logged, or named
/// by `lrj log verify`. Every test drives the built `lrj` as the attacker or operator would.
@Suite(.serialized)
struct GovernanceAttackTests {
  static func entries(_ installation: TestInstallation) throws -> [LogEntry] {
    try Installation.open(home: installation.home).logEntries().compactMap(\.entry)
  }

  /// Runs lrj expecting a one-line error containing `message`.
  @discardableResult
  static func expectError(
    _ installation: TestInstallation, _ arguments: [String], as user: String, _ message: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> ProcessResult {
    let result = try Run.lrj(arguments, environment: installation.env(as: user))
    #expect(result.status != 0 && result.status < 128, "\(arguments) must fail", sourceLocation: sourceLocation)
    #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(message),
            "\(arguments): \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.standardError.split(separator: "\n").count == 1, "one line: \(result.standardError)", sourceLocation: sourceLocation)
    return result
  }

  /// `lrj log verify` must fail and name `message`.
  static func expectVerifyNames(_ installation: TestInstallation, _ message: String, as user: String = "opj",
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Run.lrj(["log", "verify"], environment: installation.env(as: user))
    #expect(result.status != 0, "log verify must fail for: \(message)", sourceLocation: sourceLocation)
    #expect((result.standardError + result.standardOutput).contains(message),
            "log verify must name \(message): \(result.standardError) \(result.standardOutput)", sourceLocation: sourceLocation)
  }

  static func expectVerifies(_ installation: TestInstallation, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Run.lrj(["log", "verify"], environment: installation.env())
    #expect(result.status == 0, "\(result.standardError) \(result.standardOutput)", sourceLocation: sourceLocation)
  }

  static func enrol(_ installation: TestInstallation, _ user: String, role: String) throws {
    try installation.enrol(user, role: role)
  }

  /// Signs a token with `user`'s key outside `lrj authorise` (as a magistrate may, offline).
  static func signOffline(
    _ installation: TestInstallation, by user: String, procedure: String, investigators: [String], tokenID: String? = nil
  ) throws -> String {
    let key = try SealedKeyFile.read(from: URL(fileURLWithPath: installation.key(user))).unseal(passphrase: TestInstallation.passphrase)
    let id = try Installation.open(home: installation.home).id
    let now = Date()
    let claims = AuthorisationClaims(
      installation: id, procedure: procedure, kind: .flagrance, investigators: investigators, issuer: user,
      notBefore: now.addingTimeInterval(-60), expires: now.addingTimeInterval(86_400), issuedAt: now,
      tokenID: tokenID ?? AuthorisationClaims.newTokenID())
    let token = try Authorisation.issue(claims, key: PasetoV4SecretKey(key))
    let file = installation.folder.appendingPathComponent("offline-\(UUID().uuidString.prefix(6)).token")
    try Data(token.utf8).write(to: file)
    return file.path
  }

  /// Runs SQL on a database of the installation, as an insider with write access to LRJ_HOME would.
  static func tamper(_ path: URL, _ sql: String) throws {
    let db = try DatabaseQueue(path: path.path)
    try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA foreign_keys = OFF; " + sql) }
    try db.close()
  }

  @Test func aMagistrateCannotTakeOverAnotherMagistratesProcedure() throws {
    let installation = try TestInstallation.make("lrj-takeover")
    defer { installation.remove() }
    try Self.enrol(installation, "judge2", role: "magistrate")
    try Self.enrol(installation, "opj2", role: "investigator")
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    let reports = installation.folder.appendingPathComponent("reports")
    let out = installation.folder.appendingPathComponent("x.token").path

    // judge2 signs a token for judge's procedure: refused at once, logged; nothing is granted.
    let refusedBefore = try Self.entries(installation).filter { $0.outcome == .refused }.count
    try Self.expectError(installation, ["authorise", "--procedure", "P1", "--kind", "flagrance", "--investigator", "opj2",
                                        "--until", "2099-12-31", "--out", out], as: "judge2", "in the charge of magistrate judge")
    #expect(!FileManager.default.fileExists(atPath: out))
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "judge2", "not the magistrate in charge of procedure P1")
    try Self.expectError(installation, ["log", "--procedure", "P1"], as: "judge2", "not the magistrate in charge of procedure P1")
    try Self.expectError(installation, ["procedure", "close", "--procedure", "P1", "--report", reports.path, "--with-data"],
                         as: "judge2", "not the magistrate in charge of procedure P1")
    let refusals = try Self.entries(installation).filter { $0.outcome == .refused }
    #expect(refusals.count == refusedBefore + 4, "each refusal is logged")
    #expect(refusals.last { $0.operation == "log" }?.procedure == "P1", "the refused log consultation records its filter")
    #expect(!(try Run.lrj(["log"], environment: installation.env(as: "judge2")).standardOutput.contains("\tP1\tsearch\tsuccess")))
    #expect(!FileManager.default.fileExists(atPath: reports.path), "no report, no data exported")

    // judge2 signs one offline: presenting it is refused, logged; opj2 never reaches P1.
    let offline = try Self.signOffline(installation, by: "judge2", procedure: "P1", investigators: ["opj2"])
    try Self.expectError(installation, ["procedure", "open", "--token", offline], as: "opj2", "in the charge of magistrate judge")
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "opj2", "not named")

    // The administrator cannot enrol a magistrate and reach P1 either: same refusal.
    try Self.enrol(installation, "judge3", role: "magistrate")
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "judge3", "not the magistrate in charge")
    try Self.expectVerifies(installation)

    // Only the magistrate in charge (or the controller) hands the procedure over; then judge2 acts, judge no longer.
    try Self.expectError(installation, ["procedure", "transfer", "--procedure", "P1", "--to", "judge2"], as: "judge2",
                         "in the charge of magistrate judge")
    try Self.expectError(installation, ["procedure", "transfer", "--procedure", "P1", "--to", "opj2"], as: "judge",
                         "not an enrolled, enabled magistrate")
    try installation.expect(["procedure", "transfer", "--procedure", "P1", "--to", "judge2"], installation.env(as: "judge"))
    try installation.expect(["search", "--procedure", "P1"], installation.env(as: "judge2"))
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "judge", "not the magistrate in charge")
    let list = try installation.expect(["procedure", "list"], installation.env(as: "judge2"))
    #expect(list.standardOutput.contains("P1") && list.standardOutput.contains("magistrate judge2"))
    // Tokens of the former magistrate no longer admit anyone; the new one's do.
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "opj", "no longer in charge")
    let token = try installation.expect(
      ["authorise", "--procedure", "P1", "--kind", "flagrance", "--investigator", "opj", "--until", "2099-12-31", "--out", out],
      installation.env(as: "judge2"))
    #expect(token.status == 0)
    try installation.expect(["procedure", "open", "--token", out], installation.env())
    try installation.expect(["search", "--procedure", "P1"], installation.env())
    try Self.expectVerifies(installation)

    // Moving the charge by editing the registry is named.
    try Self.tamper(installation.home.appendingPathComponent("registry.sqlite"), "UPDATE procedure SET magistrate = 'judge3' WHERE id = 'P1'")
    try Self.expectVerifyNames(installation, "procedure P1 differs from the log (edited)")
  }

  @Test func tokenIDsAreUniqueAndOfflineTokensAreRecorded() throws {
    let installation = try TestInstallation.make("lrj-tokens")
    defer { installation.remove() }
    let opened = try #require(try Self.entries(installation).last { $0.operation == "procedure.open" }?.parameters["token"])
    // A validly signed token for a new procedure that reuses P1's token id: refused, nothing overwritten.
    let reused = try Self.signOffline(installation, by: "judge", procedure: "P2", investigators: ["opj"], tokenID: opened)
    try Self.expectError(installation, ["procedure", "open", "--token", reused], as: "opj", "already used by another authorisation")
    try installation.expect(["search", "--procedure", "P1"], installation.env())
    try Self.expectError(installation, ["search", "--procedure", "P2"], as: "opj", "no procedure P2")
    try Self.expectVerifies(installation)

    // A token signed offline (not through lrj authorise) is recorded when presented; the log still verifies.
    let offline = try Self.signOffline(installation, by: "judge", procedure: "P3", investigators: ["opj"])
    try installation.expect(["procedure", "open", "--token", offline], installation.env())
    let open = try #require(try Self.entries(installation).last { $0.operation == "procedure.open" && $0.procedure == "P3" })
    #expect(open.parameters["issued"]?.hasPrefix("offline") == true && open.parameters["investigators"] == "opj")
    try installation.expect(["search", "--procedure", "P3"], installation.env())
    try Self.expectVerifies(installation)

    // Only enrolled, enabled investigators may be named: not the administrator, not a stranger.
    let naming = try Self.signOffline(installation, by: "judge", procedure: "P4", investigators: ["opj", "admin"])
    try Self.expectError(installation, ["procedure", "open", "--token", naming], as: "opj", "admin is not an enrolled, enabled investigator")
    let byAuthorise = installation.folder.appendingPathComponent("p5.token").path
    try Self.expectError(installation, ["authorise", "--procedure", "P5", "--kind", "flagrance", "--investigator", "admin",
                                        "--until", "2099-12-31", "--out", byAuthorise], as: "judge", "not an enrolled, enabled investigator")
    try Self.expectVerifies(installation)
  }

  @Test func registryEditsBehindLrjsBackAreNamed() throws {
    let installation = try TestInstallation.make("lrj-registry-edits")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    try Self.expectVerifies(installation)
    let registry = installation.home.appendingPathComponent("registry.sqlite")
    let pristine = installation.folder.appendingPathComponent("pristine.sqlite")
    let source = try DatabaseQueue(path: registry.path)
    try source.backup(to: try DatabaseQueue(path: pristine.path))
    try source.close()
    let kek = installation.home.appendingPathComponent("keys/kek")
    let kekBytes = try Data(contentsOf: kek)
    let cases: [(String, String, String)] = [
      ("promote an investigator", "UPDATE user SET role = 'controller' WHERE id = 'opj'", "user opj differs from the log (edited)"),
      ("insert a user", "INSERT INTO user(id, role, public_key, enabled, enrolled_at, enrolled_by) VALUES ('mallory', 'controller', 'AAAA', 1, 0, 'admin')",
       "user mallory is in the registry"),
      ("delete a user", "DELETE FROM user WHERE id = 'controller'", "user controller"),
      ("re-enable", "UPDATE user SET enabled = 0 WHERE id = 'judge'", "user judge differs from the log"),
      ("close a procedure by hand", "UPDATE procedure SET status = 'closed' WHERE id = 'P1'", "procedure P1 differs from the log (edited)"),
      ("change its kind", "UPDATE procedure SET kind = 'flagrance' WHERE id = 'P1'", "procedure P1 differs from the log (edited)"),
      ("insert a procedure", "INSERT INTO procedure(id, kind, opened_at, opened_by, status, magistrate) VALUES ('P9', 'flagrance', 0, 'opj', 'open', 'judge')",
       "procedure P9 is in the registry"),
      ("drop a procedure's key", "UPDATE procedure SET public_key = NULL WHERE id = 'P1'", "open procedure P1 has no public key"),
      ("swap a procedure's public key", "UPDATE procedure SET public_key = randomblob(32) WHERE id = 'P1'",
       "procedure P1 differs from the log (edited)"),
      ("insert an authorisation", "INSERT INTO authorisation(jti, procedure, kind, issuer, investigators, nbf, exp, iat) VALUES ('\(String(repeating: "a", count: 32))', 'P1', 'preliminary', 'judge', '[\"opj\"]', 0, 4102444800, 0)",
       "authorisation \(String(repeating: "a", count: 32)) is in the registry"),
    ]
    for (what, sql, message) in cases {
      for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
      let copy = try DatabaseQueue(path: registry.path)
      try DatabaseQueue(path: pristine.path).backup(to: copy)
      try copy.close()
      try Self.tamper(registry, sql)
      try Self.expectVerifyNames(installation, message)
      _ = what
    }
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
    try DatabaseQueue(path: pristine.path).backup(to: try DatabaseQueue(path: registry.path))
    try Self.expectVerifies(installation)

    // The vault, the procedure keys and the installation key.
    let vault = installation.home.appendingPathComponent("procedures/P1")
    let aside = installation.folder.appendingPathComponent("vault-aside")
    try FileManager.default.moveItem(at: vault, to: aside)
    try Self.expectVerifyNames(installation, "the vault of open procedure P1 is missing")
    try FileManager.default.moveItem(at: aside, to: vault)
    try Data(repeating: 7, count: 32).write(to: kek)
    try Self.expectVerifyNames(installation, "the key of procedure P1 (")
    try kekBytes.write(to: kek)
    let procedureKey = installation.home.appendingPathComponent("keys/procedures/P1")
    let procedureKeyBytes = try Data(contentsOf: procedureKey)
    try FileManager.default.removeItem(at: procedureKey)
    try Self.expectVerifyNames(installation, "the key of procedure P1 is missing")
    try procedureKeyBytes.write(to: procedureKey)
    try Self.expectVerifies(installation)
    try FileManager.default.removeItem(at: kek)
    try Self.expectVerifyNames(installation, "the installation key")
    try kekBytes.write(to: kek)
    try Self.expectVerifies(installation)
  }

  @Test func evidenceEditsBehindLrjsBackAreNamed() throws {
    let installation = try TestInstallation.make("lrj-evidence-edits")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    // A correction ordered by the magistrate (L9) is logged with the exhibit's new digest: still verifies.
    try installation.expect(["erase", "--procedure", "P1", "--track", "T2", "--reason", "ordered by the judge"], installation.env(as: "judge"))
    try Self.expectVerifies(installation)
    let index = installation.home.appendingPathComponent("procedures/P1/index.sqlite")
    let pristine = installation.folder.appendingPathComponent("pristine-index.sqlite")
    let source = try DatabaseQueue(path: index.path)
    try source.backup(to: try DatabaseQueue(path: pristine.path))
    try source.close()
    let cases: [(String, String)] = [
      // Track details are sealed: a flipped byte, or another track's sealed detail moved in.
      ("UPDATE track SET detail = CAST(substr(detail, 1, 120) || x'7f' || substr(detail, 122) AS BLOB) WHERE id = 3", "track T3 edited"),
      ("UPDATE track SET detail = (SELECT detail FROM track WHERE id = 5) WHERE id = 4", "track T4 edited"),
      ("DELETE FROM track WHERE id = 6", "track T6 deleted"),
      ("INSERT INTO track (id, exhibit_id, camera_id, detail) SELECT 99, exhibit_id, camera_id, detail FROM track WHERE id = 3",
       "track T99 added"),
      // One byte of a search block changes what a search finds.
      ("UPDATE search_block SET data = CAST(substr(data, 1, 20) || x'7f' || substr(data, 22) AS BLOB) WHERE block = 0", "search blocks edited"),
      ("UPDATE exhibit SET start_utc = start_utc + 3600", "differs from what its ingest logged"),
      ("DELETE FROM exhibit", "is missing from its index (deleted)"),
    ]
    for (sql, message) in cases {
      for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index.path + suffix) }
      try DatabaseQueue(path: pristine.path).backup(to: try DatabaseQueue(path: index.path))
      try Self.tamper(index, sql)
      try Self.expectVerifyNames(installation, message)
    }
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index.path + suffix) }
    try DatabaseQueue(path: pristine.path).backup(to: try DatabaseQueue(path: index.path))
    try Self.expectVerifies(installation)
  }

  @Test func cuttingTheTailOrRestoringAnOlderRegistryIsNamed() throws {
    let installation = try TestInstallation.make("lrj-rollback")
    defer { installation.remove() }
    let registry = installation.home.appendingPathComponent("registry.sqlite")
    let backup = installation.folder.appendingPathComponent("backup.sqlite")
    let source = try DatabaseQueue(path: registry.path)
    try source.backup(to: try DatabaseQueue(path: backup.path))
    try source.close()
    let homeCheckpointBackup = try Data(contentsOf: installation.home.appendingPathComponent("checkpoint"))
    try installation.expect(["search", "--procedure", "P1"], installation.env())
    try installation.expect(["search", "--procedure", "P1", "--class", "car"], installation.env())
    try Self.expectVerifies(installation)

    // Cut the tail: the last entries and their checkpoints, all inside registry.sqlite.
    let count = try Self.entries(installation).count
    let pristine = installation.folder.appendingPathComponent("pristine.sqlite")
    let copy = try DatabaseQueue(path: registry.path)
    try copy.backup(to: try DatabaseQueue(path: pristine.path))
    try copy.close()
    try Self.tamper(registry, """
      DROP TRIGGER log_entry_no_delete; DROP TRIGGER log_checkpoint_no_delete;
      DELETE FROM log_body WHERE seq > \(count - 2); DELETE FROM log_entry WHERE seq > \(count - 2);
      DELETE FROM log_checkpoint WHERE size > \(count - 2);
      """)
    try Self.expectVerifyNames(installation, "entries \(count - 1) to \(count) were removed")
    // Every command refuses to act on a log that lost its tail.
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "opj", "does not match a kept checkpoint")

    // Restore an older registry (a backup), with the home's checkpoint of that time too: each user's
    // own cache still knows better.
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
    try DatabaseQueue(path: backup.path).backup(to: try DatabaseQueue(path: registry.path))
    try homeCheckpointBackup.write(to: installation.home.appendingPathComponent("checkpoint"))
    try Self.expectVerifyNames(installation, "registry.sqlite was replaced by an older copy")
    try Self.expectError(installation, ["search", "--procedure", "P1"], as: "opj", "does not match a kept checkpoint")

    // Back to the real registry: everything verifies; a checkpoint someone kept checks the log too.
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
    try DatabaseQueue(path: pristine.path).backup(to: try DatabaseQueue(path: registry.path))
    try Self.expectVerifies(installation)
    let kept = installation.folder.appendingPathComponent("kept.checkpoint")
    try FileManager.default.copyItem(at: installation.cache("opj").appendingPathComponent(
      "\(try Installation.open(home: installation.home).id).checkpoint"), to: kept)
    try installation.expect(["log", "verify", "--checkpoint", kept.path], installation.env())

    // The closure report carries the log's head: after closure, the report checks the log.
    let reports = installation.folder.appendingPathComponent("reports")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", reports.path], installation.env(as: "judge"))
    let report = reports.appendingPathComponent("closure-P1.json")
    let manifest = try JSONDecoder().decode(ClosureManifest.self, from: Data(contentsOf: report))
    #expect(manifest.checkpoint?.contains("lrj/") == true)
    #expect(try String(contentsOf: reports.appendingPathComponent("closure-P1.md"), encoding: .utf8).contains("Checkpoint"))
    try installation.expect(["log", "verify", "--checkpoint", report.path], installation.env())
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
    try DatabaseQueue(path: backup.path).backup(to: try DatabaseQueue(path: registry.path))
    try? FileManager.default.removeItem(at: installation.home.appendingPathComponent("checkpoint"))
    let result = try Run.lrj(["log", "verify", "--checkpoint", report.path], environment: ["LRJ_HOME": installation.home.path,
                                                                                           "LRJ_CACHE": installation.cache("nobody").path])
    #expect(result.status != 0 && result.standardError.contains(report.path), "\(result.standardError)")
  }

  @Test func twoClosuresAtOnceOneWins() throws {
    let installation = try TestInstallation.make("lrj-two-closers")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    let a = installation.folder.appendingPathComponent("report-a")
    let b = installation.folder.appendingPathComponent("report-b")
    let results = LockedResults()
    DispatchQueue.concurrentPerform(iterations: 2) { index in
      let (user, folder) = index == 0 ? ("judge", a) : ("controller", b)
      results.set(index, try? Run.lrj(["procedure", "close", "--procedure", "P1", "--report", folder.path, "--with-data"],
                                      environment: installation.env(as: user)))
    }
    let outcomes = [results.get(0), results.get(1)].compactMap { $0 }
    #expect(outcomes.filter { $0.status == 0 }.count == 1, "exactly one closer wins")
    let loser = try #require(outcomes.first { $0.status != 0 })
    #expect(loser.standardError.hasPrefix("error: ") && loser.standardError.split(separator: "\n").count == 1, "\(loser.standardError)")
    #expect(loser.standardError.contains("being closed") || loser.standardError.contains("was closed"), "\(loser.standardError)")
    let log = try Self.entries(installation)
    #expect(log.filter { $0.parameters["step"] == "key-destroyed" }.count == 1, "the key is destroyed once")
    #expect(log.contains { $0.operation == "procedure.close" && $0.outcome == .refused })
    // The loser left nothing: its folder has no file at all.
    let winner = FileManager.default.fileExists(atPath: a.appendingPathComponent("closure-P1.json").path) ? a : b
    let other = winner == a ? b : a
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: other.path)) ?? []).isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: winner.path).count == 5)
    try Self.expectVerifies(installation)
  }

  @Test func aMissingReportFolderIsCreatedOrNamed() throws {
    let installation = try TestInstallation.make("lrj-report-folder")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    let missing = installation.folder.appendingPathComponent("no/such/folder")
    try Self.expectError(installation, ["procedure", "close", "--procedure", "P1", "--report", missing.path], as: "judge",
                         "its parent folder \(missing.deletingLastPathComponent().path) does not exist")
    let created = installation.folder.appendingPathComponent("new-report")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", created.path, "--with-data"], installation.env(as: "judge"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: created.path).count == 5)
    try Self.expectVerifies(installation)
  }

  /// A small file system of its own (tmpfs), for full-disk tests; nil when this user may not mount one.
  final class SmallDisk {
    let folder: URL
    init?(kilobytes: Int) {
      folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-full-\(UUID().uuidString.prefix(8))")
      try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      guard getuid() == 0, (try? Run.program("mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder.path]).status) == 0
      else {
        try? FileManager.default.removeItem(at: folder)
        return nil
      }
    }
    /// Fills it, leaving about `kilobytes` free.
    func fill(leaving kilobytes: Int) throws {
      var stat = statvfs()
      guard statvfs(folder.path, &stat) == 0 else { return }
      let free = Int(stat.f_bavail) * Int(stat.f_frsize)
      try Data(count: max(0, free - kilobytes * 1024)).write(to: folder.appendingPathComponent("filler"))
    }
    func unfill() { try? FileManager.default.removeItem(at: folder.appendingPathComponent("filler")) }
    deinit {
      _ = try? Run.program("umount", [folder.path])
      try? FileManager.default.removeItem(at: folder)
    }
  }

  @Test func aFullDiskLeavesNothingHalfDoneAndNothingInClear() throws {
    guard let disk = SmallDisk(kilobytes: 8192) else {
      print("full-disk tests skipped: mounting a tmpfs needs root")
      return
    }
    // The closure report on a full disk: refused, nothing in clear left; a retry elsewhere finishes.
    let installation = try TestInstallation.make("lrj-full-disk")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    let report = disk.folder.appendingPathComponent("report")
    try FileManager.default.createDirectory(at: report, withIntermediateDirectories: true)
    try disk.fill(leaving: 16)
    let full = try Run.lrj(["procedure", "close", "--procedure", "P1", "--report", report.path, "--with-data"],
                           environment: installation.env(as: "judge"))
    #expect(full.status == 1 && full.standardError.hasPrefix("error: ") && full.standardError.split(separator: "\n").count == 1,
            "\(full.standardError)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: report.path).isEmpty, "no partial archive in clear")
    #expect(FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("procedures/P1/index.sqlite").path),
            "nothing erased before the report exists")
    try Self.expectVerifies(installation)
    disk.unfill()
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", report.path, "--with-data"], installation.env(as: "judge"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: report.path).count == 5)
    try Self.expectVerifies(installation)

    // An ingest into an installation whose disk is full: a failure, logged as far as the disk allows;
    // never a success entry for an exhibit that was not stored, and the exhibit id is never reused.
    let home = disk.folder.appendingPathComponent("home")
    let small = try TestInstallation.make("lrj-full-home", home: home)
    defer { small.remove() }
    try small.expect(["ingest", "--procedure", "P1", "--camera", "street", "--start", "2026-03-01T10:00:00+01:00", TestPaths.samplesClip],
                     small.env())
    let copy = small.folder.appendingPathComponent("copy.mp4")
    var bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samplesClip))
    bytes.append(1)
    try bytes.write(to: copy)
    try disk.fill(leaving: 64)
    let failed = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "street", copy.path], environment: small.env())
    #expect(failed.status == 1 && failed.standardError.hasPrefix("error: "), "\(failed.standardError)")
    disk.unfill()
    try small.expect(["search", "--procedure", "P1"], small.env())
    let log = try Self.entries(small)
    let stored = log.filter { $0.operation == "ingest" && $0.outcome == .success }.compactMap { $0.parameters["exhibit"] }
    #expect(stored == ["E1"], "only what was stored is logged as stored: \(stored)")
    try Self.expectVerifies(small)
    let again = try small.expect(["ingest", "--procedure", "P1", "--camera", "street", copy.path], small.env())
    #expect(!again.standardOutput.contains("exhibit E1 "), "\(again.standardOutput)")
    try Self.expectVerifies(small)
  }
}
