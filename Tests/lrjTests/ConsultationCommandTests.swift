import Consultation
import Foundation
import GRDB
import TestSupport
import Testing

/// Authorisation, the consultation log, closure and erasure, through the `lrj` binary (issue 5).
@Suite(.serialized)
struct ConsultationCommandTests {
  /// The log as stored (read directly, as an auditor's tool would).
  static func entries(_ installation: TestInstallation) throws -> [LogEntry] {
    try Installation.open(home: installation.home).logEntries().compactMap(\.entry)
  }

  /// Runs lrj expecting a one-line error containing `message` and one more refused entry in the log.
  static func expectRefused(
    _ installation: TestInstallation, _ arguments: [String], as environment: [String: String], _ message: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let before = try entries(installation).filter { $0.outcome == .refused }.count
    let result = try Run.lrj(arguments, environment: environment)
    #expect(result.status != 0, "\(arguments) must be refused", sourceLocation: sourceLocation)
    #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(message),
            "\(arguments): \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.standardError.split(separator: "\n").count == 1, "one line: \(result.standardError)", sourceLocation: sourceLocation)
    let after = try entries(installation).filter { $0.outcome == .refused }.count
    #expect(after == before + 1, "\(arguments): one refused entry logged", sourceLocation: sourceLocation)
  }

  /// Enrols another user through the binary.
  static func enrol(_ installation: TestInstallation, _ user: String, role: String) throws {
    try installation.enrol(user, role: role)
  }

