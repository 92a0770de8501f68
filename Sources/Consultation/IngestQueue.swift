import Crypto
import Foundation
import Index
import Ingest
import Media
import Store

/// The ingest queue's tables in the registry (DESIGN.md §13): one job per queued exhibit, one row per span.
///
/// A span is `queued`, `running` (claimed by a worker until `lease_until`, by the database's clock),
/// `done` (its tracks sealed to the procedure's public key in `result`), `failed` (with its reason) or
/// `cancelled` (its procedure is being closed). A job is `queued` until its spans are joined and published
/// as one exhibit by an `ingest` where the procedure's key is (`published`), or it is `failed` (its
/// investigator's authorisation ended) or `cancelled`.
enum IngestQueueSchema {
  static func statements(_ dialect: StoreDialect) -> [String] {
    let sqlite = dialect == .sqlite
    let real = sqlite ? "REAL" : "DOUBLE PRECISION"
    let blob = sqlite ? "BLOB" : "BYTEA"
    let id = sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    let integer = sqlite ? "INTEGER" : "BIGINT"
    let strict = sqlite ? " STRICT" : ""
    return [
      """
      CREATE TABLE ingest_job(
        id \(id),
        procedure TEXT NOT NULL REFERENCES procedure(id),
        queued_by TEXT NOT NULL,
        queued_at \(real) NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        size_bytes \(integer) NOT NULL CHECK (size_bytes >= 0),
        camera TEXT NOT NULL,
        start TEXT NOT NULL,
        classifier TEXT NOT NULL CHECK (classifier IN ('cnn', 'geometry')),
        video TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'published', 'failed', 'cancelled')),
        exhibit TEXT,
        reason TEXT,
        finished_at \(real)
      )\(strict)
      """,
      "CREATE INDEX ingest_job_procedure ON ingest_job(procedure, state)",
      """
      CREATE TABLE ingest_span(
        job \(integer) NOT NULL REFERENCES ingest_job(id),
        idx \(integer) NOT NULL CHECK (idx >= 0),
        from_s \(real) NOT NULL,
        own_from \(real) NOT NULL,
        to_s \(real),
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        worker TEXT,
        claim TEXT,
        lease_until \(real),
        attempts \(integer) NOT NULL DEFAULT 0,
        started_at \(real),
        finished_at \(real),
        frames \(integer),
        own_frames \(integer),
        skipped \(integer),
        first_time \(real),
        last_time \(real),
        tracks \(integer),
        result \(blob),
        signature \(blob),
        reason TEXT,
        PRIMARY KEY (job, idx)
      )\(strict)
      """,
      "CREATE INDEX ingest_span_state ON ingest_span(state, job, idx)",
    ]
  }

  /// The database's clock in seconds since 1970, as an SQL expression: leases are measured by one clock
  /// whatever the machines' own.
  static func now(_ dialect: StoreDialect) -> String {
    dialect == .sqlite ? "((julianday('now') - 2440587.5) * 86400.0)" : "EXTRACT(EPOCH FROM clock_timestamp())::float8"
  }

  /// Job ids as users see them: `J12`.
  static func jobID(_ row: Int64) -> String { "J\(row)" }

  static func jobRow(_ id: String) -> Int64? {
    guard id.hasPrefix("J"), let row = Int64(id.dropFirst()), row > 0 else { return nil }
    return row
  }
}

/// What the stream of a queued exhibit is, recorded when it is queued (a worker re-checks the file's SHA-256).
struct QueuedVideo: Codable, Sendable {
  var container: String
  var codec: String
  var width: Int
  var height: Int
  var fps: Double
}

/// One exhibit queued by `lrj ingest --queue`.
public struct QueuedIngest: Sendable, Codable {
  /// The job id (`J3`); nil when nothing was queued because the file is an exhibit already.
  public var job: String?
  public var file: String
  public var sha256: String
  public var camera: String
  public var start: String
  public var spans: Int
  /// The exhibit this file already is (same SHA-256): nothing was queued.
  public var exhibit: String?
  /// Set when the same file was queued before and is still waiting: its failed spans are queued again.
  public var alreadyQueued: Bool
}

