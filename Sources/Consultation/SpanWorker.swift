import Crypto
import Foundation
import Index
import Ingest
import Logging
import Store

/// What a worker did with one span (`lrj worker` prints one line per span).
public struct SpanReport: Sendable, Codable {
  public enum Outcome: String, Sendable, Codable {
    /// Processed; its tracks are sealed in the queue.
    case done
    /// Could not be processed: `reason` says why (also in `lrj jobs` and the log).
    case failed
    /// Not processed: its job stopped (authorisation ended, procedure closed).
    case skipped
    /// Processed, but its claim was gone when it finished (the procedure is being closed, or the lease
    /// expired and another worker took it): nothing was recorded.
    case lost
  }

  public var outcome: Outcome
  public var procedure: String
  public var job: String
  /// 1-based, of `spans`.
  public var span: Int
  public var spans: Int
  public var file: String
  public var from: Double
  public var to: Double?
  public var tracks: Int
  public var frames: Int
  public var seconds: Double
  public var reason: String?
}

/// A worker (DESIGN.md §13): claims queued spans one at a time, processes each and records what it found
/// sealed to the procedure's public key, with its completion and a log entry under the investigator who
/// queued it, in one transaction guarded by its claim. It holds no key that opens procedure data.
///
/// A claim is a lease, renewed by a heartbeat while the span is processed; a worker that dies loses it when
/// the lease expires and the span is claimed again by another. A span that outlives `maximumAttempts`
/// claims fails.
public final class SpanWorker: @unchecked Sendable {  // mutable state is only the claim, guarded by `lock`
  public let installation: Installation
  public let identity: Identity
  /// The detector this worker runs (a job queued with the detector waits for a worker that has it).
  public let detector: DetectorSetup
  /// Seconds a claim lasts without a heartbeat.
  public let leaseSeconds: Double
  public static let maximumAttempts = 10
  let logger = Logger(label: "lrj.worker")
  private let lock = NSLock()
  private var current: Claim?

  /// A worker for `identity`, who must be enrolled with the role `worker`.
  public init(installation: Installation, identity: Identity, detector: DetectorSetup, leaseSeconds: Double = 60) throws {
    guard identity.role == .worker else {
      throw ProcedureError("lrj worker is for users enrolled with the role worker; \(identity.user) is \(identity.role.rawValue)")
    }
    self.installation = installation
    self.identity = identity
    self.detector = detector
    self.leaseSeconds = max(2, leaseSeconds)
  }

  /// A claimed span.
  struct Claim {
    var token: String
    var job: IngestJobRecord
    var span: IngestSpanRecord
    var spans: Int
    var publicKey: Data
  }

  private var classifiers: [String] { detector.model == nil ? ["geometry"] : ["geometry", "cnn"] }

  /// Spans this worker could still claim or that others are processing (`--drain` stops at 0).
  public func pendingSpans() throws -> Int {
    try installation.registry.read { tx in
      let marks = classifiers.map { _ in "?" }.joined(separator: ", ")
      return try tx.rows(
        """
        SELECT count(*) AS n FROM ingest_span s JOIN ingest_job j ON j.id = s.job
        WHERE j.state = 'queued' AND s.state IN ('queued', 'running') AND j.classifier IN (\(marks))
        """, classifiers.map(\.storeValue)
      ).first?.get("n") ?? 0
    }
  }

  /// Claims one span and processes it; nil when none can be claimed now.
  /// - Throws: only when the database fails (a span's own failure is recorded and reported).
  public func processNext() throws -> SpanReport? {
    while true {
      switch try claim() {
      case nil: return nil
      case .report(let report): return report
      case .claimed(let claim): return try process(claim)
      }
    }
  }

  private enum ClaimOutcome {
    case claimed(Claim)
    case report(SpanReport)
  }

