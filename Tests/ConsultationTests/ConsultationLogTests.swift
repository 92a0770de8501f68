import Consultation
import Crypto
import Foundation
import GRDB
import Store
import StorePostgres
import StoreSQLite
import TestSupport
import Testing

struct ConsultationLogTests {
  let start = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28T20:26:40Z
  let signer = Curve25519.Signing.PrivateKey()
  var trusted: [CheckpointVerifierKey] { [CheckpointVerifierKey(name: "lrj-test", publicKey: PasetoV4PublicKey(signer.publicKey))] }

  func makeLog() throws -> ConsultationLog {
    try Self.log(on: SQLiteEngine(inMemoryNamed: "log"))
  }

  /// A log with its tables on `engine`.
  static func log(on engine: any StoreEngine, origin: String = "lrj/inst-1/consultation") throws -> ConsultationLog {
    try engine.write { tx in for statement in ConsultationLog.schema(engine.dialect) { try tx.execute(statement) } }
    return ConsultationLog(engine: engine, origin: origin)
  }

  func entry(_ index: Int, at time: Date? = nil, procedure: String = "P1", user: String = "inv.dupont") -> LogEntry {
    LogEntry(
      time: time ?? start.addingTimeInterval(Double(index) * 60), user: user, role: "investigator", procedure: procedure,
      operation: "search", parameters: ["query": "vehicle colour:red #\(index)"], resultCount: index, outcome: .success,
      filesWritten: [String(repeating: "ab", count: 32)])
  }

  func filled(_ count: Int) throws -> ConsultationLog {
    let log = try makeLog()
    for index in 1...count { try log.append(entry(index)) }
    return log
  }