  @Test func everyRefusalIsAClearErrorAndALogEntry() throws {
    let installation = try TestInstallation.make("lrj-refusals")
    defer { installation.remove() }
    let search = ["search", "--procedure", "P1"]
    // A procedure that was never opened.
    try Self.expectRefused(installation, ["search", "--procedure", "P9"], as: installation.env(), "no procedure P9")
    // The administrator has no access to procedure data.
    try Self.expectRefused(installation, search, as: installation.env(as: "admin"), "administrators have no access")
    // A magistrate who did not authorise the procedure.
    try Self.enrol(installation, "judge2", role: "magistrate")
    try Self.expectRefused(installation, search, as: installation.env(as: "judge2"), "is not the magistrate in charge of procedure P1")
    // Its magistrate and the controller may consult it; an investigator may not close it.
    #expect(try Run.lrj(search, environment: installation.env(as: "judge")).status == 0)
    #expect(try Run.lrj(search, environment: installation.env(as: "controller")).status == 0)
    let reports = installation.folder.appendingPathComponent("reports")
    try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
    try Self.expectRefused(installation, ["procedure", "close", "--procedure", "P1", "--report", reports.path],
                           as: installation.env(), "closure is ordered by the magistrate")

    // An investigator the token does not name.
    try Self.enrol(installation, "opj2", role: "investigator")
    let token = try installation.authorise("P2")
    try Self.expectRefused(installation, ["procedure", "open", "--token", token], as: installation.env(as: "opj2"),
                           "user \"opj2\" is not named in the authorisation")
    try Self.expectRefused(installation, ["search", "--procedure", "P1"], as: installation.env(as: "opj2"),
                           "user \"opj2\" is not named in the authorisation")
    // A token can be presented once.
    try installation.expect(["procedure", "open", "--token", token], installation.env())
    try Self.expectRefused(installation, ["procedure", "open", "--token", token], as: installation.env(), "already been presented")
    // Not yet valid.
    let future = try installation.authorise("P3", until: "2099-12-31", from: "2099-01-01")
    try Self.expectRefused(installation, ["procedure", "open", "--token", future], as: installation.env(), "not valid before 2099-01-01")
    // A kind the law does not allow never becomes a token.
    let badKind = try Run.lrj(["authorise", "--procedure", "P4", "--kind", "administrative", "--investigator", "opj",
                               "--until", "2099-12-31", "--out", installation.folder.appendingPathComponent("x.token").path],
                              environment: installation.env(as: "judge"))
    #expect(badKind.status != 0 && badKind.standardError.contains("kind \"administrative\" is not allowed"))
    // Only magistrates authorise.
    try Self.expectRefused(installation, ["authorise", "--procedure", "P5", "--kind", "flagrance", "--investigator", "opj",
                                          "--until", "2099-12-31", "--out", installation.folder.appendingPathComponent("y.token").path],
                           as: installation.env(), "only a magistrate authorises")

    // Truncated and garbled tokens.
    let tokenText = try String(contentsOfFile: try installation.authorise("P6"), encoding: .utf8)
    let truncated = installation.folder.appendingPathComponent("truncated.token")
    try Data(tokenText.prefix(tokenText.count / 2).utf8).write(to: truncated)
    try Self.expectRefused(installation, ["procedure", "open", "--token", truncated.path], as: installation.env(), "authorisation refused")
    let garbled = installation.folder.appendingPathComponent("garbled.token")
    var bytes = Array(tokenText.utf8)
    bytes[40] = bytes[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    try Data(bytes).write(to: garbled)
    try Self.expectRefused(installation, ["procedure", "open", "--token", garbled.path], as: installation.env(), "authorisation refused")

    // A token signed by a key this installation does not know, and one from another installation.
    let other = try TestInstallation.make("lrj-other", procedure: nil)
    defer { other.remove() }
    try Self.enrol(other, "judge9", role: "magistrate")
    let foreign = try other.expect(
      ["authorise", "--procedure", "P7", "--kind", "flagrance", "--investigator", "opj", "--until", "2099-12-31",
       "--out", other.folder.appendingPathComponent("foreign.token").path], other.env(as: "judge9"))
    #expect(foreign.status == 0)
    try Self.expectRefused(installation, ["procedure", "open", "--token", other.folder.appendingPathComponent("foreign.token").path],
                           as: installation.env(), "no enrolled key for issuer \"judge9\"")
    let otherJudgeToken = try other.authorise("P8")
    try Self.expectRefused(installation, ["procedure", "open", "--token", otherJudgeToken], as: installation.env(),
                           "authorisation refused")

    // Revoked: the open procedure's operations are refused from then on.
    let revocable = try installation.authorise("P10")
    try installation.expect(["procedure", "open", "--token", revocable], installation.env())
    #expect(try Run.lrj(["search", "--procedure", "P10"], environment: installation.env()).status == 0)
    let tokenID = try #require(Self.entries(installation).last { $0.operation == "procedure.open" && $0.procedure == "P10" }?.parameters["token"])
    try Self.expectRefused(installation, ["authorise", "--revoke", tokenID], as: installation.env(as: "judge2"),
                           "only the magistrate in charge of procedure P10 or the controller")
    try installation.expect(["authorise", "--revoke", tokenID], installation.env(as: "judge"))
    try Self.expectRefused(installation, ["search", "--procedure", "P10"], as: installation.env(), "has been revoked")

    // Wrong passphrase, truncated key file, disabled user.
    var wrong = installation.env()
    wrong["LRJ_PASSPHRASE"] = "not the passphrase"
    try Self.expectRefused(installation, search, as: wrong, "wrong passphrase")
    let keyBytes = try Data(contentsOf: URL(fileURLWithPath: installation.key("opj")))
    let truncatedKey = installation.folder.appendingPathComponent("truncated.key")
    try keyBytes.prefix(keyBytes.count / 2).write(to: truncatedKey)
    var badKey = installation.env()
    badKey["LRJ_KEY"] = truncatedKey.path
    try Self.expectRefused(installation, search, as: badKey, "error: ")
    try installation.expect(["user", "disable", "opj"], installation.env(as: "admin"))
    try Self.expectRefused(installation, search, as: installation.env(), "user opj is disabled")

    let verified = try Run.lrj(["log", "verify"], environment: installation.env())
    #expect(verified.status == 0, "\(verified.standardError)")
  }

  @Test func tamperingWithTheLogIsFoundAndNamed() throws {
    let installation = try TestInstallation.make("lrj-tamper")
    defer { installation.remove() }
    for _ in 0..<3 { try installation.expect(["search", "--procedure", "P1", "--class", "car"], installation.env()) }
    // A second authorisation, revoked: the registry must keep agreeing with the log.
    try installation.authorise("P1")
    let pending = try DatabaseQueue(path: installation.home.appendingPathComponent("registry.sqlite").path)
    let jti = try #require(try pending.read { try String.fetchOne($0, sql: "SELECT jti FROM authorisation WHERE token IS NULL") })
    try pending.close()
    try installation.expect(["authorise", "--revoke", jti], installation.env(as: "judge"))
    // A failed attempt last: it is sealed too, so removing it from the end is found.
    #expect(try Run.lrj(["search", "--procedure", "P1", "--class", "dragon"], environment: installation.env()).status != 0)
    #expect(try Self.entries(installation).last.map { $0.operation == "search" && $0.outcome != .success } == true)
    let registry = installation.home.appendingPathComponent("registry.sqlite")
    let pristine = installation.folder.appendingPathComponent("pristine.sqlite")
    let count = try Self.entries(installation).count
    #expect(count >= 9)
    // Snapshot the registry, then tamper with a copy of it each time.
    try installation.expect(["log", "verify"], installation.env())
    let snapshot = try DatabaseQueue(path: registry.path)
    try snapshot.backup(to: try DatabaseQueue(path: pristine.path))
    try snapshot.close()
    let tamperings: [(String, String, String)] = [
      ("edit an entry's parameters", "DROP TRIGGER log_body_no_update; UPDATE log_body SET body = CAST(replace(CAST(body AS TEXT), 'class\":\"car', 'class\":\"bus') AS BLOB) WHERE seq = 8",
       "entry 8"),
      ("delete an entry", "DROP TRIGGER log_entry_no_delete; DELETE FROM log_body WHERE seq = 6; DELETE FROM log_entry WHERE seq = 6", "entry 6"),
      ("swap two entries", """
        DROP TRIGGER log_entry_no_update; DROP TRIGGER log_body_no_update;
        UPDATE log_entry SET seq = -1 WHERE seq = 5; UPDATE log_entry SET seq = 5 WHERE seq = 7; UPDATE log_entry SET seq = 7 WHERE seq = -1;
        UPDATE log_body SET seq = -1 WHERE seq = 5; UPDATE log_body SET seq = 5 WHERE seq = 7; UPDATE log_body SET seq = 7 WHERE seq = -1;
        """, "entry 5"),
      ("truncate the log", "DROP TRIGGER log_entry_no_delete; DELETE FROM log_body WHERE seq > \(count - 3); DELETE FROM log_entry WHERE seq > \(count - 3)",
       "entry \(count - 2)"),
      ("remove the refused attempt at the end", "DROP TRIGGER log_entry_no_delete; DELETE FROM log_body WHERE seq = \(count); DELETE FROM log_entry WHERE seq = \(count)",
       "entry \(count)"),
      ("remove every checkpoint", "DROP TRIGGER log_checkpoint_no_delete; DELETE FROM log_checkpoint", "no signed checkpoint"),
      ("un-revoke an authorisation in the registry", "UPDATE authorisation SET revoked_at = NULL, revoked_by = NULL",
       "differs from the log (edited)"),
      ("extend an authorisation in the registry", "UPDATE authorisation SET exp = 4102444800", "differs from the log (edited)"),
      ("name another investigator in the registry", "UPDATE authorisation SET investigators = '[\"opj\",\"mallory\"]'",
       "differs from the log (edited)"),
    ]
    for (what, sql, first) in tamperings {
      try? FileManager.default.removeItem(at: registry)
      try? FileManager.default.removeItem(atPath: registry.path + "-wal")
      try? FileManager.default.removeItem(atPath: registry.path + "-shm")
      let copy = try DatabaseQueue(path: registry.path)
      try DatabaseQueue(path: pristine.path).backup(to: copy)
      try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF; " + sql) }
      try copy.close()
      let result = try Run.lrj(["log", "verify"], environment: installation.env())
      #expect(result.status != 0, "\(what) must be found")
      #expect(result.standardError.hasPrefix("error: consultation log does not verify") && result.standardError.contains(first),
              "\(what): \(result.standardError)")
    }
  }

