import Foundation
@testable import Index
import Store
import StorePostgres
import TestSupport
import Testing

@testable import Consultation

/// The installation on the service engine (issue 16): registry and consultation log in a PostgreSQL
/// database, reached by every `lrj` process at once. Skipped, saying so, when PostgreSQL is not installed.
@Suite(.serialized)
struct ServiceEngineTests {
  static func entries(_ installation: TestInstallation) throws -> [LogEntry] {
    try Installation.open(home: installation.home).logEntries().compactMap(\.entry)
  }

  @Test func theWholeWorkflowRunsOnPostgreSQL() throws {
    guard let server = TestPostgres.shared else {
      print("PostgreSQL is not installed: the service engine is not tested")
      return
    }
    let url = try server.database("workflow")
    let installation = try TestInstallation.make("lrj-pg-workflow", database: url)
    defer { installation.remove() }
    let manifest = try String(contentsOf: installation.home.appendingPathComponent("installation.json"), encoding: .utf8)
    #expect(manifest.contains("postgres://lrj@127.0.0.1"), "the database is recorded: \(manifest)")
    #expect(!FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("registry.sqlite").path))
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let found = try installation.expect(["search", "--procedure", "P1", "--class", "car", "--json"], env)
    #expect(found.standardOutput.contains("\"total\""))
    let out = installation.folder.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try installation.expect(["show", "--procedure", "P1", "T1", "--out", out.appendingPathComponent("t1.png").path], env)
    try installation.expect(["extract", "--procedure", "P1", "T1", "--out", out.appendingPathComponent("t1.mp4").path], env)
    try installation.expect(["synopsis", "--procedure", "P1", "--out", out.appendingPathComponent("s.mp4").path], env)
    let log = try installation.expect(["log", "--procedure", "P1"], installation.env(as: "judge"))
    #expect(log.standardOutput.contains("synopsis") && log.standardOutput.contains("ingest"))
    try installation.expect(["log", "verify"], env)
    let reports = installation.folder.appendingPathComponent("reports")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", reports.path], installation.env(as: "judge"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: reports.path).count == 4)
    try installation.expect(["log", "verify"], env)
    let refused = try Run.lrj(["search", "--procedure", "P1"], environment: env)
    #expect(refused.status == 1 && refused.standardError.contains("closed"))
    // LRJ_DATABASE set for a later command points it elsewhere: an empty database is no installation.
    let other = try server.database("other")
    let elsewhere = try Run.lrj(["search", "--procedure", "P1"], environment: env.merging(["LRJ_DATABASE": other]) { $1 })
    #expect(elsewhere.status == 1 && elsewhere.standardError.hasPrefix("error: "), "\(elsewhere.standardError)")
  }

