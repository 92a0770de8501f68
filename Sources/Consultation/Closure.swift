import Foundation
import Store
import Index

/// The closure report's JSON manifest (L5): what was authorised, who acted, on which exhibits,
/// every consultation, every export, and how the data were erased (L6).
public struct ClosureManifest: Codable, Sendable {
  public struct Authorisation: Codable, Sendable {
    public var tokenID: String
    public var issuer: String
    public var kind: String
    public var notBefore: String
    public var expires: String
    public var issuedAt: String
    public var investigators: [String]
    public var registeredAt: String?
    public var registeredBy: String?
    public var revokedAt: String?
    public var revokedBy: String?
  }

  public struct Exhibit: Codable, Sendable {
    public var id: String
    public var file: String
    public var camera: String
    public var sha256: String
    public var sizeBytes: Int64
    public var durationSeconds: Double
    public var frames: Int
    public var start: String
    public var tracks: Int
  }

  public struct Consultation: Codable, Sendable {
    public var seq: Int64
    public var time: String
    public var user: String
    public var role: String
    public var operation: String
    public var parameters: [String: String]
    public var resultCount: Int?
    public var outcome: String
    public var filesSha256: [String]
  }

  public struct Export: Codable, Sendable {
    public var seq: Int64
    public var time: String
    public var user: String
    public var operation: String
    public var file: String?
    public var sha256: String
  }

  public struct DataArchive: Codable, Sendable {
    public var file: String
    public var sha256: String
    public var bytes: Int
    public var tracks: Int
  }

  public struct Erasure: Codable, Sendable {
    public var time: String
    public var method: String
    public var procedureKey: String
    public var vaultFiles: [String]
    public var vaultBytes: Int64
  }

  public var format = "lrj-closure-report/1"
  public var installation: String
  public var procedure: String
  public var kind: String
  public var openedAt: String
  public var openedBy: String
  public var closedAt: String
  public var closedBy: String
  public var authorisations: [Authorisation]
  public var investigators: [String]
  public var exhibits: [Exhibit]
  public var consultations: [Consultation]
  public var exports: [Export]
  public var capabilityManifestSha256: String
  public var capabilityStatement: String
  public var dataArchive: DataArchive?
  /// What is to be erased once the report is published (the erasure record follows in the log).
  public var erasure: Erasure
  /// The consultation log's head when the report was written: a signed checkpoint
  /// (`lrj log verify --checkpoint` this file checks the log against it).
  public var checkpoint: String?
}

/// What `close` wrote and erased.
public struct ClosureResult: Sendable {
  /// Every file written into the report folder, with its SHA-256.
  public var files: [(path: String, sha256: String)]
  /// The report's manifest (its erasure section says what was to be erased).
  public var manifest: ClosureManifest
  /// What was erased, after the report.
  public var erasure: ClosureManifest.Erasure
  /// Whether this run resumed a closure that an earlier run had begun.
  public var resumed: Bool
}

/// A closure under way, as the registry's `closure` table keeps it.
struct ClosureRecord {
  var step: ClosureStep
  var operation: String
  var closer: String
  var reportFolder: String
  var withData: Bool
  /// The report's files once reported: staging name, final name, SHA-256.
  var files: [ReportFile]

  struct ReportFile: Codable {
    var temporary: String
    var final: String
    var sha256: String
  }

  /// The closure as the registry's `closure` row holds it (nil when there is none).
  static func read(_ procedure: String, in tx: any StoreTransaction) throws -> ClosureRecord? {
    guard let row = try tx.row("SELECT * FROM closure WHERE procedure = ?", procedure) else { return nil }
    let files = (try row["files"] as String?).flatMap { try? JSONDecoder().decode([ReportFile].self, from: Data($0.utf8)) } ?? []
    return try ClosureRecord(
      step: ClosureStep(rawValue: row["step"]) ?? .claimed, operation: row["operation"], closer: row["closer"],
      reportFolder: row["report_folder"], withData: row["with_data"] as Int == 1, files: files)
  }