  /// Closure writes the report, erases the vault and the key, refuses everything after, and the
  /// log still verifies; no footage-derived bytes remain anywhere under LRJ_HOME.
  @Test func closureReportsThenErasesEverything() throws {
    let installation = try TestInstallation.make("lrj-closure")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let png = installation.folder.appendingPathComponent("T1.png")
    try installation.expect(["show", "--procedure", "P1", "T1", "--out", png.path], env)
    let clip = installation.folder.appendingPathComponent("T1.mp4")
    try installation.expect(["extract", "--procedure", "P1", "T1", "--out", clip.path], env)
    // Exports never replace a file; the refusal is logged like any failed operation.
    for (operation, file) in [("show", png), ("extract", clip)] {
      let before = try Data(contentsOf: file)
      let again = try Run.lrj([operation, "--procedure", "P1", "T1", "--out", file.path], environment: env)
      #expect(again.status != 0 && again.standardError.contains("exists; lrj never overwrites a file"), "\(again.standardError)")
      #expect(try Data(contentsOf: file) == before)
      #expect(try Self.entries(installation).last.map { $0.operation == operation && $0.outcome == .failed } == true)
    }

    // What must not survive: the thumbnail's bytes (clear and sealed), a track's sealed detail and the wrapped key.
    let thumbnail = try Data(contentsOf: png)
    let vault = installation.home.appendingPathComponent("procedures/P1/index.sqlite")
    let (sealed, path) = try DatabaseQueue(path: vault.path).read { db in
      (try Data.fetchOne(db, sql: "SELECT bytes FROM thumbnail LIMIT 1")!, try Data.fetchOne(db, sql: "SELECT detail FROM track LIMIT 1")!)
    }
    #expect(sealed.range(of: thumbnail.subdata(in: 100..<164)) == nil, "thumbnails are stored sealed")
    #expect(thumbnail.starts(with: [0x89, 0x50, 0x4E, 0x47]) && !sealed.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    let keyFile = installation.home.appendingPathComponent("keys/procedures/P1")
    let wrappedKey = try Data(contentsOf: keyFile)
    #expect(wrappedKey.count == 60, "the private key, AES-GCM-wrapped with the installation key")

    let reports = installation.folder.appendingPathComponent("reports")
    try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
    let closed = try installation.expect(
      ["procedure", "close", "--procedure", "P1", "--report", reports.path, "--with-data"], installation.env(as: "judge"))
    #expect(closed.standardOutput.contains("procedure P1 closed"))

    // The report.
    let manifestData = try Data(contentsOf: reports.appendingPathComponent("closure-P1.json"))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    #expect(manifest["procedure"] as? String == "P1" && manifest["kind"] as? String == "preliminary")
    let authorisations = try #require(manifest["authorisations"] as? [[String: Any]])
    #expect(authorisations.count == 1 && authorisations[0]["issuer"] as? String == "judge")
    #expect(manifest["investigators"] as? [String] == ["opj"])
    let exhibits = try #require(manifest["exhibits"] as? [[String: Any]])
    let sha = String(try Run.program("sha256sum", [TestPaths.samplesClip]).standardOutput.prefix(64))
    #expect(exhibits.count == 1 && exhibits[0]["sha256"] as? String == sha && exhibits[0]["sizeBytes"] as? Int == 3_081_273)
    let operations = (manifest["consultations"] as? [[String: Any]])?.compactMap { $0["operation"] as? String } ?? []
    #expect(["authorise", "procedure.open", "ingest", "show", "extract"].allSatisfy(operations.contains), "\(operations)")
    let exports = (manifest["exports"] as? [[String: Any]])?.compactMap { $0["sha256"] as? String } ?? []
    let clipSHA = String(try Run.program("sha256sum", [clip.path]).standardOutput.prefix(64))
    #expect(exports.contains(SHA256Hex.of(thumbnail)) && exports.contains(clipSHA), "\(exports)")
    #expect(manifest["capabilityManifestSha256"] as? String == CapabilityManifest.current.sha256)
    let archive = try #require(manifest["dataArchive"] as? [String: Any])
    let tar = reports.appendingPathComponent("closure-P1-data.tar")
    #expect(archive["sha256"] as? String == String(try Run.program("sha256sum", [tar.path]).standardOutput.prefix(64)))
    let listing = try Run.program("tar", ["tf", tar.path])
    #expect(listing.status == 0 && listing.standardOutput.contains("tracks.json") && listing.standardOutput.contains("thumbnails/T1.png"))
    let erasure = try #require(manifest["erasure"] as? [String: Any])
    #expect((erasure["vaultFiles"] as? [String])?.contains("index.sqlite") == true)
    let markdown = try String(contentsOf: reports.appendingPathComponent("closure-P1.md"), encoding: .utf8)
    #expect(markdown.contains("# Closure report — procedure P1") && markdown.contains(sha))
    #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("closure-P1.html").path))

    // The vault and the procedure's private key are gone; nothing of them remains anywhere under LRJ_HOME.
    #expect(!FileManager.default.fileExists(atPath: vault.deletingLastPathComponent().path))
    #expect(!FileManager.default.fileExists(atPath: keyFile.path))
    let needles = [thumbnail.subdata(in: 100..<164), sealed.subdata(in: 40..<104), path.suffix(min(64, path.count)), wrappedKey]
    let files = FileManager.default.enumerator(at: installation.home, includingPropertiesForKeys: nil)!
      .compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath }
    #expect(files.contains { $0.lastPathComponent == "registry.sqlite" })
    for file in files {
      let content = try Data(contentsOf: file)
      for (n, needle) in needles.enumerated() {
        #expect(content.range(of: needle) == nil, "value \(n) still in \(file.path)")
      }
    }

