@testable import Consultation
import Crypto
import Foundation
import GRDB
import Index
import TestSupport
import Testing

/// Ingest spread over workers (DESIGN.md §13, issue 17), through the built binary, on both engines:
/// `lrj ingest --queue`, several `lrj worker` processes, `lrj jobs`; workers killed with SIGKILL at
/// random moments; changed and missing exhibits; revoked authorisations and closure.
@Suite(.serialized)
struct QueueTests {
  typealias Engine = CrashTests.Engine

  /// Spans of 10 s overlapping by 5 s: the 40 s Samples clip gives 4 spans.
  static func queue(_ file: String, procedure: String = "P1", wait: Bool = false) -> [String] {
    ["ingest", "--procedure", procedure, "--camera", "street", "--start", "2026-03-01T10:00:00+01:00", "--no-model", "--queue", "--span-seconds", "10",
     "--overlap-seconds", "5"] + (wait ? ["--wait"] : []) + [file]
  }

  static func jobs(_ installation: TestInstallation, procedure: String = "P1") throws -> [[String: Any]] {
    let result = try installation.expect(["jobs", "--procedure", procedure, "--json"], installation.env())
    return try #require(try JSONSerialization.jsonObject(with: result.outputData) as? [[String: Any]])
  }

  static func tracks(_ installation: TestInstallation, procedure: String) throws -> [[String: Any]] {
    let result = try installation.expect(["search", "--procedure", procedure, "--json"], installation.env())
    let page = try JSONSerialization.jsonObject(with: result.outputData) as? [String: Any]
    return page?["results"] as? [[String: Any]] ?? []
  }

  /// What a track is, whatever its id: class, direction, first second.
  static func signature(_ track: [String: Any]) -> String {
    let offset = (track["startOffset"] as? Double).map { String(Int($0)) } ?? "?"
    return "\(track["class"] ?? "?") \(track["direction"] ?? "?") \(offset)"
  }

  static func installation(_ engine: Engine, _ name: String, workers: [String] = ["w1", "w2", "w3"]) throws -> TestInstallation? {
    guard Reference.available, let installation = try engine.installation(name) else { return nil }
    for worker in workers { try installation.enrol(worker, role: "worker") }
    return installation
  }