  private func report(_ claim: Claim, _ outcome: SpanReport.Outcome, tracks: Int = 0, frames: Int = 0, seconds: Double = 0,
                      reason: String? = nil) -> SpanReport {
    SpanReport(outcome: outcome, procedure: claim.job.procedure, job: IngestQueueSchema.jobID(claim.job.row), span: claim.span.index + 1,
               spans: claim.spans, file: claim.job.file, from: claim.span.window.from,
               to: claim.span.window.to.isFinite ? claim.span.window.to : nil, tracks: tracks, frames: frames, seconds: seconds,
               reason: reason)
  }

  /// The log entry of a span, under the investigator who queued it, naming this worker.
  private func entry(_ claim: Claim, outcome: LogOutcome, parameters: [String: String], resultCount: Int? = nil) -> LogEntry {
    var p = parameters
    p["job"] = IngestQueueSchema.jobID(claim.job.row)
    p["span"] = "\(claim.span.index + 1)/\(claim.spans)"
    p["file"] = claim.job.file
    p["sha256"] = claim.job.sha256
    p["worker"] = identity.user
    p["from"] = String(claim.span.window.from)
    p["to"] = claim.span.window.to.isFinite ? String(claim.span.window.to) : "end"
    return LogEntry(time: Date(), user: claim.job.queuedBy, role: Role.investigator.rawValue, procedure: claim.job.procedure,
                    operation: "ingest.span", parameters: p, resultCount: resultCount, outcome: outcome)
  }

  /// In one transaction: the oldest claimable span (queued, or running with an expired lease), checked
  /// against its job's governance, marked running under a fresh claim.
  private func claim() throws -> ClaimOutcome? {
    let dialect = installation.registry.dialect
    let now = IngestQueueSchema.now(dialect)
    let marks = classifiers.map { _ in "?" }.joined(separator: ", ")
    let lockClause = dialect == .postgres ? " FOR UPDATE OF s SKIP LOCKED" : ""
    return try installation.registry.write { tx -> ClaimOutcome? in
      guard let row = try tx.rows(
        """
        SELECT s.job, s.idx FROM ingest_span s JOIN ingest_job j ON j.id = s.job
        WHERE j.state = 'queued' AND j.classifier IN (\(marks))
          AND (s.state = 'queued' OR (s.state = 'running' AND s.lease_until < \(now)))
        ORDER BY s.job, s.idx LIMIT 1\(lockClause)
        """, classifiers.map(\.storeValue)
      ).first else { return nil }
      let jobRow: Int64 = try row.get("job")
      let index: Int = try row.get("idx")
      guard let job = try IngestJobRecord.read(jobRow, in: tx),
        let span = try tx.row("SELECT \(IngestSpanRecord.columns) FROM ingest_span WHERE job = ? AND idx = ?", jobRow, index)
          .map(IngestSpanRecord.init)
      else { return nil }
      let spans = try tx.value(Int.self, "SELECT count(*) FROM ingest_span WHERE job = ?", jobRow) ?? 0
      var claim = Claim(token: UUID().uuidString, job: job, span: span, spans: spans, publicKey: Data())

      // The job goes on only while its investigator could still ingest (L1–L3: token valid, not revoked, procedure open).
      do {
        guard let record = try ProcedureRegistry.procedure(job.procedure, in: tx) else {
          throw ProcedureError("no procedure \(job.procedure)")
        }
        guard try tx.value(Bool.self, "SELECT enabled FROM \"user\" WHERE id = ?", job.queuedBy) == true else {
          throw ProcedureError("user \(job.queuedBy) is disabled")
        }
        try ProcedureAccess(procedure: job.procedure, installation: installation, identity: identity)
          .checkAuthorisation(.ingest, record: record, user: job.queuedBy, role: .investigator, in: tx, now: Date())
        guard let key = try tx.value(Data.self, "SELECT public_key FROM procedure WHERE id = ?", job.procedure) else {
          throw ProcedureError("procedure \(job.procedure) has no public key")
        }
        claim.publicKey = key
      } catch {
        let reason = "stopped: \(error)"
        try tx.execute("UPDATE ingest_span SET state = 'failed', reason = ?, claim = NULL WHERE job = ? AND state IN ('queued', 'running')",
                       reason, jobRow)
        try tx.execute("UPDATE ingest_job SET state = 'failed', reason = ? WHERE id = ?", reason, jobRow)
        _ = try installation.log.append(entry(claim, outcome: .refused, parameters: ["reason": reason]), in: tx)
        return .report(report(claim, .skipped, reason: reason))
      }
      if span.attempts >= Self.maximumAttempts {
        let reason = "abandoned: \(span.attempts) claims of it ended without a result (a worker stopping on it each time)"
        try tx.execute("UPDATE ingest_span SET state = 'failed', reason = ?, claim = NULL WHERE job = ? AND idx = ?", reason, jobRow, index)
        _ = try installation.log.append(entry(claim, outcome: .failed, parameters: ["reason": reason]), in: tx)
        return .report(report(claim, .failed, reason: reason))
      }
      try tx.execute(
        """
        UPDATE ingest_span SET state = 'running', worker = ?, claim = ?, lease_until = \(now) + ?, attempts = attempts + 1,
          started_at = \(now), reason = NULL WHERE job = ? AND idx = ?
        """, identity.user, claim.token, leaseSeconds, jobRow, index)
      return .claimed(claim)
    }
  }