  /// The closure as the consultation log records it: its furthest step, with the report that step logged.
  /// The registry's row is a copy an insider can edit; the log is tamper-evident, so a closure never
  /// resumes behind it. Nil when the log records no closure of the procedure.
  static func logged(_ procedure: String, in log: ConsultationLog, tx: any StoreTransaction) throws
    -> (record: ClosureRecord, seq: Int64)?
  {
    var furthest: (record: ClosureRecord, seq: Int64)?
    for stored in try log.entries(LogFilter(procedure: procedure), in: tx) {
      guard let entry = stored.entry, entry.operation == ProcedureOperation.close.rawValue,
        entry.outcome == .success || entry.outcome == .started,
        let step = entry.parameters["step"].flatMap(ClosureStep.init(rawValue:)),
        step >= (furthest?.record.step ?? .claimed)
      else { continue }
      let p = entry.parameters
      var record = furthest?.record
        ?? ClosureRecord(step: step, operation: "", closer: entry.user, reportFolder: "", withData: false, files: [])
      record.step = step
      record.operation = p[OperationParameter.id] ?? record.operation
      if entry.outcome == .started { record.closer = entry.user }
      if let folder = p["report"] { record.reportFolder = folder }
      if let withData = p["with-data"] { record.withData = withData == "true" }
      if step == .reported, entry.outcome == .success {
        record.files = p[Self.filesParameter].flatMap { try? JSONDecoder().decode([ReportFile].self, from: Data($0.utf8)) } ?? []
      }
      furthest = (record, stored.seq)
    }
    return furthest
  }

  /// The closure to resume, row and log read in one transaction `tx`: the registry's row, corrected by
  /// the log where they differ (each step changes both in one transaction, so a difference is an edit
  /// behind lrj's back). A row set back, forward or deleted, or whose report folder or with-data
  /// changed once the report was logged, is named in `edited`; the report files are always the logged
  /// ones (the row's only for a closure logged by an earlier lrj, which did not list them).
  static func resumable(_ procedure: String, log: ConsultationLog, in tx: any StoreTransaction) throws
    -> (row: ClosureRecord?, record: ClosureRecord?, edited: String?)
  {
    let row = try read(procedure, in: tx)
    guard let (logged, seq) = try logged(procedure, in: log, tx: tx) else { return (row, row, nil) }
    var record = row ?? logged
    let reported = logged.step >= .reported
    guard record.step != logged.step || row == nil
      || (reported && (record.reportFolder != logged.reportFolder || record.withData != logged.withData))
    else {
      if reported, !logged.files.isEmpty { record.files = logged.files }
      return (row, record, nil)
    }
    let found = row.map { "\($0.step.rawValue), report \($0.reportFolder), with-data \($0.withData)" } ?? "none"
    let edited = "the registry's closure row says \(found), the log says \(logged.step.rawValue), report \(logged.reportFolder), "
      + "with-data \(logged.withData) (entry \(seq)): edited behind lrj's back; resumed as the log says"
    record.step = logged.step
    record.reportFolder = logged.reportFolder
    record.withData = logged.withData
    if reported, !logged.files.isEmpty { record.files = logged.files }
    return (row, record, edited)
  }

  /// The started entry's parameter saying that the row differed from the log.
  static let editedParameter = "row-edited"

  /// The reported entry's parameter listing the report's files (staging name, final name, SHA-256).
  static let filesParameter = "report-files"
}

extension ClosureStep: Comparable {
  static func < (lhs: ClosureStep, rhs: ClosureStep) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}