  /// Two workers in parallel give the exhibit a one-process ingest gives, with every span logged once
  /// under the investigator, naming its worker.
  @Test(arguments: Engine.allCases) func aQueuedIngestMatchesAOneProcessIngest(_ engine: Engine) throws {
    guard let installation = try Self.installation(engine, "lrj-queue-match") else { return }
    defer { installation.remove() }
    try installation.openProcedure("P2")
    try installation.expect(["ingest", "--procedure", "P2", "--camera", "street", "--no-model", TestPaths.samplesClip], installation.env())

    let queued = try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    #expect(queued.standardOutput.contains("→ job J1: 4 spans"), "\(queued.standardOutput)")
    // Queued again while waiting: not a second job.
    let again = try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    #expect(again.standardOutput.contains("job J1 (queued before"), "\(again.standardOutput)")
    let waiting = try Self.jobs(installation)
    #expect(waiting.count == 1 && waiting[0]["queued"] as? Int == 4 && waiting[0]["state"] as? String == "queued")

    let workers = try ["w1", "w2"].map { try WorkerProcess(installation, user: $0, arguments: ["--drain"]) }
    for worker in workers { #expect(worker.wait() == 0, "\(worker.standardError)") }
    let lines = workers.flatMap { $0.standardOutput.split(separator: "\n") }
    #expect(lines.filter { $0.contains(": done, ") }.count == 4, "\(lines)")

    let text = try installation.expect(["jobs", "--procedure", "P1"], installation.env())
    #expect(text.standardOutput.contains("J1\tpublished → E1\t4/4 spans done"), "\(text.standardOutput)")
    #expect(text.standardError.contains("published: "), "\(text.standardError)")
    let published = try Self.jobs(installation)
    #expect(published[0]["state"] as? String == "published" && published[0]["exhibit"] as? String == "E1")
    #expect(published[0]["frames"] as? Int == (try Reference.decodedFrameCount(TestPaths.samplesClip)))

    let queuedTracks = try Self.tracks(installation, procedure: "P1")
    let wholeTracks = try Self.tracks(installation, procedure: "P2")
    #expect(queuedTracks.count == wholeTracks.count, "queued \(queuedTracks.count) tracks, one process \(wholeTracks.count)")
    #expect(queuedTracks.map(Self.signature).sorted() == wholeTracks.map(Self.signature).sorted())

    let log = try CrashTests.entries(installation)
    let spans = log.filter { $0.operation == "ingest.span" && $0.outcome == .success }
    #expect(Set(spans.compactMap { $0.parameters["span"] }) == ["1/4", "2/4", "3/4", "4/4"] && spans.count == 4)
    #expect(spans.allSatisfy { $0.user == "opj" && ["w1", "w2"].contains($0.parameters["worker"] ?? "") })
    let ingest = try #require(log.last { $0.operation == "ingest" && $0.outcome == .success })
    #expect(ingest.parameters["job"] == "J1" && ingest.parameters["exhibit"] == "E1" && ingest.parameters["digest"] != nil)
    try CrashTests.expectClean(installation, folders: [], "after a queued ingest")
    // Queued again once published: it is an exhibit already.
    let duplicate = try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    #expect(duplicate.standardOutput.contains("already ingested as exhibit E1"), "\(duplicate.standardOutput)")
  }

  /// Workers killed with SIGKILL at random moments: their spans are done again by others once their lease
  /// expires; every span is recorded exactly once and the exhibit is the one a single process finds.
  @Test(arguments: Engine.allCases) func workersKilledAtRandomMomentsLoseNoSpanAndDoubleNone(_ engine: Engine) throws {
    guard let installation = try Self.installation(engine, "lrj-queue-kills") else { return }
    defer { installation.remove() }
    let kills = engine == .sqlite ? 12 : 8
    try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    var generator = SystemRandomNumberGenerator()
    let lease = ["--lease", "3"]
    var running = try ["w1", "w2", "w3"].map { try WorkerProcess(installation, user: $0, arguments: lease) }
    var killed = 0
    var killedBusy = 0
    for _ in 0..<kills {
      Thread.sleep(forTimeInterval: Double.random(in: 0.3...3.0, using: &generator))
      let victim = Int.random(in: 0..<running.count, using: &generator)
      let user = running[victim].user
      // Busy when it was killed: a span of the job was running then.
      if (try Self.jobs(installation).first?["running"] as? Int ?? 0) > 0 { killedBusy += 1 }
      running[victim].kill9()
      killed += 1
      running[victim] = try WorkerProcess(installation, user: user, arguments: lease)
    }
    for worker in running { worker.kill9() }
    // A worker that drains finishes what the killed ones left, once their leases expire.
    let drain = try WorkerProcess(installation, user: "w1", arguments: lease + ["--drain"])
    #expect(drain.wait() == 0, "\(drain.standardError)")
    let status = try #require(try Self.jobs(installation).first)
    #expect(status["state"] as? String == "published" && status["done"] as? Int == 4, "\(status)")

    let log = try CrashTests.entries(installation)
    let spans = log.filter { $0.operation == "ingest.span" && $0.outcome == .success }.compactMap { $0.parameters["span"] }
    #expect(spans.sorted() == ["1/4", "2/4", "3/4", "4/4"], "each span recorded exactly once: \(spans)")
    #expect(try Self.tracks(installation, procedure: "P1").count == 13)
    try CrashTests.expectClean(installation, folders: [], "after \(killed) workers were killed")
    print("queue tests (\(engine)): \(killed) workers killed with SIGKILL, \(killedBusy) while a span was running; no span lost or doubled")
    #expect(killed == kills && killedBusy >= kills / 3)
  }

  /// A changed exhibit (same size, other bytes) and a missing one fail their spans with the reason, in
  /// `lrj jobs` and the log; the other exhibit is published; queued again once put right, it goes through.
  @Test(arguments: Engine.allCases) func aChangedOrMissingExhibitFailsItsSpansAndTheOthersGoOn(_ engine: Engine) throws {
    guard let installation = try Self.installation(engine, "lrj-queue-bad", workers: ["w1"]) else { return }
    defer { installation.remove() }
    let clips = try CrashTests.Clips(installation.folder)
    let good = try clips.copy(1)
    let changed = try clips.copy(2)
    let missing = try clips.copy(3)
    for clip in [good, changed, missing] { try installation.expect(Self.queue(clip), installation.env()) }
    let original = try Data(contentsOf: URL(fileURLWithPath: changed))
    var altered = original
    altered[altered.count / 2] ^= 0xFF
    try altered.write(to: URL(fileURLWithPath: changed))
    let kept = installation.folder.appendingPathComponent("kept.mp4")
    try FileManager.default.moveItem(atPath: missing, toPath: kept.path)

    let worker = try WorkerProcess(installation, user: "w1", arguments: ["--drain"])
    #expect(worker.wait() == 0, "\(worker.standardError)")
    let waited = try Run.lrj(Self.queue(good, wait: true), environment: installation.env())
    #expect(waited.status == 0, "\(waited.standardError)")
    let statuses = try Self.jobs(installation)
    func status(_ file: String) -> [String: Any]? { statuses.first { $0["file"] as? String == file } }
    #expect(status(good)?["state"] as? String == "published")
    let changedReasons = status(changed)?["reasons"] as? [String] ?? []
    #expect(status(changed)?["failed"] as? Int == 1 && changedReasons.contains { $0.contains("changed since it was queued: SHA-256") },
            "\(changedReasons)")
    let missingReasons = status(missing)?["reasons"] as? [String] ?? []
    #expect(missingReasons.contains { $0.contains("cannot be read by worker w1") }, "\(missingReasons)")
    let failures = try CrashTests.entries(installation).filter { $0.operation == "ingest.span" && $0.outcome == .failed }
    #expect(failures.count == 2 && failures.allSatisfy { $0.user == "opj" && $0.parameters["worker"] == "w1" })

    // --wait on a job whose span fails: one error line naming why.
    let vanishing = try clips.copy(4)
    let waiting = try BackgroundLRJ(Self.queue(vanishing, wait: true), environment: installation.env())
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, try !Self.jobs(installation).contains(where: { $0["file"] as? String == vanishing }) { usleep(100_000) }
    try FileManager.default.removeItem(atPath: vanishing)
    let third = try WorkerProcess(installation, user: "w1", arguments: ["--drain"])
    #expect(third.wait() == 0, "\(third.standardError)")
    #expect(waiting.wait() != 0 && waiting.standardError.contains("cannot be read by worker w1"), "\(waiting.standardError)")

    // Put right and queued again: the failed span is queued again and the exhibit published.
    try FileManager.default.moveItem(atPath: kept.path, toPath: missing)
    let requeued = try installation.expect(Self.queue(missing), installation.env())
    #expect(requeued.standardOutput.contains("queued before; its failed spans queued again"), "\(requeued.standardOutput)")
    let second = try WorkerProcess(installation, user: "w1", arguments: ["--drain"])
    #expect(second.wait() == 0, "\(second.standardError)")
    #expect(try Self.jobs(installation).first { $0["file"] as? String == missing }?["state"] as? String == "published")
    try installation.expect(["log", "verify"], installation.env(as: "judge"))
  }