    // Every operation on P1 is refused and logged; the history stays; the chain verifies.
    for arguments in [["search", "--procedure", "P1"], ["show", "--procedure", "P1", "T1", "--out", png.path + ".2"]] {
      try Self.expectRefused(installation, arguments, as: env, "procedure P1 was closed")
    }
    try Self.expectRefused(installation, ["procedure", "close", "--procedure", "P1", "--report", installation.folder.path],
                           as: installation.env(as: "judge"), "procedure P1 was closed")
    let history = try installation.expect(["log", "--procedure", "P1", "--csv"], installation.env(as: "judge"))
    #expect(history.standardOutput.hasPrefix("seq,time,user,role,procedure,operation,outcome,result_count,parameters,files_sha256"))
    for operation in [",ingest,success,", ",show,success,", ",procedure.close,success,", ",search,refused,"] {
      #expect(history.standardOutput.contains(operation), "\(operation)")
    }
    let verified = try installation.expect(["log", "verify"], env)
    #expect(verified.standardOutput.contains("consultation log verified"))
  }

  /// Crypto-erase: a backup of the installation taken before closure (everything but `keys/`, as the README
  /// says backups are taken) and restored after it opens nothing of the procedure: its data is sealed, and the
  /// only key that opened it was destroyed.
  @Test func aBackupTakenBeforeClosureOpensNothingAfterIt() throws {
    let installation = try TestInstallation.make("lrj-backup-closure")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let found = try installation.expect(["search", "--procedure", "P1", "--class", "person"], env)
    #expect(found.standardOutput.contains("T1") || found.standardOutput.contains("person"))
    let home = installation.home
    let backup = installation.folder.appendingPathComponent("backup")
    try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
    let saved = try FileManager.default.contentsOfDirectory(atPath: home.path).filter { $0 != "keys" }
    for name in saved { try FileManager.default.copyItem(at: home.appendingPathComponent(name), to: backup.appendingPathComponent(name)) }
    #expect(saved.contains("procedures") && saved.contains { $0.hasPrefix("registry.sqlite") })

    let reports = installation.folder.appendingPathComponent("reports")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", reports.path], installation.env(as: "judge"))
    #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("keys/procedures/P1").path))

    // The backup restored over the installation, today's keys/ kept: the registry says P1 is open, its vault is back.
    for name in try FileManager.default.contentsOfDirectory(atPath: home.path) where name != "keys" {
      try FileManager.default.removeItem(at: home.appendingPathComponent(name))
    }
    for name in saved { try FileManager.default.copyItem(at: backup.appendingPathComponent(name), to: home.appendingPathComponent(name)) }
    #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("procedures/P1/index.sqlite").path))
    for arguments in [["search", "--procedure", "P1", "--class", "person"], ["tracks", "--procedure", "P1", "--exhibit", "E1"]] {
      let result = try Run.lrj(arguments, environment: env)
      #expect(result.status != 0 && result.standardError.contains("the key of procedure P1 is missing"), "\(arguments): \(result.standardError)")
      #expect(!result.standardOutput.contains("person"))
    }
    let verify = try Run.lrj(["log", "verify"], environment: env)
    #expect(verify.status != 0 && verify.standardOutput.contains("the key of procedure P1 is missing"), "\(verify.standardOutput)")
  }

  /// A worker (DESIGN.md §13) processes queued spans and nothing else: every other command is refused,
  /// in one line, and logged as refused.
  @Test func aWorkerCanDoNothingButProcessSpans() throws {
    let installation = try TestInstallation.make("lrj-worker-role")
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", "--no-model", TestPaths.samplesClip], installation.env())
    try Self.enrol(installation, "worker1", role: "worker")
    let worker = installation.env(as: "worker1")
    let out = installation.folder.appendingPathComponent("w")
    for (arguments, message) in [
      (["search", "--procedure", "P1"], "workers process queued spans of ingests and nothing else"),
      (["tracks", "--procedure", "P1", "--exhibit", "E1"], "workers process queued spans"),
      (["show", "--procedure", "P1", "T1", "--out", out.appendingPathComponent("t.png").path], "workers process queued spans"),
      (["export", "--procedure", "P1", "--out", out.appendingPathComponent("e").path, "T1"], "workers process queued spans"),
      (["ingest", "--procedure", "P1", "--camera", "street", "--no-model", TestPaths.samplesClip], "workers process queued spans"),
      (["log", "--procedure", "P1"], "the consultation log is for magistrates and the controller"),
    ] {
      try Self.expectRefused(installation, arguments, as: worker, message)
    }
    let users = try installation.expect(["user", "list"], installation.env(as: "admin"))
    #expect(users.standardOutput.contains("worker1\tworker\tenabled"))
    try installation.expect(["log", "verify"], installation.env())
  }

  /// L9: the magistrate has a track erased during the procedure; the investigator cannot.
  @Test func theMagistrateHasATrackErased() throws {
    let installation = try TestInstallation.make("lrj-erase")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    func tracks() throws -> [String] {
      let result = try installation.expect(["search", "--procedure", "P1", "--json"], env)
      let page = try JSONSerialization.jsonObject(with: result.outputData) as? [String: Any]
      return (page?["results"] as? [[String: Any]] ?? []).compactMap { $0["track"] as? String }
    }
    #expect(try tracks().contains("T2"))
    try Self.expectRefused(installation, ["erase", "--procedure", "P1", "--track", "T2", "--reason", "x"], as: env,
                           "erasing data is ordered by the magistrate")
    try installation.expect(["erase", "--procedure", "P1", "--track", "T2", "--reason", "order of 2026-11-26"], installation.env(as: "judge"))
    #expect(try !tracks().contains("T2"))
    let show = try Run.lrj(["show", "--procedure", "P1", "T2", "--out", installation.folder.appendingPathComponent("t2.png").path], environment: env)
    #expect(show.status != 0 && show.standardError.contains("no track T2"), "\(show.standardError)")
    let erased = try #require(try Self.entries(installation).last { $0.operation == "erase" && $0.outcome == .success })
    #expect(erased.user == "judge" && erased.parameters["track"] == "T2" && erased.parameters["reason"] == "order of 2026-11-26")
  }

  /// Text from outside (a file name, a reason) cannot forge a line of `lrj log` or of an error.
  @Test func loggedTextCannotForgeLines() throws {
    let installation = try TestInstallation.make("lrj-forge")
    defer { installation.remove() }
    let forged = "nowhere.mp4\n1000\t2026-01-01T00:00:00.000Z\tjudge\tmagistrate\tP1\tprocedure.close\tsuccess\tx"
    let ingest = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "street", forged], environment: installation.env())
    #expect(ingest.status != 0)
    #expect(ingest.standardError.hasPrefix("error: ") && ingest.standardError.split(separator: "\n").count == 1,
            "one line: \(ingest.standardError)")
    #expect(ingest.standardError.contains("nowhere.mp4\\n1000\\t"), "shown escaped: \(ingest.standardError)")
    let visible = try Self.entries(installation).filter { $0.procedure == "P1" }.count
    let log = try installation.expect(["log", "--procedure", "P1"], installation.env(as: "judge"))
    let lines = log.standardOutput.split(separator: "\n")
    #expect(!lines.contains { $0.hasPrefix("1000\t") }, "no forged line: \(log.standardOutput)")
    #expect(lines.count == visible, "one line per entry")
    #expect(lines.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 8 })
  }

  /// A synopsis stopped with Ctrl-C: no file is left (not even hidden or partial), the attempt is
  /// logged as interrupted, and the log verifies.
  @Test func anInterruptedExportLeavesNothingAndIsLogged() throws {
    let installation = try TestInstallation.make("lrj-interrupt")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let out = installation.folder.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let process = Process()
    process.executableURL = TestPaths.products.appendingPathComponent("lrj")
    process.arguments = ["synopsis", "--procedure", "P1", "--out", out.appendingPathComponent("s.mp4").path,
                         "--png", out.appendingPathComponent("s.png").path]
    process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Interrupt once the render has begun (its staged file exists).
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning, Date() < deadline, try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty {
      Thread.sleep(forTimeInterval: 0.02)
    }
    try #require(process.isRunning, "the synopsis ended before it could be interrupted")
    process.interrupt()
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty, "nothing left in \(out.path)")
    let last = try #require(try Self.entries(installation).last { $0.operation == "synopsis" })
    #expect(last.outcome == .failed && last.parameters["error"] == "interrupted")
    let verified = try installation.expect(["log", "verify"], env)
    #expect(verified.standardError.isEmpty, "sealed at once: \(verified.standardError)")
  }

  /// Two searches and an ingest at once on one installation: the chain stays intact and every
  /// operation is logged once.
  @Test func concurrentOperationsAreEachLoggedOnce() throws {
    let installation = try TestInstallation.make("lrj-concurrent")
    defer { installation.remove() }
    let env = installation.env()
    let before = try Self.entries(installation).count
    let commands: [[String]] = [
      ["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip],
      ["search", "--procedure", "P1", "--class", "person"],
      ["search", "--procedure", "P1", "--colour", "red"],
    ]
    let results = LockedResults()
    DispatchQueue.concurrentPerform(iterations: commands.count) { index in
      results.set(index, try? Run.lrj(commands[index], environment: env))
    }
    for index in commands.indices {
      #expect(results.get(index)?.status == 0, "\(commands[index]): \(results.get(index)?.standardError ?? "")")
    }
    let entries = try Self.entries(installation)
    // The ingest is logged as started, then its success; each search once.
    #expect(entries.count == before + 4)
    let added = entries.suffix(4)
    #expect(added.filter { $0.operation == "ingest" && $0.outcome == .started }.count == 1)
    #expect(added.filter { $0.operation == "ingest" && $0.outcome == .success }.count == 1)
    #expect(added.filter { $0.operation == "search" && $0.outcome == .success }.count == 2)
    let verified = try Run.lrj(["log", "verify"], environment: env)
    #expect(verified.status == 0, "\(verified.standardError)")
  }
}

/// Results written from several threads.
final class LockedResults: @unchecked Sendable {
  private let lock = NSLock()
  private var results: [Int: ProcessResult] = [:]
  func set(_ index: Int, _ result: ProcessResult?) { lock.withLock { results[index] = result } }
  func get(_ index: Int) -> ProcessResult? { lock.withLock { results[index] } }
}