  /// Renews the lease; false when the claim is gone (cancelled, or taken over after it expired).
  private func renew(_ claim: Claim) throws -> Bool {
    let now = IngestQueueSchema.now(installation.registry.dialect)
    return try installation.registry.write { tx in
      try tx.execute("UPDATE ingest_span SET lease_until = \(now) + ? WHERE job = ? AND idx = ? AND claim = ? AND state = 'running'",
                     leaseSeconds, claim.job.row, claim.span.index, claim.token) == 1
    }
  }

  /// Gives the span being processed back to the queue (Ctrl-C): it is claimed again at once, and the attempt is not counted.
  func releaseCurrent() {
    guard let claim = lock.withLock({ current }) else { return }
    _ = try? installation.registry.write { tx in
      try tx.execute("""
        UPDATE ingest_span SET state = 'queued', worker = NULL, claim = NULL, lease_until = NULL, attempts = attempts - 1
        WHERE job = ? AND idx = ? AND claim = ? AND state = 'running'
        """, claim.job.row, claim.span.index, claim.token)
    }
  }

  private func process(_ claim: Claim) throws -> SpanReport {
    lock.withLock { current = claim }
    // Ctrl-C (or kill) while processing: the span goes back to the queue before the process exits.
    let interruption = Interruption.begin { [self] in releaseCurrent() }
    defer {
      Interruption.end(interruption)
      lock.withLock { current = nil }
    }
    let started = Date()
    // The heartbeat renews the lease while the span is processed.
    let stop = DispatchSemaphore(value: 0)
    let stopped = DispatchSemaphore(value: 0)
    let heartbeat = Thread { [self] in
      while stop.wait(timeout: .now() + leaseSeconds / 4) == .timedOut {
        do {
          if try !renew(claim) { break }
        } catch {
          logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
        }
      }
      stopped.signal()
    }
    heartbeat.start()
    func endHeartbeat() {
      stop.signal()
      stopped.wait()
    }

    let result: SpanResult
    do {
      result = try analyse(claim)
    } catch {
      endHeartbeat()
      let reason = String(describing: error)
      let recorded = try installation.registry.write { tx -> Bool in
        guard try tx.execute(
          "UPDATE ingest_span SET state = 'failed', reason = ?, claim = NULL, lease_until = NULL, finished_at = \(IngestQueueSchema.now(tx.dialect)) WHERE job = ? AND idx = ? AND claim = ? AND state = 'running'",
          reason, claim.job.row, claim.span.index, claim.token) == 1
        else { return false }
        _ = try installation.log.append(entry(claim, outcome: .failed, parameters: ["reason": reason]), in: tx)
        return true
      }
      if !recorded { try logLost(claim) }
      return report(claim, recorded ? .failed : .lost, seconds: Date().timeIntervalSince(started), reason: recorded ? reason : Self.lostReason)
    }
    endHeartbeat()

    let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: claim.publicKey)
    let sealer = try ProcedureSealer(procedure: claim.job.procedure, publicKey: publicKey)
    let sealed = try sealer.seal(try result.encoded(), context: SpanResult.context(job: claim.job.row, span: claim.span.index))
    let signature = try identity.signingKey.key.signature(for: SpanResult.statement(
      installation: installation.id, procedure: claim.job.procedure, job: claim.job.row, span: claim.span.index,
      sha256: claim.job.sha256, sealed: sealed))
    let recorded = try installation.registry.write { tx -> Bool in
      let now = IngestQueueSchema.now(tx.dialect)
      guard try tx.execute(
        """
        UPDATE ingest_span SET state = 'done', result = ?, signature = ?, frames = ?, own_frames = ?, skipped = ?, first_time = ?, last_time = ?,
          tracks = ?, finished_at = \(now), lease_until = NULL, claim = NULL
        WHERE job = ? AND idx = ? AND claim = ? AND state = 'running'
        """, sealed, signature, result.frames, result.ownFrames, result.skippedPackets, result.firstTime, result.lastTime, result.tracks.count,
        claim.job.row, claim.span.index, claim.token) == 1
      else { return false }
      var parameters = ["tracks": String(result.tracks.count), "frames": String(result.ownFrames),
                        "result-sha256": SHA256Hex.of(sealed)]
      parameters["runtime"] = result.detectorRuntime
      _ = try installation.log.append(entry(claim, outcome: .success, parameters: parameters, resultCount: result.tracks.count), in: tx)
      return true
    }
    if !recorded { try logLost(claim) }
    return report(claim, recorded ? .done : .lost, tracks: result.tracks.count, frames: result.ownFrames,
                  seconds: Date().timeIntervalSince(started), reason: recorded ? nil : Self.lostReason)
  }

  static let lostReason = "its claim was gone when it finished (the span was cancelled by a closure, or its lease expired and another worker took it over); nothing was recorded"

  /// Logs a span processed in vain: the footage was read, what it found was dropped.
  private func logLost(_ claim: Claim) throws {
    try installation.registry.write { tx in
      _ = try installation.log.append(entry(claim, outcome: .failed, parameters: ["reason": Self.lostReason]), in: tx)
    }
  }

  /// Checks the exhibit file and analyses the span (L8: the file's SHA-256 must be the one queued).
  private func analyse(_ claim: Claim) throws -> SpanResult {
    let path = claim.job.file
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw ProcedureError("\(path) cannot be read by worker \(identity.user)")
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    guard size == claim.job.sizeBytes else {
      throw ProcedureError("\(path) changed since it was queued: \(size.map(String.init) ?? "unknown") bytes, queued with \(claim.job.sizeBytes)")
    }
    var settings = AnalysisSettings()
    if claim.job.classifier == "cnn" { detector.apply(to: &settings) }
    let analysis = try Spans.analyse(path: path, window: claim.span.window, settings: settings)
    guard analysis.sha256 == claim.job.sha256 else {
      throw ProcedureError("\(path) changed since it was queued: SHA-256 \(analysis.sha256), queued with \(claim.job.sha256)")
    }
    return SpanResult(
      tracks: analysis.tracks, provisional: analysis.provisional.sorted(), frames: analysis.frames, ownFrames: analysis.ownFrames, firstTime: analysis.firstTime,
      lastTime: analysis.lastTime, skippedPackets: analysis.skippedPackets, detectorRuntime: analysis.detectorRuntime)
  }
}