  /// A revoked authorisation stops its queued spans (skipped by workers, logged); a closure cancels spans
  /// queued or being processed and leaves no row of the queue behind.
  @Test(arguments: Engine.allCases) func aRevokedTokenOrAClosureStopsQueuedSpans(_ engine: Engine) throws {
    guard let installation = try Self.installation(engine, "lrj-queue-stop", workers: ["w1"]) else { return }
    defer { installation.remove() }
    let clips = try CrashTests.Clips(installation.folder)
    try installation.expect(Self.queue(try clips.copy(1)), installation.env())
    let token = try #require(try CrashTests.entries(installation).last { $0.operation == "procedure.open" && $0.procedure == "P1" }?.parameters["token"])
    try installation.expect(["authorise", "--revoke", token], installation.env(as: "judge"))
    let worker = try WorkerProcess(installation, user: "w1", arguments: ["--drain"])
    #expect(worker.wait() == 0, "\(worker.standardError)")
    #expect(worker.standardOutput.contains(": skipped: stopped: "), "\(worker.standardOutput)")
    let refused = try CrashTests.entries(installation).filter { $0.operation == "ingest.span" && $0.outcome == .refused }
    #expect(refused.count == 1 && refused[0].user == "opj" && refused[0].parameters["worker"] == "w1")

    // Closure while a worker processes a span of the procedure: its result is refused, nothing is left.
    try installation.openProcedure("P3")
    try installation.expect(Self.queue(TestPaths.samplesClip, procedure: "P3"), installation.env())
    let busy = try WorkerProcess(installation, user: "w1", arguments: ["--drain"])
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, (try Self.jobs(installation, procedure: "P3").first?["running"] as? Int ?? 0) == 0 { usleep(100_000) }
    let report = installation.folder.appendingPathComponent("report")
    try installation.expect(["procedure", "close", "--procedure", "P3", "--report", report.path], installation.env(as: "judge"))
    #expect(busy.wait() == 0, "\(busy.standardError)")
    #expect(busy.standardOutput.contains(": lost: "), "\(busy.standardOutput)")
    #expect(!busy.standardOutput.contains(": done, "), "a span of a closed procedure was recorded: \(busy.standardOutput)")
    let lost = try CrashTests.entries(installation).filter { $0.procedure == "P3" && $0.operation == "ingest.span" }
    #expect(lost.count == 1 && lost[0].outcome == .failed && lost[0].parameters["reason"]?.contains("cancelled by a closure") == true,
            "the span processed in vain is logged: \(lost)")
    let rows = try Installation.open(home: installation.home).queueRows(procedure: "P3")
    #expect(rows == 0, "\(rows) rows of the queue left after the closure")
    try installation.expect(["log", "verify"], installation.env(as: "judge"))
  }

  /// An insider who can write the registry replaces a span's result by one sealed to the procedure's public
  /// key (anyone can seal to it): publication refuses it, naming the span, and a worker does the span again.
  @Test func aForgedSpanResultIsRefusedAndTheSpanIsDoneAgain() throws {
    guard let installation = try Self.installation(.sqlite, "lrj-queue-forged", workers: ["w1"]) else { return }
    defer { installation.remove() }
    try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    #expect(try WorkerProcess(installation, user: "w1", arguments: ["--drain"]).wait() == 0)

    let registry = try DatabaseQueue(path: installation.home.appendingPathComponent("registry.sqlite").path)
    let publicKey = try #require(try registry.read { try Data.fetchOne($0, sql: "SELECT public_key FROM procedure WHERE id = 'P1'") })
    let box = Box(x: 600, y: 300, width: 80, height: 60)
    let planted = NewTrack(
      objectClass: .car, classConfidence: 0.99, colours: [ColourFraction(.red, 0.9)], direction: .left, speed: 0.1,
      path: (0..<50).map { PathSample(time: 12 + Double($0) * 0.1, frameIndex: 300 + $0 * 2, box: box) })
    let forged = SpanResult(tracks: [planted], frames: 400, ownFrames: 250, firstTime: 5, lastTime: 19.96, skippedPackets: 0,
                            detectorRuntime: nil)
    let sealer = try ProcedureSealer(procedure: "P1", publicKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey))
    let sealed = try sealer.seal(try forged.encoded(), context: SpanResult.context(job: 1, span: 1))
    try registry.write { try $0.execute(sql: "UPDATE ingest_span SET result = ? WHERE job = 1 AND idx = 1", arguments: [sealed]) }
    try registry.close()

    let refused = try Run.lrj(["jobs", "--procedure", "P1"], environment: installation.env())
    #expect(refused.status != 0 && refused.standardError.contains("span 2 of job J1 does not carry the signature of an enabled worker"),
            "\(refused.standardError)")
    let status = try #require(try? Self.jobs(installation).first)
    #expect(status["state"] as? String == "queued" && status["queued"] as? Int == 1 && status["done"] as? Int == 3, "\(status)")
    #expect(try WorkerProcess(installation, user: "w1", arguments: ["--drain"]).wait() == 0)
    #expect(try Self.jobs(installation).first?["state"] as? String == "published")
    let tracks = try Self.tracks(installation, procedure: "P1")
    #expect(tracks.count == 13 && !tracks.contains { ($0["colours"] as? [[String: Any]])?.first?["colour"] as? String == "red"
      && $0["class"] as? String == "car" && ($0["startOffset"] as? Double ?? 0) == 12 }, "the planted track is not there")
    let failed = try CrashTests.entries(installation).filter { $0.operation == "ingest" && $0.outcome == .failed }
    #expect(failed.count == 1 && failed[0].parameters["error"]?.contains("not carry the signature") == true)
    try installation.expect(["log", "verify"], installation.env(as: "judge"))
  }

  /// An insider who points a queued job at another file (path and SHA-256 changed together, so workers find
  /// them consistent and sign what they read): publication compares the job with its logged queuing and refuses.
  @Test func aJobRedirectedInTheDatabaseIsNotPublished() throws {
    guard let installation = try Self.installation(.sqlite, "lrj-queue-redirected", workers: ["w1"]) else { return }
    defer { installation.remove() }
    let clips = try CrashTests.Clips(installation.folder)
    let queuedClip = try clips.copy(1)
    let other = try clips.copy(2)
    try installation.expect(Self.queue(queuedClip), installation.env())
    let registry = try DatabaseQueue(path: installation.home.appendingPathComponent("registry.sqlite").path)
    let sha = try Run.program("sha256sum", [other]).standardOutput.prefix(64)
    let size = try FileManager.default.attributesOfItem(atPath: other)[.size] as? Int ?? 0
    try registry.write {
      try $0.execute(sql: "UPDATE ingest_job SET file = ?, sha256 = ?, size_bytes = ? WHERE id = 1", arguments: [other, String(sha), size])
    }
    try registry.close()
    #expect(try WorkerProcess(installation, user: "w1", arguments: ["--drain"]).wait() == 0)
    let refused = try Run.lrj(["jobs", "--procedure", "P1"], environment: installation.env())
    #expect(refused.status != 0 && refused.standardError.contains("job J1 differs from what its queuing logged (file, sha256)"),
            "\(refused.standardError)")
    #expect(try Self.tracks(installation, procedure: "P1").isEmpty, "nothing of the redirected job is published")
    let status = try #require(try Self.jobs(installation).first)
    #expect(status["state"] as? String == "failed" && (status["reasons"] as? [String])?.first?.contains("altered in the database") == true,
            "\(status)")
  }

  /// Ctrl-C on a worker mid-span gives the span back at once (no lease to wait for); another worker does it.
  @Test func ctrlCGivesTheSpanBack() throws {
    guard let installation = try Self.installation(.sqlite, "lrj-queue-interrupt", workers: ["w1"]) else { return }
    defer { installation.remove() }
    try installation.expect(Self.queue(TestPaths.samplesClip), installation.env())
    let worker = try WorkerProcess(installation, user: "w1", arguments: ["--lease", "600"])
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, (try Self.jobs(installation).first?["running"] as? Int ?? 0) == 0 { usleep(100_000) }
    worker.interrupt()
    #expect(worker.wait() == 128 + SIGINT, "\(worker.standardError)")
    let status = try #require(try Self.jobs(installation).first)
    #expect(status["running"] as? Int == 0 && (status["queued"] as? Int ?? 0) + (status["done"] as? Int ?? 0) == 4,
            "the span is queued again at once: \(status)")
    #expect(try WorkerProcess(installation, user: "w1", arguments: ["--drain"]).wait() == 0)
    #expect(try Self.jobs(installation).first?["state"] as? String == "published")
  }

  /// Each role keeps to its part: workers queue and read nothing, others cannot work.
  @Test func onlyWorkersWorkAndWorkersOnlyWork() throws {
    guard let installation = try Self.installation(.sqlite, "lrj-queue-roles", workers: ["w1"]) else { return }
    defer { installation.remove() }
    for (arguments, message) in [
      (Self.queue(TestPaths.samplesClip), "workers process queued spans of ingests and nothing else"),
      (["jobs", "--procedure", "P1"], "workers process queued spans of ingests and nothing else"),
    ] {
      let result = try Run.lrj(arguments, environment: installation.env(as: "w1"))
      #expect(result.status != 0 && result.standardError.hasPrefix("error: ") && result.standardError.contains(message),
              "\(arguments): \(result.standardError)")
    }
    for user in ["opj", "judge", "admin"] {
      let result = try Run.lrj(["worker", "--drain"], environment: installation.env(as: user))
      #expect(result.status != 0 && result.standardError.contains("lrj worker is for users enrolled with the role worker"),
              "\(user): \(result.standardError)")
    }
    let bad = try Run.lrj(Self.queue(TestPaths.samplesClip) + ["--span-seconds", "5"], environment: installation.env())
    #expect(bad.status != 0 && bad.standardError.contains("--span-seconds must be in 10...3600"), "\(bad.standardError)")
    // Short spans without --overlap-seconds overlap by half a span at most.
    let short = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "street", "--start", "2026-03-01T10:00:00+01:00", "--no-model",
                             "--queue", "--span-seconds", "10", TestPaths.samplesClip], environment: installation.env())
    #expect(short.status == 0 && short.standardOutput.contains("→ job J1: 4 spans"), "\(short.standardError)")
  }
}