/// The progress of one queued exhibit (`lrj jobs`; the `--json` keys are a contract).
public struct IngestJobStatus: Sendable, Codable, Equatable {
  public var job: String
  public var file: String
  public var sha256: String
  public var camera: String
  public var queuedBy: String
  public var queuedAt: String
  /// `queued` (spans to process or to publish), `published`, `failed` or `cancelled`.
  public var state: String
  /// The exhibit it became once published.
  public var exhibit: String?
  public var spans: Int
  public var queued: Int
  public var running: Int
  public var done: Int
  public var failed: Int
  /// Frames of the spans done, and how fast the workers went (frames over the time since the first span started).
  public var frames: Int
  public var framesPerSecond: Double?
  /// Workers that processed or are processing its spans.
  public var workers: [String]
  /// Why spans failed, or why the job stopped: `span 3: …`.
  public var reasons: [String]
  /// Every span done: ready to publish.
  public var isReady: Bool { state == "queued" && done == spans }
}

/// What a worker found in one span, sealed to the procedure's public key in the span's row.
struct SpanResult: Codable {
  var tracks: [NewTrack]
  /// Indices of tracks kept only because the span's edge cuts them (see `Spans.join`).
  var provisional: [Int]? = nil
  var frames: Int
  var ownFrames: Int
  var firstTime: Double
  var lastTime: Double
  var skippedPackets: Int
  var detectorRuntime: String?

  static func context(job: Int64, span: Int) -> String { "span \(IngestQueueSchema.jobID(job)).\(span)" }

  /// What the worker's signature covers: which span of which exhibit, and the sealed bytes it recorded.
  /// Sealing to the public key hides the result but anyone can seal; the signature of an enrolled worker
  /// is what a forged result lacks.
  static func statement(installation: String, procedure: String, job: Int64, span: Int, sha256: String, sealed: Data) -> Data {
    Data("lrj span result\n\(installation)\n\(procedure)\n\(IngestQueueSchema.jobID(job))\n\(span)\n\(sha256)\n\(SHA256Hex.of(sealed))\n".utf8)
  }

  func encoded() throws -> Data {
    let encoder = PropertyListEncoder()
    encoder.outputFormat = .binary
    return try encoder.encode(self)
  }

  static func decoded(_ data: Data) throws -> SpanResult { try PropertyListDecoder().decode(SpanResult.self, from: data) }
}

/// A job row with its spans.
struct IngestJobRecord {
  var row: Int64
  var procedure: String
  var queuedBy: String
  var queuedAt: Double
  var file: String
  var sha256: String
  var sizeBytes: Int64
  var camera: String
  var start: String
  var classifier: String
  var video: QueuedVideo
  var state: String
  var exhibit: String?
  var reason: String?

  static let columns = "id, procedure, queued_by, queued_at, file, sha256, size_bytes, camera, start, classifier, video, state, exhibit, reason"

  init(_ row: StoreRow) throws {
    self.row = try row.get("id")
    procedure = try row.get("procedure")
    queuedBy = try row.get("queued_by")
    queuedAt = try row.get("queued_at")
    file = try row.get("file")
    sha256 = try row.get("sha256")
    sizeBytes = try row.get("size_bytes")
    camera = try row.get("camera")
    start = try row.get("start")
    classifier = try row.get("classifier")
    video = try JSONDecoder().decode(QueuedVideo.self, from: Data((try row.get("video") as String).utf8))
    state = try row.get("state")
    exhibit = try row.get("exhibit")
    reason = try row.get("reason")
  }

  static func read(_ row: Int64, in tx: any StoreTransaction) throws -> IngestJobRecord? {
    try tx.row("SELECT \(columns) FROM ingest_job WHERE id = ?", row).map(IngestJobRecord.init)
  }
}

/// A span row, without its result.
struct IngestSpanRecord {
  var job: Int64
  var index: Int
  var window: AnalysisWindow
  var state: String
  var worker: String?
  var attempts: Int
  var startedAt: Double?
  var finishedAt: Double?
  var ownFrames: Int?
  var reason: String?