extension ProcedureAccess {
  /// Closes the procedure (its magistrate in charge or the controller), as one resumable state machine:
  ///
  /// 1. *claimed*: one closer wins, in one transaction (a concurrent one is refused, logged); the
  ///    procedure then accepts nothing but its closure.
  /// 2. *reported*: the report (JSON manifest, Markdown, HTML; with `withData`, a tar archive of the tracks
  ///    and thumbnails) is written under staging names, its hashes logged, then published.
  /// 3. *key-destroyed*: the wrapped procedure key is wiped (crypto-erase).
  /// 4. *erased*: the vault is erased (rows with `secure_delete`, WAL truncated, VACUUM, files overwritten
  ///    and unlinked) and the procedure marked closed, with the erasure record in the log.
  ///
  /// After a crash at any point, running `close` again (the magistrate in charge or the controller)
  /// finishes from where it stopped. Afterwards every operation on the procedure is refused; its log stays.
  public func close(reportFolder folder: URL, withData: Bool) throws -> ClosureResult {
    let now = clock()
    do {
      try installation.settleInterruptedOperations(noticedBy: identity, now: now)
      let result = try closeUnsealedOnFailure(reportFolder: folder, withData: withData, now: now)
      try installation.sealCheckpoint(by: identity, now: now)
      return result
    } catch {
      try? installation.sealCheckpoint(by: identity, now: now)  // the refusal or failure is sealed at once
      throw error
    }
  }