  /// Every byte string a plain-SQL dump holds: its text, and each bytea value (`\\x…` hex) decoded.
  static func dumpedBytes(_ file: URL) throws -> Data {
    let text = try Data(contentsOf: file)
    var bytes = text
    let hex = try NSRegularExpression(pattern: "\\\\x([0-9a-f]{2,})")
    let string = String(decoding: text, as: UTF8.self)
    for match in hex.matches(in: string, range: NSRange(string.startIndex..., in: string)) {
      let digits = Array(string[Range(match.range(at: 1), in: string)!].utf8)
      var value = Data(capacity: digits.count / 2)
      var index = 0
      while index + 1 < digits.count {
        value.append(UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)!)
        index += 2
      }
      bytes.append(0)
      bytes.append(value)
    }
    return bytes
  }

  /// Closure on PostgreSQL (issue 16): a dump taken before closure holds no track value in clear; after
  /// closure the procedure's schema is gone, and the dump restored into a fresh database, with the same
  /// installation folder and key, opens nothing of the procedure.
  @Test func aDumpTakenBeforeClosureHoldsNoTrackValueAndOpensNothingAfterIt() throws {
    guard let server = TestPostgres.shared else { return print("PostgreSQL is not installed: closure on PostgreSQL is not tested") }
    let url = try server.database("closure")
    let installation = try TestInstallation.make("lrj-pg-closure", database: url)
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    try installation.expect(["zone", "save", "--procedure", "P1", "--camera", "street", "--name", "door",
                             "0.1,0.1 0.4,0.1 0.4,0.4 0.1,0.4"], env)
    #expect(!FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("procedures/P1/index.sqlite").path),
            "the index is in the database, not in a file")

    // What the index holds in clear, read with the procedure's key (as a search does, in memory).
    let opened = try Installation.open(home: installation.home)
    let kek = try opened.keyEncryptionKey()
    let sealing = try ProcedureSealing(opener: try opened.procedureKeys.opener(procedure: "P1", kek: kek))
    let store = try opened.indexes.open("P1", sealing: sealing)
    let details = try store.read { tx in try store.details(tx, rows: try tx.values(Int64.self, "SELECT id FROM track")) }
    #expect(details.count > 3)
    let thumbnail = try #require(try store.thumbnail(ofTrack: "T1"))
    let png = try sealing.open(thumbnail.data, context: "thumbnail T1")
    let sealedDetail = try #require(try store.read { try $0.value(Data.self, "SELECT detail FROM track WHERE id = 1") })
    try store.close()

    let dump = installation.folder.appendingPathComponent("before-closure.sql")
    try server.dump(url, to: dump)
    let checkpoints = [installation.home.appendingPathComponent("checkpoint"), installation.cache("opj").appendingPathComponent("\(opened.id).checkpoint")]
    let keptAtDump = checkpoints.map { try? Data(contentsOf: $0) }
    let dumped = try Self.dumpedBytes(dump)
    let schema = opened.indexes.schema(of: "P1")
    #expect(String(decoding: dumped, as: UTF8.self).contains("\(schema).track"), "the dump holds the index")
    #expect(dumped.range(of: sealedDetail) != nil, "the dump's bytea values are read (the sealed detail of T1 is found)")
    for (id, detail) in details {
      let encoded = detail.encoded()
      #expect(dumped.range(of: encoded.subdata(in: 3..<59)) == nil, "T\(id): clear attributes in the dump")
      #expect(dumped.range(of: detail.path.prefix(49)) == nil, "T\(id): a clear path in the dump")
      for value in [detail.firstBox.x, detail.firstBox.y, detail.lastBox.width, detail.lastBox.height] where value != value.rounded() {
        #expect(dumped.range(of: withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) }) == nil, "T\(id): a box coordinate")
        #expect(dumped.range(of: withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { Data($0) }) == nil, "T\(id): a box coordinate")
      }
      for colour in detail.colours {
        #expect(dumped.range(of: withUnsafeBytes(of: colour.fraction.bitPattern.littleEndian) { Data($0) }) == nil, "T\(id): a colour fraction")
      }
    }
    #expect(dumped.range(of: png.subdata(in: 16..<80)) == nil, "a clear thumbnail in the dump")
    // No class or colour name anywhere in the index's tables.
    let indexSection = String(decoding: dumped, as: UTF8.self).components(separatedBy: "\n")
      .filter { $0.contains(schema) || $0.hasPrefix("\\x") }.joined(separator: "\n")
    for word in ["person", "two-wheeler", "bus-truck", "\"red\"", "\"grey\"", "polygon"] {
      #expect(!indexSection.contains(word), "\(word) in the index's part of the dump")
    }

    let reports = installation.folder.appendingPathComponent("reports")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", reports.path], installation.env(as: "judge"))
    let live = try PostgresEngine(location: PostgresLocation(url: url))
    #expect(try live.read { try $0.row("SELECT 1 FROM pg_namespace WHERE nspname = ?", schema) } == nil, "the procedure's schema is dropped")
    #expect(try live.read { try $0.value(Int.self, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'lrj\\_p\\_%'") } == 0)
    try live.close()
    try installation.expect(["log", "verify"], env)

    // The dump restored into a fresh database; the same installation folder (today's keys/) pointed at it.
    let restored = try server.restore(dump)
    let copy = try PostgresEngine(location: PostgresLocation(url: restored), schema: schema)
    #expect(try copy.read { try $0.value(Int.self, "SELECT count(*) FROM track") } == details.count, "the rows are in the copy")
    try copy.close()
    let onCopy = env.merging(["LRJ_DATABASE": restored]) { $1 }
    let rolledBack = try Run.lrj(["search", "--procedure", "P1"], environment: onCopy)
    #expect(rolledBack.status != 0 && rolledBack.standardError.contains("the database postgres://lrj@127.0.0.1"),
            "an older copy of the database is noticed: \(rolledBack.standardError)")
    // An insider who also puts back the checkpoints of that day still opens nothing: the key is gone.
    for (file, kept) in zip(checkpoints, keptAtDump) { if let kept { try kept.write(to: file) } }
    for arguments in [["search", "--procedure", "P1", "--class", "person"], ["tracks", "--procedure", "P1", "--exhibit", "E1"]] {
      let result = try Run.lrj(arguments, environment: onCopy)
      #expect(result.status != 0 && result.standardError.contains("the key of procedure P1 is missing"), "\(arguments): \(result.standardError)")
      #expect(!result.standardOutput.contains("person"))
    }
    let verify = try Run.lrj(["log", "verify"], environment: onCopy)
    #expect(verify.status != 0 && verify.standardOutput.contains("the key of procedure P1 is missing"), "\(verify.standardOutput)")
  }

  /// An insider who owns the database turns the append-only triggers off and removes the log's last
  /// entries: the checkpoint kept outside the database names it.
  @Test func theLogsTailRemovedBehindTheTriggersIsNamed() throws {
    guard let server = TestPostgres.shared else { return }
    let url = try server.database("tail")
    let installation = try TestInstallation.make("lrj-pg-tail", database: url)
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["search", "--procedure", "P1"], env)
    try installation.expect(["log", "verify"], env)
    let insider = try PostgresEngine(location: PostgresLocation(url: url))
    try insider.write { tx in
      try tx.execute("ALTER TABLE log_entry DISABLE TRIGGER USER")
      try tx.execute("DELETE FROM log_body WHERE seq = (SELECT max(seq) FROM log_entry)")
      try tx.execute("DELETE FROM log_entry WHERE seq = (SELECT max(seq) FROM log_entry)")
      try tx.execute("ALTER TABLE log_entry ENABLE TRIGGER USER")
    }
    try insider.close()
    let verify = try Run.lrj(["log", "verify"], environment: env)
    #expect(verify.status != 0, "\(verify.standardOutput)")
    let said = verify.standardOutput + verify.standardError
    #expect(verify.status != 0 && said.contains("log truncated: the checkpoint seals"), "\(said)")
  }

  @Test func eightConcurrentProcessesKeepOneChain() throws {
    guard let server = TestPostgres.shared else { return }
    let installation = try TestInstallation.make("lrj-pg-concurrent", database: try server.database("concurrent"))
    defer { installation.remove() }
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], installation.env())
    let before = try Self.entries(installation).count
    let out = installation.folder.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    // Mixed operations: searches, thumbnails, the log, refusals, authorisations.
    let commands: [([String], String)] = (0..<8).flatMap { worker -> [([String], String)] in
      [
        (["search", "--procedure", "P1", "--class", worker % 2 == 0 ? "car" : "person"], "opj"),
        (["show", "--procedure", "P1", "T\(worker % 3 + 1)", "--out", out.appendingPathComponent("w\(worker).png").path], "opj"),
        (["log", "--procedure", "P1"], "judge"),
        (["search", "--procedure", "P1"], "admin"),
        (["authorise", "--procedure", "Q\(worker)", "--kind", "flagrance", "--investigator", "opj", "--until", "2099-12-31",
          "--out", installation.folder.appendingPathComponent("q\(worker).token").path], "judge"),
      ]
    }
    let results = LockedResults()
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      for (index, (arguments, user)) in commands.enumerated() where index % 8 == worker {
        results.set(index, try? Run.lrj(arguments, environment: installation.env(as: user)))
      }
    }
    var expectedEntries = 0
    for (index, (arguments, user)) in commands.enumerated() {
      let result = results.get(index)
      let shouldFail = user == "admin"
      #expect(result.map { ($0.status == 0) != shouldFail } == true, "\(arguments) as \(user): \(result?.standardError ?? "no result")")
      expectedEntries += arguments[0] == "show" ? 2 : 1  // a show is logged as started, then its outcome
    }
    let entries = try Self.entries(installation)
    #expect(entries.count - before == expectedEntries, "every operation logged once: \(entries.count - before) of \(expectedEntries)")
    let verified = try Run.lrj(["log", "verify"], environment: installation.env())
    #expect(verified.status == 0, "\(verified.standardError) \(verified.standardOutput)")
  }

  /// The server goes away in the middle of an ingest (a crash, a lost network): one line naming the
  /// database, nothing half-written; once it is back, the ingest is settled as interrupted, the log
  /// verifies and a retry stores the exhibit.
  @Test func theDatabaseLostMidIngestIsOneLineAndLeavesNothingHalfWritten() throws {
    guard let own = try TestPostgres.dedicated() else { return print("PostgreSQL is not installed: a lost database is not tested") }
    defer { own.stop() }
    let installation = try TestInstallation.make("lrj-pg-lost", database: try own.database("lost"))
    defer { installation.remove() }
    let env = installation.env()
    let clip = installation.folder.appendingPathComponent("copy.mp4")
    var bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samplesClip))
    bytes.append(contentsOf: Array("copy".utf8))
    try bytes.write(to: clip)
    @Sendable func ingest(_ path: String) -> [String] { ["ingest", "--procedure", "P1", "--camera", "street", "--no-model", path] }
    let (first, duration) = try Run.lrjTimed(ingest(TestPaths.samplesClip), environment: env)
    try #require(first.status == 0, "\(first.standardError)")

    let result = LockedResults()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      result.set(0, try? Run.lrj(ingest(clip.path), environment: env))
      done.signal()
    }
    Thread.sleep(forTimeInterval: duration * 0.5)
    own.halt()
    done.wait()
    let lost = try #require(result.get(0))
    #expect(lost.status == 1 && lost.standardError.hasPrefix("error: ") && lost.standardError.split(separator: "\n").count == 1,
            "\(lost.standardError)")
    #expect(lost.standardError.contains("127.0.0.1:\(own.port)"), "names the database: \(lost.standardError)")

    try own.restart()
    let listed = try installation.expect(["search", "--procedure", "P1", "--json"], env)
    let page = try JSONSerialization.jsonObject(with: listed.outputData) as? [String: Any]
    let exhibits = Set((page?["results"] as? [[String: Any]] ?? []).compactMap { $0["exhibit"] as? String })
    #expect(exhibits == ["E1"], "nothing of the lost ingest is visible: \(exhibits)")
    let interrupted = try Self.entries(installation).filter { $0.operation == "ingest" && $0.outcome != .success && $0.outcome != .started }
    #expect(interrupted.count == 1, "the lost ingest is logged as ended: \(interrupted.map(\.outcome))")
    try installation.expect(["log", "verify"], env)
    try installation.expect(ingest(clip.path), env)
    try installation.expect(["log", "verify"], env)
  }

  /// A worker whose database goes away mid-span says so, retries with backoff, and once the server is
  /// back the span is done again (the first attempt committed nothing) and the exhibit published.
  @Test func aWorkerRetriesWhileTheDatabaseIsAwayAndNothingIsHalfCommitted() throws {
    guard let own = try TestPostgres.dedicated() else { return print("PostgreSQL is not installed: a worker's lost database is not tested") }
    defer { own.stop() }
    let installation = try TestInstallation.make("lrj-pg-worker-lost", database: try own.database("workerlost"))
    defer { installation.remove() }
    try installation.enrol("w1", role: "worker")
    try installation.expect(QueueTests.queue(TestPaths.samplesClip), installation.env())
    let worker = try WorkerProcess(installation, user: "w1", arguments: ["--lease", "3"])
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, (try QueueTests.jobs(installation).first?["running"] as? Int ?? 0) == 0 { usleep(100_000) }
    own.halt()
    Thread.sleep(forTimeInterval: 8)
    try own.restart()
    let finished = Date().addingTimeInterval(300)
    while Date() < finished, (try? QueueTests.jobs(installation).first?["state"] as? String) != "published" { Thread.sleep(forTimeInterval: 1) }
    worker.kill9()
    #expect(worker.standardError.contains("retrying in"), "\(worker.standardError)")
    let status = try #require(try QueueTests.jobs(installation).first)
    #expect(status["state"] as? String == "published" && status["done"] as? Int == 4, "\(status)")
    let spans = try Self.entries(installation).filter { $0.operation == "ingest.span" && $0.outcome == .success }.compactMap { $0.parameters["span"] }
    #expect(spans.sorted() == ["1/4", "2/4", "3/4", "4/4"], "\(spans)")
    #expect(try QueueTests.tracks(installation, procedure: "P1").count == 13)
    try installation.expect(["log", "verify"], installation.env())
  }

  @Test func aDatabaseThatCannotBeReachedIsOneLineNamingIt() throws {
    guard let server = TestPostgres.shared else { return }
    let folder = try TestPaths.temporaryFolder("lrj-pg-faults")
    defer { try? FileManager.default.removeItem(at: folder) }
    let home = folder.appendingPathComponent("home")
    let cases: [(String, String)] = [
      ("mysql://x@y/z", "is not a postgres://"),
      ("postgres://lrj@127.0.0.1:1/lrj?sslmode=disable", "connection refused"),
      ("postgres://nobody@127.0.0.1:\(server.port)/lrj?sslmode=disable", "role \"nobody\" does not exist"),
      ("postgres://lrj@127.0.0.1:\(server.port)/nodb?sslmode=disable", "database \"nodb\" does not exist"),
    ]
    for (url, message) in cases {
      let result = try Run.lrj(["init", "--admin-key", folder.appendingPathComponent("a.key").path, "--database", url],
                               environment: ["LRJ_HOME": home.path, "LRJ_PASSPHRASE": "x"])
      #expect(result.status == 1 && result.standardError.hasPrefix("error: ") && result.standardError.contains(message)
              && result.standardError.split(separator: "\n").count == 1, "\(url): \(result.standardError)")
      #expect(!result.standardError.contains("x@") || !url.contains(":x@"), "no password in messages")
      #expect(!FileManager.default.fileExists(atPath: home.path), "\(url): nothing created")
      #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.key").path))
    }
    // An installation whose server goes away: every command says so in one line.
    let installation = try TestInstallation.make("lrj-pg-down", database: try server.database("down"))
    defer { installation.remove() }
    let gone = try Run.lrj(["search", "--procedure", "P1"],
                           environment: installation.env().merging(["LRJ_DATABASE": "postgres://lrj@127.0.0.1:1/lrj?sslmode=disable"]) { $1 })
    #expect(gone.status == 1 && gone.standardError.contains("cannot reach the database postgres://lrj@127.0.0.1:1/lrj"))
  }
}
