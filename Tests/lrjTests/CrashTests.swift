import Consultation
import Foundation
import GRDB
import Store
import StorePostgres
import TestSupport
import Testing

/// Crash tests in the manner of SQLite's: `lrj ingest`, `lrj synopsis` and `lrj procedure close` are
/// killed with SIGKILL at many points across their run (spread evenly over the time a whole run takes
/// on this machine, measured first), and after each kill: a retry completes, `lrj log verify` passes
/// (it recomputes every logged digest against the stored data), nothing the killed run staged is left
/// anywhere, and no operation stays half-settled (issue 20).
@Suite(.serialized)
struct CrashTests {
  /// Kill points per operation (on PostgreSQL, half as many: the same code paths, a second engine).
  static let points = 20

  /// The engines the crash tests run on: the embedded files, and PostgreSQL when it is installed.
  enum Engine: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
    var points: Int { self == .sqlite ? CrashTests.points : CrashTests.points / 2 }

    /// A new installation on this engine; nil (saying so) when PostgreSQL is not installed.
    func installation(_ name: String) throws -> TestInstallation? {
      guard self == .postgres else { return try TestInstallation.make(name) }
      guard let server = TestPostgres.shared else {
        print("PostgreSQL is not installed: crash tests on PostgreSQL are skipped")
        return nil
      }
      return try TestInstallation.make(name, database: try server.database("crash"))
    }
  }

  /// A 2-second cut of the Samples clip, and copies that differ by a trailing byte (each a new exhibit).
  struct Clips {
    let folder: URL
    let base: URL

    init(_ folder: URL) throws {
      self.folder = folder
      base = folder.appendingPathComponent("base.mp4")
      let cut = try Run.program("ffmpeg", ["-v", "error", "-y", "-i", TestPaths.samplesClip, "-t", "2", "-c", "copy", base.path])
      guard cut.status == 0 else { throw TestSetupError("ffmpeg: \(cut.standardError)") }
    }

    func copy(_ n: Int) throws -> String {
      let url = folder.appendingPathComponent("clip\(n).mp4")
      var data = try Data(contentsOf: base)
      data.append(contentsOf: Array("\(n)".utf8))
      try data.write(to: url)
      return url.path
    }
  }

  static func ingest(_ clip: String, procedure: String = "P1") -> [String] {
    ["ingest", "--procedure", procedure, "--camera", "street", "--start", "2026-03-01T10:00:00+01:00", "--no-model", clip]
  }

  /// Everything a clean installation satisfies after the next command ran: the log and all it vouches
  /// for verify, no operation is recorded as running, no lock file, no staged exhibit, no hidden file
  /// that lrj stages in `folders`.
  static func expectClean(_ installation: TestInstallation, folders: [URL], _ context: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let verified = try Run.lrj(["log", "verify"], environment: installation.env())
    #expect(verified.status == 0, "\(context): \(verified.standardError)", sourceLocation: sourceLocation)
    let running = (try? FileManager.default.contentsOfDirectory(atPath: installation.home.appendingPathComponent("running").path)) ?? []
    #expect(running.isEmpty, "\(context): lock files left: \(running)", sourceLocation: sourceLocation)
    if let database = installation.database {
      // The registry's tables and each procedure's schema, in the PostgreSQL database.
      let location = try PostgresLocation(url: database)
      let registry = try PostgresEngine(location: location)
      let operations = try registry.read { try $0.value(Int.self, "SELECT count(*) FROM operation") ?? -1 }
      let schemas = try registry.read { try $0.values(String.self, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lrj\\_p\\_%'") }
      try registry.close()
      #expect(operations == 0, "\(context): \(operations) operations still recorded as running", sourceLocation: sourceLocation)
      for schema in schemas {
        let store = try PostgresEngine(location: location, schema: schema)
        let staged = try store.read { try $0.value(Int.self, "SELECT count(*) FROM exhibit WHERE complete = 0") ?? -1 }
        try store.close()
        #expect(staged == 0, "\(context): \(staged) staged exhibits left in \(schema)", sourceLocation: sourceLocation)
      }
    } else {
      let registry = try DatabaseQueue(path: installation.home.appendingPathComponent("registry.sqlite").path)
      let operations = try registry.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM operation") ?? -1 }
      try registry.close()
      #expect(operations == 0, "\(context): \(operations) operations still recorded as running", sourceLocation: sourceLocation)
      let vaults = installation.home.appendingPathComponent("procedures")
      for procedure in (try? FileManager.default.contentsOfDirectory(atPath: vaults.path)) ?? [] {
        let index = vaults.appendingPathComponent(procedure).appendingPathComponent("index.sqlite")
        guard FileManager.default.fileExists(atPath: index.path) else { continue }
        let store = try DatabaseQueue(path: index.path)
        let staged = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM exhibit WHERE complete = 0") ?? -1 }
        try store.close()
        #expect(staged == 0, "\(context): \(staged) staged exhibits left in \(procedure)", sourceLocation: sourceLocation)
      }
    }
    for folder in folders {
      let hidden = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.contains(".lrj-") || $0.hasSuffix(".partial") }
      #expect(hidden.isEmpty, "\(context): staged files left in \(folder.path): \(hidden)", sourceLocation: sourceLocation)
    }
  }

  /// The log as stored.
  static func entries(_ installation: TestInstallation) throws -> [LogEntry] {
    try Installation.open(home: installation.home).logEntries().compactMap(\.entry)
  }

  @Test(arguments: Engine.allCases) func ingestKilledAtAnyPointIsUndoneAndARetryCompletes(_ engine: Engine) throws {
    guard Reference.available, let installation = try engine.installation("lrj-crash-ingest") else { return }
    let points = engine.points
    defer { installation.remove() }
    let clips = try Clips(installation.folder)
    let env = installation.env()
    var (first, duration) = try Run.lrjTimed(Self.ingest(try clips.copy(0)), environment: env)
    try #require(first.status == 0, "\(first.standardError)")
    var killed = 0
    for point in 1...points {
      let clip = try clips.copy(point)
      let delay = duration * Double(point) / Double(points + 1)
      let run = try Run.lrjKilled(Self.ingest(clip), environment: env, after: delay)
      if run.killed { killed += 1 }
      // Nothing stored by a killed ingest is visible: every exhibit searched is one the log says was stored.
      let (retry, retryDuration) = try Run.lrjTimed(Self.ingest(clip), environment: env)
      #expect(retry.status == 0, "point \(point) (\(delay) s): retry: \(retry.standardError)")
      // The retry is a whole run: when the machine got faster (a shared one), the next kill is timed on it.
      duration = min(duration, retryDuration)
      try Self.expectClean(installation, folders: [], "ingest killed after \(String(format: "%.2f", delay)) s")
    }
    // Every started ingest ended, in success or as interrupted; every exhibit is named once as stored.
    let log = try Self.entries(installation)
    let started = log.filter { $0.operation == "ingest" && $0.outcome == .started }
    let ended = Set(log.filter { $0.operation == "ingest" && $0.outcome != .started }.compactMap { $0.parameters["operation"] })
    #expect(started.allSatisfy { ended.contains($0.parameters["operation"] ?? "") })
    let stored = log.filter { $0.operation == "ingest" && $0.outcome == .success && $0.parameters["duplicate"] == nil }.compactMap { $0.parameters["exhibit"] }
    #expect(Set(stored).count == stored.count, "an exhibit id was logged twice: \(stored)")
    #expect(stored.count == points + 1)
    print("crash tests (\(engine)): ingest killed at \(killed) of \(points) points over a \(String(format: "%.2f", duration)) s run; every retry completed")
    #expect(killed >= points / 2)
  }

  @Test func synopsisKilledAtAnyPointIsLoggedAndLeavesNothing() throws {
    guard Reference.available else { return }
    let installation = try TestInstallation.make("lrj-crash-synopsis")
    defer { installation.remove() }
    let clips = try Clips(installation.folder)
    let env = installation.env()
    try installation.expect(Self.ingest(try clips.copy(0)), env)
    let out = installation.folder.appendingPathComponent("synopses")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    func synopsis(_ n: Int) -> [String] {
      ["synopsis", "--procedure", "P1", "--out", out.appendingPathComponent("s\(n).mp4").path,
       "--png", out.appendingPathComponent("s\(n).png").path]
    }
    let (first, duration) = try Run.lrjTimed(synopsis(0), environment: env)
    try #require(first.status == 0, "\(first.standardError)")
    var killed = 0
    for point in 1...Self.points {
      let delay = duration * Double(point) / Double(Self.points + 1)
      let before = try Self.entries(installation).count
      let run = try Run.lrjKilled(synopsis(point), environment: env, after: delay)
      if run.killed {
        killed += 1
        // Logged before its first pixel: the killed synopsis is in the log, as started, by itself.
        let added = try Self.entries(installation).dropFirst(before)
        if added.contains(where: { $0.operation == "synopsis" }) {
          #expect(added.first { $0.operation == "synopsis" }?.outcome == .started)
        }
      }
      // The next command settles it: whatever it staged is removed, and the log says it was interrupted.
      try installation.expect(["search", "--procedure", "P1"], env)
      try Self.expectClean(installation, folders: [out], "synopsis killed after \(String(format: "%.2f", delay)) s")
      let final = out.appendingPathComponent("s\(point).mp4")
      if !FileManager.default.fileExists(atPath: final.path) {
        try installation.expect(synopsis(point), env)
      }
      #expect(FileManager.default.fileExists(atPath: final.path))
    }
    let log = try Self.entries(installation)
    let started = log.filter { $0.operation == "synopsis" && $0.outcome == .started }
    let ended = Set(log.filter { $0.operation == "synopsis" && $0.outcome != .started }.compactMap { $0.parameters["operation"] })
    #expect(started.allSatisfy { ended.contains($0.parameters["operation"] ?? "") })
    print("crash tests: synopsis killed at \(killed) of \(Self.points) points over a \(String(format: "%.2f", duration)) s run; nothing left behind")
    #expect(killed >= Self.points / 2)
  }

  @Test(arguments: Engine.allCases) func closureKilledAtAnyPointIsFinishedByARetry(_ engine: Engine) throws {
    guard Reference.available, let installation = try engine.installation("lrj-crash-close") else { return }
    let points = engine.points
    defer { installation.remove() }
    let clips = try Clips(installation.folder)
    func prepare(_ procedure: String, _ n: Int) throws -> URL {
      try installation.openProcedure(procedure)
      try installation.expect(Self.ingest(try clips.copy(n), procedure: procedure), installation.env())
      return installation.folder.appendingPathComponent("report-\(procedure)")
    }
    func close(_ procedure: String, _ report: URL) -> [String] {
      ["procedure", "close", "--procedure", procedure, "--report", report.path, "--with-data"]
    }
    // The kills are spread over a whole close, timed on two (the first on a cold database can take
    // twice as long as the later ones, when most kills would land after the close ended): the shorter.
    var duration = Double.infinity
    for warmUp in ["C0", "C00"] {
      let report = try prepare(warmUp, warmUp.count * 100)
      let (run, seconds) = try Run.lrjTimed(close(warmUp, report), environment: installation.env(as: "judge"))
      try #require(run.status == 0, "\(run.standardError)")
      duration = min(duration, seconds)
    }
    var killed = 0
    for point in 1...points {
      let procedure = "C\(point)"
      let report = try prepare(procedure, point)
      let delay = duration * Double(point) / Double(points + 1)
      let run = try Run.lrjKilled(close(procedure, report), environment: installation.env(as: "judge"), after: delay)
      if run.killed { killed += 1 }
      // A retry (by the controller every other time) finishes it; after a complete run, a retry is refused.
      let closer = point % 2 == 0 ? "controller" : "judge"
      try Self.expectRetryFinishes(installation, procedure: procedure, report: report, as: closer,
                                   "point \(point), killed after \(String(format: "%.2f", delay)) s")
    }
    print("crash tests (\(engine)): procedure close killed at \(killed) of \(points) points over a \(String(format: "%.2f", duration)) s run; every retry finished it")
    #expect(killed >= points / 2)
  }

  /// The instants between a closure's steps, where a kill timed from outside lands only by chance.
  static let closurePoints = [
    "closure.claimed", "closure.staged", "closure.reported", "closure.published-one", "closure.key-file-destroyed",
    "closure.key-destroyed", "closure.vault-erased", "closure.erased",
  ]

  @Test(arguments: Engine.allCases) func closureKilledBetweenItsStepsIsFinishedByARetry(_ engine: Engine) throws {
    guard Reference.available, let installation = try engine.installation("lrj-crash-steps") else { return }
    defer { installation.remove() }
    let clips = try Clips(installation.folder)
    for (n, point) in Self.closurePoints.enumerated() {
      let procedure = "S\(n)"
      let report = try Self.closureKilled(at: point, procedure: procedure, clip: try clips.copy(n), installation)
      try Self.expectRetryFinishes(installation, procedure: procedure, report: report, as: n % 2 == 0 ? "judge" : "controller",
                                   "killed at \(point)")
      // The report the killed run logged is the one published, not written anew.
      let reports = try Self.entries(installation).filter {
        $0.procedure == procedure && $0.parameters["step"] == "reported" && $0.outcome == .success
      }
      #expect(reports.count == 1, "killed at \(point): \(reports.count) reports logged")
    }
  }

  /// Opens `procedure`, ingests `clip` into it, and has its closure (with data) killed at the crash
  /// point `point` by the magistrate; returns the report folder.
  static func closureKilled(at point: String, procedure: String, clip: String, _ installation: TestInstallation,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
    try installation.openProcedure(procedure)
    try installation.expect(Self.ingest(clip, procedure: procedure), installation.env())
    let report = installation.folder.appendingPathComponent("report-\(procedure)")
    let close = ["procedure", "close", "--procedure", procedure, "--report", report.path, "--with-data"]
    let killed = try Run.lrj(close, environment: installation.env(as: "judge").merging(["LRJ_CRASH_AT": point]) { $1 })
    try #require(killed.status == SIGKILL, "\(point): the crash point was not reached: \(killed.status) \(killed.standardError)",
                 sourceLocation: sourceLocation)
    return report
  }

  /// An insider who can write `LRJ_HOME` sets a killed closure's registry row back (to `claimed`, or
  /// deletes it) so that the retry writes a second report, or is stuck behind a published one, or sets it
  /// forward so that the retry skips the report and the key's destruction. The retry
  /// resumes where the log says the closure stood: one report (the logged one), vault and key gone; and
  /// `lrj log verify` names the edit, before the retry and after it.
  @Test func aClosureRowEditedBehindLrjsBackIsResumedAsTheLogSaysAndNamed() throws {
    guard Reference.available, let installation = try Engine.sqlite.installation("lrj-closure-rewound") else { return }
    defer { installation.remove() }
    let clips = try Clips(installation.folder)
    let registry = installation.home.appendingPathComponent("registry.sqlite")
    let edits = [
      ("closure.reported", "UPDATE closure SET step = 'claimed' WHERE procedure = 'R0'"),
      ("closure.published-one", "DELETE FROM closure WHERE procedure = 'R1'"),
      ("closure.key-destroyed", "UPDATE closure SET step = 'claimed', files = NULL WHERE procedure = 'R2'"),
      // Forward: the retry would skip publishing the report and destroying the key.
      ("closure.reported", "UPDATE closure SET step = 'key-destroyed' WHERE procedure = 'R3'"),
      // Elsewhere: the report rewritten into another folder, without the data.
      ("closure.reported", "UPDATE closure SET report_folder = '/tmp', with_data = 0 WHERE procedure = 'R4'"),
    ]
    for (n, (point, sql)) in edits.enumerated() {
      let procedure = "R\(n)"
      let report = try Self.closureKilled(at: point, procedure: procedure, clip: try clips.copy(n), installation)
      let close = ["procedure", "close", "--procedure", procedure, "--report", report.path, "--with-data"]
      try GovernanceAttackTests.tamper(registry, sql)
      try GovernanceAttackTests.expectVerifyNames(installation, "procedure \(procedure)")

      let retry = try Run.lrj(close, environment: installation.env(as: "controller"))
      #expect(retry.status == 0, "\(point): retry: \(retry.standardError)")
      let log = try Self.entries(installation).filter { $0.procedure == procedure }
      let reports = log.filter { $0.parameters["step"] == "reported" && $0.outcome == .success }
      #expect(reports.count == 1, "\(point): \(reports.count) reports logged")
      let files = try FileManager.default.contentsOfDirectory(atPath: report.path).sorted()
      #expect(files.count == 5, "\(point): \(files)")
      for file in files {
        #expect(reports.first?.filesWritten.contains(try SHA256Hex.ofFile(report.appendingPathComponent(file).path)) == true,
                "\(point): \(file) is the logged one")
      }
      #expect(log.contains { $0.parameters["step"] == "erased" && $0.outcome == .success }, "\(point)")
      #expect(!FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("procedures/\(procedure)").path))
      try GovernanceAttackTests.expectVerifyNames(installation, "procedure \(procedure)'s closure was edited in the registry")
    }
  }

  /// A retry of `procedure close` finishes a killed closure (or says it was finished): the report in
  /// the folder is whole and is the one logged, the vault and key are gone, nothing is left staged.
  static func expectRetryFinishes(_ installation: TestInstallation, procedure: String, report: URL, as closer: String,
                                  _ context: String) throws {
    let close = ["procedure", "close", "--procedure", procedure, "--report", report.path, "--with-data"]
    let retry = try Run.lrj(close, environment: installation.env(as: closer))
    #expect(retry.status == 0 || retry.standardError.contains("was closed and its data erased"),
            "\(context): retry: \(retry.standardError)")
    let log = try entries(installation)
    // The report's entry (a resumed closure's started entry also names the step it resumes).
    let reported = try #require(
      log.last { $0.procedure == procedure && $0.parameters["step"] == "reported" && $0.outcome == .success }, "\(context)")
    let files = try FileManager.default.contentsOfDirectory(atPath: report.path).sorted()
    #expect(files == ["closure-\(procedure)-data.tar", "closure-\(procedure).html", "closure-\(procedure).json",
                      "closure-\(procedure).md", "closure-\(procedure).pdf"],
            "\(context): \(files)")
    for file in files {
      #expect(reported.filesWritten.contains(try SHA256Hex.ofFile(report.appendingPathComponent(file).path)),
              "\(context): \(file) is the logged one")
    }
    #expect(log.contains { $0.procedure == procedure && $0.parameters["step"] == "erased" && $0.outcome == .success }, "\(context)")
    #expect(!FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("procedures/\(procedure)").path),
            "\(context)")
    try expectClean(installation, folders: [report], context)
  }
}