  static let columns = "job, idx, from_s, own_from, to_s, state, worker, attempts, started_at, finished_at, own_frames, reason"

  init(_ row: StoreRow) throws {
    job = try row.get("job")
    index = try row.get("idx")
    window = AnalysisWindow(from: try row.get("from_s"), to: try row.get("to_s", as: Double?.self) ?? .infinity,
                            ownFrom: try row.get("own_from"))
    state = try row.get("state")
    worker = try row.get("worker")
    attempts = try row.get("attempts")
    startedAt = try row.get("started_at")
    finishedAt = try row.get("finished_at")
    ownFrames = try row.get("own_frames")
    reason = try row.get("reason")
  }

  static func all(job: Int64, in tx: any StoreTransaction) throws -> [IngestSpanRecord] {
    try tx.rows("SELECT \(columns) FROM ingest_span WHERE job = ? ORDER BY idx", job).map(IngestSpanRecord.init)
  }
}

extension Installation {
  /// The progress of the jobs of `procedure` (all of them, or those in `jobs`), oldest first. Reads the queue only:
  /// nothing of what the spans found.
  func jobStatuses(procedure: String, jobs: [String]? = nil) throws -> [IngestJobStatus] {
    try registry.read { tx in
      var records = try tx.rows("SELECT \(IngestJobRecord.columns) FROM ingest_job WHERE procedure = ? ORDER BY id", procedure)
        .map(IngestJobRecord.init)
      if let jobs {
        let wanted = Set(jobs.compactMap(IngestQueueSchema.jobRow))
        records = records.filter { wanted.contains($0.row) }
      }
      return try records.map { job in
        let spans = try IngestSpanRecord.all(job: job.row, in: tx)
        func count(_ state: String) -> Int { spans.filter { $0.state == state }.count }
        let done = spans.filter { $0.state == "done" }
        let frames = done.compactMap(\.ownFrames).reduce(0, +)
        let began = spans.compactMap(\.startedAt).min()
        let ended = done.compactMap(\.finishedAt).max()
        let rate = began.flatMap { began in ended.map { ended in Double(frames) / max(ended - began, 1e-3) } }
        var reasons = spans.compactMap { span in span.reason.map { "span \(span.index + 1): \($0)" } }
        if let reason = job.reason { reasons.insert(reason, at: 0) }
        return IngestJobStatus(
          job: IngestQueueSchema.jobID(job.row), file: job.file, sha256: job.sha256, camera: job.camera, queuedBy: job.queuedBy,
          queuedAt: AuthorisationClaims.format(Date(timeIntervalSince1970: job.queuedAt)), state: job.state, exhibit: job.exhibit,
          spans: spans.count, queued: count("queued"), running: count("running"), done: done.count, failed: count("failed"),
          frames: frames, framesPerSecond: done.isEmpty ? nil : rate,
          workers: Array(Set(spans.compactMap(\.worker))).sorted(), reasons: reasons)
      }
    }
  }
}