/// An `lrj worker` running in the background.
final class WorkerProcess: BackgroundLRJ {
  let user: String

  init(_ installation: TestInstallation, user: String, arguments: [String]) throws {
    self.user = user
    try super.init(["worker", "--no-model"] + arguments, environment: installation.env(as: user))
  }
}

/// An `lrj` command running in the background, its output in files.
class BackgroundLRJ {
  private let process = Process()
  private let folder: URL

  init(_ arguments: [String], environment: [String: String]) throws {
    folder = try TestPaths.temporaryFolder("lrj-background")
    process.executableURL = TestPaths.products.appendingPathComponent("lrj")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    for name in ["stdout", "stderr"] { FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: nil) }
    process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout"))
    process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr"))
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    try? FileManager.default.removeItem(at: folder)
  }

  /// Sends it SIGINT (Ctrl-C).
  func interrupt() {
    if process.isRunning { kill(process.processIdentifier, SIGINT) }
  }

  /// Kills it with SIGKILL and waits for it.
  func kill9() {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }

  /// Waits for it to exit (at most 10 minutes) and returns its status.
  func wait() -> Int32 {
    let deadline = Date().addingTimeInterval(600)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning { kill9() }
    process.waitUntilExit()
    return process.terminationStatus
  }

  var standardOutput: String { (try? String(contentsOf: folder.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
  var standardError: String { (try? String(contentsOf: folder.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }
}