  private func closeUnsealedOnFailure(reportFolder requested: URL, withData requestedWithData: Bool, now: Date) throws -> ClosureResult {
    let operation = ProcedureOperation.close
    let parameters = ["report": requested.standardizedFileURL.path, "with-data": String(requestedWithData)]
    func refuse(_ error: any Error) throws -> Never {
      try log(operation, parameters: parameters.merging(["reason": String(describing: error)]) { $1 }, outcome: .refused, now: now)
      throw error
    }
    // Who may close, and whether a closure is under way (decided again in the claiming transaction).
    let row: ClosureRecord?
    let existing: ClosureRecord?
    let edited: String?
    do {
      try ProcedureWorkspace.validateID(procedure)
      (row, existing, edited) = try installation.registry.read { tx in
        guard let record = try ProcedureRegistry.procedure(procedure, in: tx) else {
          throw ProcedureError("no procedure \(procedure) in this installation")
        }
        try checkAuthorisation(operation, record: record, in: tx, now: now)
        return try ClosureRecord.resumable(procedure, log: installation.log, in: tx)
      }
    } catch {
      try refuse(error)
    }
    if let existing, RunningOperation.isAlive(id: existing.operation, home: installation.home) {
      try refuse(ProcedureError("procedure \(procedure) is being closed by \(existing.closer) right now; only one closure runs"))
    }
    // A new closure writes where asked; a resumed one where it began, unless nothing was published yet.
    let resumeFolder = existing.flatMap { $0.step == .claimed ? nil : URL(fileURLWithPath: $0.reportFolder) }
    let folder = resumeFolder ?? requested.standardizedFileURL
    let withData = existing.flatMap { $0.step == .claimed ? nil : $0.withData } ?? requestedWithData
    if existing == nil || existing?.step == .claimed {
      do { try ExportFile.prepareFolder(folder) } catch { try refuse(error) }
      let base = "closure-\(procedure)"
      let names = ["\(base).json", "\(base).md", "\(base).html", "\(base).pdf"] + (withData ? ["\(base)-data.tar"] : [])
      if let taken = names.first(where: { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }) {
        try refuse(ProcedureError("\(folder.appendingPathComponent(taken).path) exists; closure never overwrites a report"))
      }
    }

    // 1. Claim (or take over a closure whose process died), in one transaction with its started entry.
    let claimParameters = ["report": folder.path, "with-data": String(withData),
                           "step": (existing?.step ?? .claimed).rawValue]
      .merging(existing.map { ["resumes": $0.step.rawValue] } ?? [:]) { $1 }
      .merging(edited.map { [ClosureRecord.editedParameter: $0] } ?? [:]) { $1 }
    let running: RunningOperation
    do {
      running = try installation.beginOperation(
        operation.rawValue, procedure: procedure, parameters: claimParameters, user: identity.user,
        role: identity.role.rawValue, now: now
      ) { tx, id in
        // Exactly one closer wins: the one whose transaction finds the closure as it was read above.
        guard let record = try ProcedureRegistry.procedure(procedure, in: tx) else { throw ProcedureError("no procedure \(procedure)") }
        try checkAuthorisation(operation, record: record, in: tx, now: now)
        let current = try ClosureRecord.read(procedure, in: tx)
        guard current?.operation == row?.operation else {
          throw ProcedureError("procedure \(procedure) is being closed by another process; only one closure runs")
        }
        let files = String(decoding: try JSONEncoder().encode(existing?.files ?? []), as: UTF8.self)
        let step = (existing?.step ?? .claimed).rawValue
        if current == nil {
          let others = try OperationRecord.all(in: tx).filter { $0.procedure == procedure }
          guard others.isEmpty else {
            throw ProcedureError("procedure \(procedure) has operations running (\(others.map { "\($0.kind) by \($0.user)" }.joined(separator: ", "))); "
                                 + "close it when they have ended")
          }
          try tx.execute("INSERT INTO closure(procedure, step, operation, closer, report_folder, with_data, files) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         procedure, step, id, identity.user, folder.path, withData, files)
          // Spans queued or being processed are cancelled: no worker's result is accepted any more.
          try Installation.cancelQueuedIngests(of: procedure, in: tx)
        } else {
          // The row says again what the log says (a row edited behind lrj's back is corrected).
          try tx.execute("UPDATE closure SET step = ?, operation = ?, closer = ?, report_folder = ?, with_data = ?, files = ? WHERE procedure = ?",
                         step, id, identity.user, folder.path, withData, files, procedure)
        }
      }
    } catch let error as ProcedureError {
      try refuse(error)
    }
    defer { running.release(home: installation.home) }
    CrashPoint.reach("closure.claimed")
    let interruption = Interruption.begin { [self] in
      _ = try? installation.endOperation(
        running, entry: entry(operation, parameters: parameters.merging(["error": "interrupted; lrj procedure close finishes it"]) { $1 },
                              outcome: .failed, now: clock()))
    }
    defer { Interruption.end(interruption) }
    func failed(_ error: any Error, step: String) throws -> Never {
      _ = try? installation.endOperation(
        running, entry: entry(operation, parameters: parameters.merging(["step": step, "error": String(describing: error)]) { $1 },
                              outcome: .failed, now: clock()))
      throw error
    }
    var closure = ClosureRecord(step: existing?.step ?? .claimed, operation: running.id, closer: identity.user,
                                reportFolder: folder.path, withData: withData, files: existing?.files ?? [])

    // 2. The report, published with its hashes logged, while the key still exists.
    var manifest: ClosureManifest?
    var lostReport = false
    if closure.step == .reported, try closure.files.isEmpty || !publishRecordedReport(closure) {
      closure.step = .claimed  // the report it logged is gone: write it anew, and say so
      closure.files = []
      lostReport = true
    }
    if closure.step == .claimed {
      do {
        let (written, report) = try writeReport(folder: folder, withData: withData, running: running, now: now)
        manifest = report
        closure.files = written
        CrashPoint.reach("closure.staged")
        try installation.endOperation(
          running,
          entry: entry(operation, parameters: ["step": ClosureStep.reported.rawValue, OperationParameter.continues: "true",
                                              "report": folder.path, "with-data": String(withData),
                                              ClosureRecord.filesParameter: String(decoding: try JSONEncoder().encode(written), as: UTF8.self)]
                                  .merging(lostReport ? ["note": "the report logged before was gone; written anew"] : [:]) { $1 },
                       resultCount: report.consultations.count, outcome: .success, files: written.map(\.sha256), now: clock())
        ) { tx in
          try tx.execute("UPDATE closure SET step = 'reported', files = ? WHERE procedure = ?", String(decoding: try JSONEncoder().encode(written), as: UTF8.self), procedure)
        }
        closure.step = .reported
        CrashPoint.reach("closure.reported")
        guard try publishRecordedReport(closure) else { throw ProcedureError("the closure report could not be published in \(folder.path)") }
      } catch {
        try failed(error, step: "report")
      }
    }

    // 3. Crypto-erase: the wrapped key goes, in one transaction with its log entry.
    if closure.step == .reported {
      do {
        try installation.endOperation(
          running,
          entry: entry(operation, parameters: ["step": ClosureStep.keyDestroyed.rawValue, OperationParameter.continues: "true"],
                       outcome: .success, now: clock())
        ) { tx in
          // The key file goes first: the entry committed with this transaction never claims more than happened,
          // and a closure resumed after a kill destroys it again (idempotent).
          try installation.procedureKeys.destroy(procedure: procedure)
          CrashPoint.reach("closure.key-file-destroyed")
          try tx.execute("UPDATE procedure SET wrapped_key = NULL WHERE id = ?", procedure)
          try tx.execute("UPDATE closure SET step = 'key-destroyed' WHERE procedure = ?", procedure)
        }
        CrashPoint.reach("closure.key-destroyed")
        try installation.registry.purgeFreedPages()
        closure.step = .keyDestroyed
      } catch {
        try failed(error, step: "key")
      }
    }

    // 4. The vault, then the procedure is closed; the erasure record ends the operation.
    let erasure: ClosureManifest.Erasure
    do {
      erasure = try ProcedureWorkspace.eraseVault(of: procedure, indexes: installation.indexes, now: now)
      CrashPoint.reach("closure.vault-erased")
      try installation.endOperation(
        running,
        entry: entry(operation, parameters: ["step": ClosureStep.erased.rawValue, "vault-files": String(erasure.vaultFiles.count),
                                            "vault-bytes": String(erasure.vaultBytes), "method": erasure.method],
                     outcome: .success, now: clock())
      ) { tx in
        try tx.execute("UPDATE procedure SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?", now.timeIntervalSince1970, identity.user, procedure)
        try tx.execute("DELETE FROM closure WHERE procedure = ?", procedure)
        try Installation.removeQueuedIngests(of: procedure, in: tx)
      }
      CrashPoint.reach("closure.erased")
    } catch {
      try failed(error, step: "erase")
    }
    let published = closure.files.map { (path: $0.final, sha256: $0.sha256) }
    let reportManifest = try manifest ?? readManifest(closure)
    return ClosureResult(files: published, manifest: reportManifest, erasure: erasure, resumed: existing != nil)
  }

  /// Writes the report's files under staging names (recorded with the running operation first).
  private func writeReport(folder: URL, withData: Bool, running: RunningOperation, now: Date)
    throws -> ([ClosureRecord.ReportFile], ClosureManifest)
  {
    let workspace = try openWorkspace()
    let context = OperationContext(now: now, access: self, running: running)
    let base = "closure-\(procedure)"
    // The log's head, signed now: the report carries it, so whoever holds the report can check the log.
    let checkpoint = try installation.signCheckpoint(by: identity, now: now)
    var manifest = try gather(workspace, now: now)
    manifest.checkpoint = checkpoint
    var staged: [PendingFile] = []
    do {
      if withData {
        let archive = try workspace.dataArchive()
        let pending = try context.stage(archive.bytes, for: folder.appendingPathComponent("\(base)-data.tar").path)
        staged.append(pending)
        manifest.dataArchive = .init(file: pending.final.lastPathComponent, sha256: SHA256Hex.of(archive.bytes),
                                     bytes: archive.bytes.count, tracks: archive.tracks)
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      staged.append(try context.stage(try encoder.encode(manifest), for: folder.appendingPathComponent("\(base).json").path))
      staged.append(try context.stage(Data(ClosureReportText.markdown(manifest).utf8), for: folder.appendingPathComponent("\(base).md").path))
      staged.append(try context.stage(Data(ClosureReportText.html(manifest).utf8), for: folder.appendingPathComponent("\(base).html").path))
      staged.append(try context.stage(try ClosureReportText.pdf(manifest), for: folder.appendingPathComponent("\(base).pdf").path))
      for file in staged { try ExportFile.synchronise(file.temporary) }
      let files = try staged.map {
        ClosureRecord.ReportFile(temporary: $0.temporary.path, final: $0.final.path, sha256: try SHA256Hex.ofFile($0.temporary.path))
      }
      try workspace.store.close()
      return (files, manifest)
    } catch {
      for file in staged { ExportFile.removeStaged(file.temporary) }
      try? workspace.store.close()
      throw error
    }
  }

  /// Publishes the report files a closure logged: each must be in place or staged with its logged
  /// SHA-256. Returns false when one is gone: the report must then be written anew, so the rest of it
  /// is removed (staged files, and files already published that are the logged ones).
  private func publishRecordedReport(_ closure: ClosureRecord) throws -> Bool {
    for file in closure.files {
      if FileManager.default.fileExists(atPath: file.final) {
        guard try SHA256Hex.ofFile(file.final) == file.sha256 else {
          throw ProcedureError("\(file.final) differs from the closure report that was logged; closure never overwrites a report")
        }
        ExportFile.removeStaged(URL(fileURLWithPath: file.temporary))
        continue
      }
      guard FileManager.default.fileExists(atPath: file.temporary), try SHA256Hex.ofFile(file.temporary) == file.sha256 else {
        for other in closure.files {
          ExportFile.removeStaged(URL(fileURLWithPath: other.temporary))
          if (try? SHA256Hex.ofFile(other.final)) == other.sha256 { try? FileManager.default.removeItem(atPath: other.final) }
        }
        return false
      }
      try ExportFile.publish(PendingFile(temporary: URL(fileURLWithPath: file.temporary), final: URL(fileURLWithPath: file.final)))
      CrashPoint.reach("closure.published-one")
    }
    return true
  }

  /// The manifest a resumed closure published.
  private func readManifest(_ closure: ClosureRecord) throws -> ClosureManifest {
    guard let json = closure.files.first(where: { $0.final.hasSuffix(".json") }),
      let data = FileManager.default.contents(atPath: json.final),
      let manifest = try? JSONDecoder().decode(ClosureManifest.self, from: data)
    else { throw ProcedureError("the closure report of procedure \(procedure) cannot be read back") }
    return manifest
  }

  /// The procedure's vault with its key (the closure checks who may close before).
  private func openWorkspace() throws -> ProcedureWorkspace {
    let publicKey = try installation.registry.read { tx in
      try tx.value(Data.self, "SELECT public_key FROM procedure WHERE id = ?", procedure)
    }
    let opener = try installation.procedureOpener(procedure, publicKey: publicKey)
    return try ProcedureWorkspace(id: procedure, indexes: installation.indexes, create: false, opener: opener)
  }

  private func gather(_ workspace: ProcedureWorkspace, now: Date) throws -> ClosureManifest {
    let format = AuthorisationClaims.format
    let (record, authorisations) = try installation.registry.read { tx in
      (try ProcedureRegistry.procedure(procedure, in: tx)!, try ProcedureRegistry.authorisations(procedure: procedure, in: tx).map(\.record))
    }
    let exhibits = try workspace.store.exhibits().map { exhibit in
      ClosureManifest.Exhibit(
        id: exhibit.id, file: exhibit.metadata.fileName, camera: exhibit.metadata.camera, sha256: exhibit.metadata.sha256,
        sizeBytes: exhibit.metadata.sizeBytes, durationSeconds: exhibit.completion?.duration ?? 0,
        frames: exhibit.completion?.framesDecoded ?? 0, start: exhibit.metadata.start.iso8601(),
        tracks: try workspace.store.trackCounts(ofExhibit: exhibit.id).values.reduce(0, +))
    }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let entries = try installation.log.entries(LogFilter(procedure: procedure)).compactMap { stored in
      stored.entry.map { (stored.seq, $0) }
    }
    let consultations = entries.map { seq, entry in
      ClosureManifest.Consultation(
        seq: seq, time: formatter.string(from: entry.time), user: entry.user, role: entry.role, operation: entry.operation,
        parameters: entry.parameters, resultCount: entry.resultCount, outcome: entry.outcome.rawValue,
        filesSha256: entry.filesWritten)
    }
    let exports = entries.flatMap { seq, entry in
      // Each file under its own name (entries of earlier versions name only the main output).
      let names = entry.parameters["files"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
      return entry.filesWritten.enumerated().map { index, sha256 in
        ClosureManifest.Export(seq: seq, time: formatter.string(from: entry.time), user: entry.user, operation: entry.operation,
                               file: names.flatMap { index < $0.count ? $0[index] : nil } ?? entry.parameters["out"], sha256: sha256)
      }
    }
    let manifest = CapabilityManifest.current
    return ClosureManifest(
      installation: installation.id, procedure: procedure, kind: record.kind.rawValue, openedAt: format(record.openedAt),
      openedBy: record.openedBy, closedAt: format(now), closedBy: identity.user,
      authorisations: authorisations.map {
        .init(tokenID: $0.tokenID, issuer: $0.issuer, kind: $0.kind.rawValue, notBefore: format($0.notBefore),
              expires: format($0.expires), issuedAt: format($0.issuedAt), investigators: $0.investigators,
              registeredAt: $0.registeredAt.map(format), registeredBy: $0.registeredBy,
              revokedAt: $0.revokedAt.map(format), revokedBy: $0.revokedBy)
      },
      investigators: Array(Set(authorisations.flatMap(\.investigators))).sorted(),
      exhibits: exhibits, consultations: consultations, exports: exports,
      capabilityManifestSha256: manifest.sha256, capabilityStatement: manifest.exclusionStatement, dataArchive: nil,
      erasure: workspace.plannedErasure(now: now))
  }
}

extension ProcedureWorkspace {
  /// Every track (summary and path) as JSON and every thumbnail as PNG, in a tar archive.
  func dataArchive() throws -> (bytes: Data, tracks: Int) {
    var archive = TarWriter()
    var tracks: [[String: AnyEncodable]] = []
    var page = TrackQuery(limit: TrackQuery.maximumLimit)
    var total = 0
    repeat {
      let result = try store.search(page)
      total = result.total
      for summary in result.results {
        let path = try store.path(ofTrack: summary.track)
        tracks.append(["track": AnyEncodable(summary), "path": AnyEncodable(path)])
        if let png = try? thumbnail(track: summary.track) {
          try archive.add(name: "thumbnails/\(summary.track).png", data: png)
        }
      }
      page.offset += page.limit
    } while page.offset < total
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try archive.add(name: "tracks.json", data: try encoder.encode(tracks))
    try archive.add(name: "exhibits.json", data: try encoder.encode(try store.exhibits()))
    return (archive.finish(), tracks.count)
  }

  /// What closure will erase: every file of the vault, and how.
  func plannedErasure(now: Date) -> ClosureManifest.Erasure {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
    let bytes = files.reduce(Int64(0)) { total, name in
      total + ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int64) ?? 0)
    }
    return .init(
      time: AuthorisationClaims.format(now), method: Self.erasureMethod(indexes),
      procedureKey: "destroyed after this report is published (its private key file overwritten and deleted): every copy of the procedure's sealed data, in any database, backup or replica, can no longer be opened",
      vaultFiles: files, vaultBytes: bytes)
  }

  /// How closure erases the vault on this installation's engine.
  static func erasureMethod(_ indexes: ProcedureIndexes) -> String {
    indexes.service == nil
      ? "index rows deleted with secure_delete, write-ahead log truncated, VACUUM, files overwritten with zeros and unlinked"
      : "index rows deleted and the procedure's schema dropped from the PostgreSQL database (what its files, WAL, replicas and backups keep is sealed to the destroyed key), files overwritten with zeros and unlinked"
  }

  /// Erases a procedure's vault, whatever state an earlier, interrupted erasure left it in: the index (see
  /// `ProcedureIndexes.erase`), then every file and the folder.
  /// - Throws: when a file of the vault, or its schema, remains.
  static func eraseVault(of procedure: String, indexes: ProcedureIndexes, now: Date) throws -> ClosureManifest.Erasure {
    let (files, bytes) = try indexes.erase(procedure)
    return .init(
      time: AuthorisationClaims.format(now), method: erasureMethod(indexes),
      procedureKey: "destroyed (its private key file overwritten and deleted): every copy of the procedure's sealed data, in any database, backup or replica, can no longer be opened",
      vaultFiles: files, vaultBytes: bytes)
  }

  /// Overwrites a regular file with zeros, then unlinks it.
  static func overwriteAndUnlink(_ url: URL) throws {
    let type = (try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) ?? nil
    if type == .typeRegular, let handle = try? FileHandle(forWritingTo: url) {
      let size = (try? handle.seekToEnd()) ?? 0
      try? handle.seek(toOffset: 0)
      var left = size
      let zeros = Data(count: 1 << 20)
      while left > 0 {
        let n = Int(min(UInt64(zeros.count), left))
        try? handle.write(contentsOf: zeros.prefix(n))
        left -= UInt64(n)
      }
      try? handle.synchronize()
      try? handle.close()
    }
    try FileManager.default.removeItem(at: url)
  }
}

/// Encodes any `Encodable` (to put differently typed values in one JSON object).
struct AnyEncodable: Encodable {
  let encodeValue: (any Encoder) throws -> Void
  init<T: Encodable>(_ value: T) { encodeValue = value.encode }
  func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

/// A minimal POSIX ustar writer: regular files only, names up to 100 bytes.
struct TarWriter {
  private(set) var data = Data()