extension ProcedureAccess {
  /// Queues an exhibit file for workers (investigators named in a valid authorisation): it is checked and
  /// hashed (L8), cut into spans of about `spanSeconds` overlapping by `overlapSeconds` (starting on keyframes
  /// the container indexes), and its job and spans are written in one transaction with the entry that logs them.
  /// A file already ingested is not queued; a file already queued is not queued twice (its failed spans are queued again).
  public func queueIngest(
    path: String, camera: String, start: WallClockTime?, classifier: ClassifierModel?, spanSeconds: Double, overlapSeconds: Double
  ) throws -> QueuedIngest {
    let parameters = ["file": ExportFile.absolute(path), "camera": camera, "start": start?.iso8601() ?? "creation_time",
                      "classifier": classifier.map { "cnn \($0.sha256)" } ?? "geometry",
                      "span-seconds": String(spanSeconds), "overlap-seconds": String(overlapSeconds)]
    return try perform(.queue, parameters: parameters, writes: true) { workspace, context in
      try IndexStore.validateCameraName(camera)
      let survey = try ExhibitSurvey.of(path: path)
      guard let startTime = start ?? survey.creationTime else {
        throw IngestError(
          "\(path): no start time: the file has no creation_time; give the wall-clock time of its first frame with --start")
      }
      var queued = QueuedIngest(
        job: nil, file: ExportFile.absolute(path), sha256: survey.sha256, camera: camera, start: startTime.iso8601(), spans: 0,
        exhibit: nil, alreadyQueued: false)
      if let existing = try workspace.store.exhibit(withSHA256: survey.sha256), existing.isComplete {
        queued.exhibit = existing.id
        return OperationOutcome(value: queued, resultCount: 0, parameters: ["sha256": survey.sha256, "exhibit": existing.id, "duplicate": "true"])
      }
      let windows = Spans.plan(duration: survey.info.duration ?? 0, length: spanSeconds, overlap: overlapSeconds,
                               keyframes: survey.keyframes)
      let video = QueuedVideo(container: survey.info.container, codec: survey.info.codec, width: survey.info.width,
                              height: survey.info.height, fps: survey.info.frameRate)
      let videoJSON = String(decoding: try JSONEncoder().encode(video), as: UTF8.self)
      queued.spans = windows.count
      let logged = ["sha256": survey.sha256, "spans": String(windows.count)]
      try context.logSuccess(parameters: parameters.merging(logged) { $1 }, resultCount: windows.count) { tx in
        let now = try tx.value(Double.self, "SELECT \(IngestQueueSchema.now(tx.dialect))") ?? context.now.timeIntervalSince1970
        if let row = try tx.value(Int64.self, "SELECT id FROM ingest_job WHERE procedure = ? AND sha256 = ? AND state = 'queued'",
                                  procedure, survey.sha256) {
          // Queued before and still waiting: its failed spans go back to the queue.
          try tx.execute("UPDATE ingest_span SET state = 'queued', reason = NULL, worker = NULL, claim = NULL, attempts = 0 WHERE job = ? AND state = 'failed'", row)
          queued.job = IngestQueueSchema.jobID(row)
          queued.alreadyQueued = true
          queued.spans = try tx.value(Int.self, "SELECT count(*) FROM ingest_span WHERE job = ?", row) ?? 0
        } else {
          guard let row = try tx.value(
            Int64.self,
            """
            INSERT INTO ingest_job(procedure, queued_by, queued_at, file, sha256, size_bytes, camera, start, classifier, video, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued') RETURNING id
            """,
            procedure, identity.user, now, queued.file, survey.sha256, survey.info.fileSize, camera, queued.start,
            classifier == nil ? "geometry" : "cnn", videoJSON)
          else { throw ProcedureError("the job of \(path) could not be recorded") }
          for (index, window) in windows.enumerated() {
            try tx.execute(
              "INSERT INTO ingest_span(job, idx, from_s, own_from, to_s, state) VALUES (?, ?, ?, ?, ?, 'queued')",
              row, index, window.from, window.ownFrom, window.to.isFinite ? window.to : nil)
          }
          queued.job = IngestQueueSchema.jobID(row)
        }
        var recorded = ["job": queued.job ?? ""]
        if queued.alreadyQueued { recorded["requeued"] = "true" }
        return recorded
      }
      // Its success entry is logged above, with the job.
      return OperationOutcome(value: queued, resultCount: queued.spans)
    }
  }

  /// The progress of this procedure's queued ingests (logged as a consultation).
  public func jobs() throws -> [IngestJobStatus] {
    try perform(.jobs, parameters: [:]) { _, _ in
      let statuses = try installation.jobStatuses(procedure: procedure)
      return OperationOutcome(value: statuses, resultCount: statuses.count)
    }
  }

  /// The progress of jobs this user queued (for `lrj ingest --queue --wait`): read without logging, since it
  /// shows only counts of the queue the user's own logged operation filled.
  public func progress(of jobs: [String]) throws -> [IngestJobStatus] {
    try installation.jobStatuses(procedure: procedure, jobs: jobs).filter { $0.queuedBy == identity.user }
  }