  @Test func appendedEntriesChainAndVerify() throws {
    let log = try filled(5)
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.isValid, "\(report)")
    #expect(report.entryCount == 5)
    let entries = try log.entries()
    #expect(entries.map(\.seq) == [1, 2, 3, 4, 5])
    #expect(entries[2].entry == {
      var expected = entry(3)
      expected.time = Date(timeIntervalSince1970: (expected.time.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
      return expected
    }())
    // leaf = SHA-256(0x00 ‖ body), chain = SHA-256(0x01 ‖ prev ‖ leaf), prev of the first = zeros.
    let first = entries[0]
    #expect(first.leafHash == Data(SHA256.hash(data: Data([0]) + first.body!)))
    #expect(first.chain == Data(SHA256.hash(data: Data([1]) + Data(count: 32) + first.leafHash)))
    #expect(entries[1].chain == Data(SHA256.hash(data: Data([1]) + first.chain + entries[1].leafHash)))
    #expect(report.head == entries[4].chain)
    // Canonical body: sorted keys, millisecond time, a salt.
    let body = String(decoding: first.body!, as: UTF8.self)
    #expect(body.hasPrefix(#"{"files_sha256":["#))
    #expect(body.contains(#""time_ms":1780000060000"#))
    #expect(body.contains(#""salt":""#))
  }

  @Test func identicalEntriesHashDifferently() throws {
    let log = try makeLog()
    try log.append(entry(1))
    try log.append(entry(1))
    let entries = try log.entries()
    #expect(entries[0].leafHash != entries[1].leafHash)
  }

  @Test func appendCommitsOrRollsBackWithTheOperation() throws {
    let engine = try SQLiteEngine(inMemoryNamed: "op")
    let log = try Self.log(on: engine, origin: "o")
    try engine.write { try $0.execute("CREATE TABLE op(x INTEGER) STRICT") }
    struct Failure: Error {}
    #expect(throws: Failure.self) {
      try engine.write { tx in
        try tx.execute("INSERT INTO op VALUES (1)")
        try log.append(entry(1), in: tx)
        throw Failure()
      }
    }
    #expect(try log.entries().isEmpty)
    try engine.write { tx in
      try tx.execute("INSERT INTO op VALUES (2)")
      try log.append(entry(2), in: tx)
    }
    #expect(try log.entries().count == 1)
  }

  @Test func triggersRefuseUpdatesAndDeletes() throws {
    let log = try filled(2)
    #expect(throws: (any Error).self) { try log.writer.write { try $0.execute(sql: "UPDATE log_entry SET chain = leaf_hash") } }
    #expect(throws: (any Error).self) { try log.writer.write { try $0.execute(sql: "DELETE FROM log_entry WHERE seq = 2") } }
    #expect(throws: (any Error).self) { try log.writer.write { try $0.execute(sql: "UPDATE log_body SET body = x'00'") } }
    #expect(try log.verify(trustedKeys: trusted).isValid)
  }

  @Test func filtersByProcedureUserAndPeriod() throws {
    let log = try makeLog()
    try log.append(entry(1, procedure: "P1", user: "a"))
    try log.append(entry(2, procedure: "P2", user: "a"))
    try log.append(entry(3, procedure: "P1", user: "b"))
    #expect(try log.entries(LogFilter(procedure: "P1")).map(\.seq) == [1, 3])
    #expect(try log.entries(LogFilter(user: "a")).map(\.seq) == [1, 2])
    #expect(try log.entries(LogFilter(from: start.addingTimeInterval(120), to: start.addingTimeInterval(180))).map(\.seq) == [2])
  }

  /// Runs SQL as an attacker holding the file: triggers dropped, foreign keys off.
  func tamper(_ log: ConsultationLog, _ sql: String) throws {
    try log.writer.writeWithoutTransaction { db in
      try db.execute(sql: "PRAGMA foreign_keys = OFF")
      try db.execute(sql: "DROP TRIGGER IF EXISTS log_entry_no_update; DROP TRIGGER IF EXISTS log_entry_no_delete; DROP TRIGGER IF EXISTS log_body_no_update; DROP TRIGGER IF EXISTS log_checkpoint_no_update; DROP TRIGGER IF EXISTS log_checkpoint_no_delete")
      try db.execute(sql: sql)
    }
  }

  func editedBody(_ log: ConsultationLog, seq: Int64) throws -> Data {
    let body = try #require(try log.entries().first { $0.seq == seq }?.body)
    let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "#\(seq)", with: "#999")
    #expect(Data(text.utf8) != body)
    return Data(text.utf8)
  }

  @Test func editingOneBodyIsFoundAtThatEntry() throws {
    let log = try filled(6)
    let forged = try editedBody(log, seq: 3)
    try log.writer.writeWithoutTransaction { db in
      try db.execute(sql: "DROP TRIGGER log_body_no_update")
      try db.execute(sql: "UPDATE log_body SET body = ? WHERE seq = 3", arguments: [forged])
    }
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.seq == 3, "\(report)")
    #expect(report.description.contains("entry 3"))
  }

  @Test func editingABodyAndItsHashesIsFoundAtThatEntry() throws {
    let log = try filled(6)
    let forged = try editedBody(log, seq: 3)
    let leaf = Data(SHA256.hash(data: Data([0]) + forged))
    try tamper(log, "UPDATE log_body SET body = x'\(forged.hex)' WHERE seq = 3; UPDATE log_entry SET leaf_hash = x'\(leaf.hex)' WHERE seq = 3")
    #expect(try log.verify(trustedKeys: trusted).failure?.seq == 3)
  }

  @Test func deletingAnEntryIsFoundAtThatEntry() throws {
    let log = try filled(6)
    try tamper(log, "DELETE FROM log_body WHERE seq = 4; DELETE FROM log_entry WHERE seq = 4")
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.seq == 4, "\(report)")
    #expect(report.failure?.reason.contains("missing") == true)
  }

  @Test func deletingAnEntryAndRenumberingIsFound() throws {
    let log = try filled(6)
    try tamper(
      log,
      """
      DELETE FROM log_body WHERE seq = 4; DELETE FROM log_entry WHERE seq = 4;
      UPDATE log_body SET seq = seq - 1 WHERE seq > 4; UPDATE log_entry SET seq = seq - 1 WHERE seq > 4
      """)
    #expect(try log.verify(trustedKeys: trusted).failure?.seq == 4)
  }

  @Test func swappingTwoEntriesIsFoundAtTheFirst() throws {
    let log = try filled(6)
    try tamper(
      log,
      """
      UPDATE log_entry SET seq = -2 WHERE seq = 2; UPDATE log_body SET seq = -2 WHERE seq = 2;
      UPDATE log_entry SET seq = 2 WHERE seq = 5; UPDATE log_body SET seq = 2 WHERE seq = 5;
      UPDATE log_entry SET seq = 5 WHERE seq = -2; UPDATE log_body SET seq = 5 WHERE seq = -2
      """)
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.seq == 2, "\(report)")
  }

  @Test func swappingTwoBodiesIsFoundAtTheFirst() throws {
    let log = try filled(6)
    try tamper(
      log,
      """
      UPDATE log_body SET seq = -2 WHERE seq = 2; UPDATE log_body SET seq = 2 WHERE seq = 5;
      UPDATE log_body SET seq = 5 WHERE seq = -2
      """)
    #expect(try log.verify(trustedKeys: trusted).failure?.seq == 2)
  }

  @Test func truncatingTheLogIsFoundByTheCheckpoint() throws {
    let log = try filled(6)
    try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    #expect(try log.verify(trustedKeys: trusted).isValid)
    try tamper(log, "DELETE FROM log_body WHERE seq > 4; DELETE FROM log_entry WHERE seq > 4")
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.seq == 5, "\(report)")
    #expect(report.failure?.checkpoint == 1)
    #expect(report.failure?.reason.contains("truncated") == true)
  }

  @Test func rewritingTheWholeChainIsFoundByTheCheckpoint() throws {
    let log = try filled(4)
    try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    // The attacker edits entry 2 and recomputes every later hash consistently.
    let entries = try log.entries()
    var previous = Data(count: 32)
    var statements: [String] = []
    for stored in entries {
      let body = stored.seq == 2 ? try editedBody(log, seq: 2) : stored.body!
      let leaf = Data(SHA256.hash(data: Data([0]) + body))
      let chain = Data(SHA256.hash(data: Data([1]) + previous + leaf))
      statements.append("UPDATE log_body SET body = x'\(body.hex)' WHERE seq = \(stored.seq)")
      statements.append("UPDATE log_entry SET leaf_hash = x'\(leaf.hex)', chain = x'\(chain.hex)' WHERE seq = \(stored.seq)")
      previous = chain
    }
    try tamper(log, statements.joined(separator: "; "))
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.checkpoint == 1, "\(report)")
    #expect(report.failure?.seq == 4)
  }

  @Test func checkpointsAreC2SPShapedAndSigned() throws {
    let log = try filled(3)
    let note = try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    let head = try log.entries()[2].chain
    #expect(note.hasPrefix("lrj/inst-1/consultation\n3\n\(head.base64EncodedString())\n\n\u{2014} lrj-test "))
    try log.append(entry(4))
    try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.isValid, "\(report)")
    #expect(report.checkpointCount == 2)
    // Without the signer among the trusted keys, the checkpoints do not verify.
    let stranger = CheckpointVerifierKey(name: "lrj-test", publicKey: PasetoV4PublicKey(Curve25519.Signing.PrivateKey().publicKey))
    #expect(try log.verify(trustedKeys: [stranger]).failure?.checkpoint == 1)
  }

  @Test func forgedCheckpointIsFound() throws {
    let log = try filled(3)
    try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    // A checkpoint signed by another key under the trusted name.
    let forger = Curve25519.Signing.PrivateKey()
    let forgedLog = ConsultationLog(engine: log.engine, origin: log.origin)
    try forgedLog.checkpoint(signingKey: forger, keyName: "lrj-test", now: start)
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.checkpoint == 2, "\(report)")
    #expect(report.failure?.reason.contains("forged") == true)
  }

  @Test func editedCheckpointHeadIsFound() throws {
    let log = try filled(3)
    let note = try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: start)
    let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
    let forged = ([lines[0], lines[1], Substring(Data(count: 32).base64EncodedString())] + lines[3...]).joined(separator: "\n")
    try tamper(log, "UPDATE log_checkpoint SET note = '\(forged)' WHERE id = 1")
    #expect(try log.verify(trustedKeys: trusted).failure?.checkpoint == 1)
  }

  @Test func purgingFiveYearOldBodiesKeepsTheLogVerifiable() throws {
    let log = try makeLog()
    let sixYearsAgo = start.addingTimeInterval(-6 * 365.25 * 86400)
    let fourYearsAgo = start.addingTimeInterval(-4 * 365.25 * 86400)
    for index in 1...3 { try log.append(entry(index, at: sixYearsAgo.addingTimeInterval(Double(index)))) }
    try log.checkpoint(signingKey: signer, keyName: "lrj-test", now: sixYearsAgo)
    for index in 4...5 { try log.append(entry(index, at: fourYearsAgo.addingTimeInterval(Double(index)))) }
    try log.append(entry(6))
    let purged = try log.purge(now: start, user: "system", role: "system")
    #expect(purged == 3)
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.isValid, "\(report)")
    #expect(report.entryCount == 7)
    #expect(report.purgedCount == 3)
    let remaining = try log.entries()
    #expect(remaining.map(\.seq) == [4, 5, 6, 7])
    let purgeEntry = try #require(remaining.last?.entry)
    #expect(purgeEntry.operation == ConsultationLog.purgeOperation)
    #expect(purgeEntry.resultCount == 3)
    #expect(purgeEntry.parameters["through_seq"] == "3")
    #expect(try log.entries(LogFilter(includePurged: true)).count == 7)
    // A second purge finds nothing more and still verifies.
    #expect(try log.purge(now: start, user: "system", role: "system") == 0)
    #expect(try log.verify(trustedKeys: trusted).isValid)
  }

  @Test func concurrentAppendsKeepOneIntactChain() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-log-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Eight writers, each with its own connection, on each engine.
    var engines: [[any StoreEngine]] = [
      try (0..<8).map { _ in try SQLiteEngine(path: folder.appendingPathComponent("registry.sqlite").path) as any StoreEngine }
    ]
    if let server = TestPostgres.shared {
      let url = try server.database("log")
      engines.append(try (0..<8).map { _ in try PostgresEngine(location: PostgresLocation(url: url)) as any StoreEngine })
    }
    for writers in engines {
      let logs = [try Self.log(on: writers[0])] + writers.dropFirst().map { ConsultationLog(engine: $0, origin: "lrj/inst-1/consultation") }
      let template = entry(0)
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: 8) { worker in
        for index in 0..<25 {
          var next = template
          next.parameters = ["worker": String(worker), "index": String(index)]
          do { try logs[worker].append(next) } catch { failures.add(error) }
        }
      }
      #expect(failures.errors.isEmpty, "\(writers[0].name): \(failures.errors)")
      let log = logs[0]
      let report = try log.verify(trustedKeys: [])
      #expect(report.isValid, "\(writers[0].name): \(report)")
      #expect(report.entryCount == 200)
      #expect(Set(try log.entries().compactMap { $0.entry.map { "\($0.parameters["worker"]!)/\($0.parameters["index"]!)" } }).count == 200)
    }
  }


  @Test func aBodyDeletedOutsideAPurgeIsFound() throws {
    let log = try filled(5)
    try tamper(log, "DELETE FROM log_body WHERE seq = 2")
    let report = try log.verify(trustedKeys: trusted)
    #expect(report.failure?.seq == 2, "\(report)")
  }
}

extension Data {
  var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: [String] = []
  var errors: [String] { lock.withLock { stored } }
  func add(_ error: any Error) { lock.withLock { stored.append(String(describing: error)) } }
}

extension ConsultationLog {
  /// The SQLite database under the log, for tampering as an attacker holding the file would.
  var writer: any DatabaseWriter { (engine as! SQLiteEngine).pool }
}