  mutating func add(name: String, data content: Data, modified: Date = Date(timeIntervalSince1970: 0)) throws {
    let nameBytes = Array(name.utf8)
    guard !nameBytes.isEmpty, nameBytes.count <= 100 else { throw ProcedureError("archive name too long: \(name)") }
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { header[offset + i] = b } }
    func digits(_ value: Int, _ count: Int) -> [UInt8] {
      let text = String(value, radix: 8)
      return Array((String(repeating: "0", count: max(0, count - text.count)) + text).utf8)
    }
    func octal(_ value: Int, width: Int) -> [UInt8] { digits(value, width - 1) + [0] }
    put(nameBytes, at: 0)
    put(octal(0o644, width: 8), at: 100)
    put(octal(0, width: 8), at: 108)
    put(octal(0, width: 8), at: 116)
    put(octal(content.count, width: 12), at: 124)
    put(octal(Int(modified.timeIntervalSince1970), width: 12), at: 136)
    put(Array("        ".utf8), at: 148)
    header[156] = UInt8(ascii: "0")
    put(Array("ustar".utf8) + [0], at: 257)
    put(Array("00".utf8), at: 263)
    let checksum = header.reduce(0) { $0 + Int($1) }
    put(digits(checksum, 6) + [0, 0x20], at: 148)
    data.append(contentsOf: header)
    data.append(content)
    let padding = (512 - content.count % 512) % 512
    data.append(Data(count: padding))
  }

  /// The archive with its two zero end blocks.
  mutating func finish() -> Data {
    data.append(Data(count: 1024))
    return data
  }
}