  /// Publishes every queued exhibit of this procedure whose spans are all done (or those in `jobs`): each is
  /// an `ingest` where the procedure's key is, which opens the spans' sealed tracks, joins tracks that cross
  /// span boundaries, stores the exhibit invisible, logs it with its digest, then makes it visible. Only an
  /// investigator of the procedure publishes; for anyone else this does nothing.
  public func publishQueued(jobs: [String]? = nil) throws -> [IngestReport] {
    try readyJobs(jobs).map { try publish(job: $0) }
  }

  /// The jobs (of `jobs`, or all) whose spans are all done and that this user may publish (an investigator).
  public func readyJobs(_ jobs: [String]? = nil) throws -> [String] {
    guard identity.role == .investigator else { return [] }
    return try installation.jobStatuses(procedure: procedure, jobs: jobs).filter(\.isReady).map(\.job)
  }

  /// Publishes one job whose spans are all done (see `publishQueued`).
  public func publish(job: String) throws -> IngestReport {
    guard let status = try installation.jobStatuses(procedure: procedure, jobs: [job]).first else {
      throw ProcedureError("no job \(job) in procedure \(procedure)")
    }
    do {
      return try publishUnchecked(status)
    } catch let altered as AlteredJob {
      // Published never: the job stops, with its reason (`lrj jobs` shows it; the failed ingest is logged).
      try installation.registry.write { tx in
        try tx.execute("UPDATE ingest_job SET state = 'failed', reason = ? WHERE id = ? AND state = 'queued'", altered.description,
                       altered.job)
      }
      throw altered
    } catch let forged as ForgedSpan {
      // Nothing of it is used: the span is done again by a worker.
      try installation.registry.write { tx in
        try tx.execute("""
          UPDATE ingest_span SET state = 'queued', result = NULL, signature = NULL, worker = NULL, claim = NULL, attempts = 0,
            reason = 'its recorded result was not signed by an enabled worker; queued again'
          WHERE job = ? AND idx = ? AND state = 'done'
          """, forged.job, forged.span)
      }
      throw forged
    }
  }

  /// The job as the database holds it must be the one its queuing logged (the log is tamper-evident, the
  /// queue's rows are not): file, SHA-256, camera and who queued it.
  private func checkAgainstLog(_ job: IngestJobRecord) throws {
    let id = IngestQueueSchema.jobID(job.row)
    guard let queued = try installation.log.entries(LogFilter(procedure: procedure)).lazy.compactMap(\.entry).first(where: {
      $0.operation == ProcedureOperation.queue.rawValue && $0.outcome == .success && $0.parameters["job"] == id
    }) else {
      throw AlteredJob(job: job.row, description: "job \(id) was never logged as queued: altered in the database; nothing of it is published")
    }
    let differing = [("file", job.file), ("sha256", job.sha256), ("camera", job.camera)]
      .filter { queued.parameters[$0.0] != $0.1 }.map(\.0) + (queued.user == job.queuedBy ? [] : ["queued-by"])
    guard differing.isEmpty else {
      throw AlteredJob(job: job.row, description: "job \(id) differs from what its queuing logged (\(differing.joined(separator: ", "))): "
                       + "altered in the database; nothing of it is published")
    }
  }

