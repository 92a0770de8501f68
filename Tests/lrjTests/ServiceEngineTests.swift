import Consultation
import Foundation
import TestSupport
import Testing

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