  private func publishUnchecked(_ status: IngestJobStatus) throws -> IngestReport {
    guard let row = IngestQueueSchema.jobRow(status.job) else { throw ProcedureError("no job \(status.job)") }
    let parameters = ["file": status.file, "camera": status.camera, "job": status.job, "queued-by": status.queuedBy]
    return try perform(.ingest, parameters: parameters, writes: true) { workspace, context in
      let started = Date()
      guard let opener = workspace.opener else { throw ProcedureError("procedure \(procedure) has no key") }
      let (job, spans, results) = try installation.registry.read { tx in
        guard let job = try IngestJobRecord.read(row, in: tx), job.procedure == procedure, job.state == "queued" else {
          throw ProcedureError("job \(status.job) is not waiting to be published")
        }
        let spans = try IngestSpanRecord.all(job: row, in: tx)
        guard !spans.isEmpty, spans.allSatisfy({ $0.state == "done" }) else {
          throw ProcedureError("job \(status.job) has spans not done yet")
        }
        let results = try tx.rows("SELECT idx, worker, result, signature FROM ingest_span WHERE job = ? ORDER BY idx", row)
        var opened: [Data] = []
        for result in results {
          let index: Int = try result.get("idx")
          let sealed: Data? = try result.get("result")
          let worker: String? = try result.get("worker")
          let signature: Data? = try result.get("signature")
          guard let sealed, let worker, let signature,
            let text = try tx.value(String.self, "SELECT public_key FROM \"user\" WHERE id = ? AND role = 'worker' AND enabled = 1", worker),
            let raw = Data(base64Encoded: text), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            key.isValidSignature(signature, for: SpanResult.statement(
              installation: installation.id, procedure: procedure, job: row, span: index, sha256: job.sha256, sealed: sealed))
          else {
            throw ForgedSpan(job: row, span: index, worker: worker)
          }
          opened.append(sealed)
        }
        return (job, spans, opened)
      }
      guard results.count == spans.count else { throw ProcedureError("job \(status.job) lacks the result of a span") }
      try checkAgainstLog(job)
      let opened = try zip(spans, results).map { span, sealed in
        try SpanResult.decoded(opener.open(sealed, context: SpanResult.context(job: row, span: span.index)))
      }
      let joined = Spans.join(zip(spans, opened).map { ($0.window, $1.tracks, Set($1.provisional ?? [])) }, frameWidth: job.video.width)
      let startTime = try WallClockTime(iso8601: job.start)
      let metadata = ExhibitMetadata(
        fileName: job.file, sha256: job.sha256, sizeBytes: job.sizeBytes, container: job.video.container, codec: job.video.codec,
        width: job.video.width, height: job.video.height, fps: job.video.fps, camera: job.camera, start: startTime)
      let frames = opened.map(\.ownFrames).reduce(0, +)
      let completion = ExhibitCompletion(
        duration: max(0, (opened.last?.lastTime ?? 0) - (opened.first?.firstTime ?? 0)), framesDecoded: frames,
        skippedPackets: opened.map(\.skippedPackets).reduce(0, +))
      var counts: [String: Int] = [:]
      for track in joined { counts[track.objectClass.rawValue, default: 0] += 1 }
      let workers = Array(Set(spans.compactMap(\.worker))).sorted()
      // Workers on different processors may run the detector in different precisions: each is named.
      let runtimes = Array(Set(opened.compactMap(\.detectorRuntime))).sorted()
      func report(exhibit: String, duplicate: Bool) -> IngestReport {
        let wall = (spans.compactMap(\.finishedAt).max() ?? 0) - (spans.compactMap(\.startedAt).min() ?? 0)
        return IngestReport(
          exhibit: exhibit, file: job.file, sha256: job.sha256, camera: job.camera, start: job.start, frames: frames,
          width: job.video.width, height: job.video.height, fps: job.video.fps, tracks: counts,
          seconds: Date().timeIntervalSince(started), framesPerSecond: Double(frames) / max(wall, 1e-3),
          skippedPackets: completion.skippedPackets, alreadyIngested: duplicate,
          classifier: job.classifier, detectorRuntime: runtimes.isEmpty ? nil : runtimes.joined(separator: "; "))
      }
      func markPublished(_ exhibit: String, in tx: any StoreTransaction) throws {
        let now = try tx.value(Double.self, "SELECT \(IngestQueueSchema.now(tx.dialect))")
        guard try tx.execute("UPDATE ingest_job SET state = 'published', exhibit = ?, finished_at = ? WHERE id = ? AND state = 'queued'",
                             exhibit, now, row) == 1
        else { throw ProcedureError("job \(status.job) was published by another process meanwhile") }
        // The sealed results served their purpose: the index holds the exhibit now.
        _ = try tx.execute("UPDATE ingest_span SET result = NULL, signature = NULL WHERE job = ?", row)
      }
      if let existing = try workspace.store.exhibit(withSHA256: job.sha256), existing.isComplete {
        // Published before (its process ended before recording it), or ingested by hand meanwhile.
        try installation.registry.write { tx in try markPublished(existing.id, in: tx) }
        return OperationOutcome(value: report(exhibit: existing.id, duplicate: true), resultCount: 0,
                                parameters: ["exhibit": existing.id, "sha256": job.sha256, "duplicate": "true"])
      }
      let sealer = try opener.sealer()
      let staged = try workspace.store.stageExhibit(
        metadata, tracks: joined, completion: completion, operation: context.running?.id ?? RunningOperation.newID(),
        sealThumbnail: { track, thumbnail in
          Thumbnail(format: ProcedureWorkspace.sealedPrefix + thumbnail.format,
                    data: try sealer.seal(thumbnail.data, context: "thumbnail \(track)"))
        })
      do {
        try context.logSuccess(
          parameters: parameters.merging(Self.ingestParameters(staged.digest, sha256: job.sha256)) { $1 }
            .merging(["spans": String(spans.count), "workers": workers.joined(separator: ","), "classifier": job.classifier]) { $1 },
          resultCount: staged.digest.trackIDs.count
        ) { tx in
          try markPublished(staged.exhibit, in: tx)
          return [:]
        }
      } catch {
        try? workspace.store.removeStagedExhibit(staged.exhibit)
        throw error
      }
      try workspace.store.publishExhibit(staged.exhibit, digest: staged.digest.digest)
      return OperationOutcome(value: report(exhibit: staged.exhibit, duplicate: false), resultCount: joined.count)
    }
  }
}

/// A job whose row no longer says what its queuing logged.
struct AlteredJob: Error, CustomStringConvertible {
  let job: Int64
  let description: String
}

/// A span's recorded result that no enabled worker signed: altered or forged in the database.
struct ForgedSpan: Error, CustomStringConvertible {
  let job: Int64
  let span: Int
  let worker: String?

  var description: String {
    "the result of span \(span + 1) of job \(IngestQueueSchema.jobID(job)) does not carry the signature of an enabled worker"
      + (worker.map { " (recorded as \($0)'s)" } ?? "") + ": altered or forged in the database; the span is queued again"
  }
}

extension Installation {
  /// Cancels the queued ingests of a procedure being closed: their spans are no longer claimed, a worker's
  /// result for one is refused, and what spans found is dropped (part of the closure's claiming transaction).
  static func cancelQueuedIngests(of procedure: String, in tx: any StoreTransaction) throws {
    try tx.execute("""
      UPDATE ingest_span SET state = 'cancelled', result = NULL, claim = NULL
      WHERE job IN (SELECT id FROM ingest_job WHERE procedure = ?) AND state <> 'cancelled'
      """, procedure)
    try tx.execute("UPDATE ingest_job SET state = 'cancelled', reason = 'the procedure was closed' WHERE procedure = ? AND state = 'queued'", procedure)
  }

  /// How many rows of the queue (jobs and spans) `procedure` has: none once it is closed.
  public func queueRows(procedure: String) throws -> Int {
    try registry.read { tx in
      (try tx.value(Int.self, "SELECT count(*) FROM ingest_span WHERE job IN (SELECT id FROM ingest_job WHERE procedure = ?)", procedure) ?? 0)
        + (try tx.value(Int.self, "SELECT count(*) FROM ingest_job WHERE procedure = ?", procedure) ?? 0)
    }
  }

  /// Removes every row of a closed procedure's queue (the closure's last transaction).
  static func removeQueuedIngests(of procedure: String, in tx: any StoreTransaction) throws {
    try tx.execute("DELETE FROM ingest_span WHERE job IN (SELECT id FROM ingest_job WHERE procedure = ?)", procedure)
    try tx.execute("DELETE FROM ingest_job WHERE procedure = ?", procedure)
  }
}
