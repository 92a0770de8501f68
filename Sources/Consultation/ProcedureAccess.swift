import Foundation
import Store
import Index
import Ingest
import Synopsis

/// What can be done with a procedure's data; each is checked and logged on its own.
public enum ProcedureOperation: String, Sendable, CaseIterable {
  case ingest
  case search
  case show
  case extract
  case tracks
  case synopsis
  case overview
  case still
  case zoneSave = "zone.save"
  case export
  case erase
  case close = "procedure.close"
  /// Queuing exhibits for workers (`lrj ingest --queue`); what they find is published by an `ingest`.
  case queue = "ingest.queue"
  /// Reading the progress of queued ingests.
  case jobs

  /// Operations that only read (and export) what was ingested.
  var isConsultation: Bool { [.search, .show, .extract, .export, .tracks, .synopsis, .overview, .still, .jobs].contains(self) }
}

/// A file an operation wrote under a temporary name, published under its final name only once
/// its SHA-256 is in the consultation log.
struct PendingFile {
  let temporary: URL
  let final: URL
}

/// What an operation returns to the door: its value, how many results, files to publish and
/// extra parameters for the log entry.
struct OperationOutcome<Value> {
  var value: Value
  var resultCount: Int? = nil
  var files: [PendingFile] = []
  var parameters: [String: String] = [:]
  /// The files written and their SHA-256, when `files` are folders (an export bundle): logged instead.
  var fileHashes: [(path: String, sha256: String)]? = nil
}

/// What the body of an operation that writes is given: the time, and its running operation, with which
/// it records the files it stages (before writing them) and may log its own outcome.
final class OperationContext {
  let now: Date
  let access: ProcedureAccess
  let running: RunningOperation?
  /// Set once the body logged the operation's outcome itself (an ingest logs what it stored).
  private(set) var outcomeLogged = false

  init(now: Date, access: ProcedureAccess, running: RunningOperation?) {
    self.now = now
    self.access = access
    self.running = running
  }

  /// A staging name for `output`, recorded with the running operation before anything is written to it,
  /// so that whoever settles the operation after a crash removes (or publishes) it.
  func staging(for output: String) throws -> URL {
    let url = try ExportFile.stagingURL(for: output)
    if let running {
      try access.installation.addStaging([StagedFile(temporary: url.path, final: ExportFile.absolute(output))], to: running)
    }
    return url
  }

  /// Writes `data` under a staging name for `output`.
  func stage(_ data: Data, for output: String) throws -> PendingFile {
    let url = try staging(for: output)
    do {
      try data.write(to: url)
    } catch {
      try? FileManager.default.removeItem(at: url)
      throw ProcedureError("\(output): \(error.localizedDescription)")
    }
    return PendingFile(temporary: url, final: URL(fileURLWithPath: output))
  }

  /// Logs the operation's success now (its last steps follow), with `parameters` added; `body` runs in the
  /// same transaction as the entry's append (what the entry records is written with it, or neither is).
  /// `body` may return parameters to add to the entry (what it wrote).
  func logSuccess(
    parameters: [String: String], resultCount: Int?, in body: ((any StoreTransaction) throws -> [String: String])? = nil
  ) throws {
    guard let running else { return }
    try access.installation.endOperationRecording(
      running,
      entry: access.entry(ProcedureOperation(rawValue: running.kind) ?? .ingest, parameters: parameters.merging(["finishing": "true"]) { $1 },
                          resultCount: resultCount, outcome: .success, now: access.clock()),
      finishing: true, body)
    outcomeLogged = true
  }
}

/// The only door to a procedure's data (DESIGN.md §3, §8): every operation checks, at the moment it
/// runs, that the user is enabled, that their role allows it, that the procedure is open and that an
/// authorisation covers them; then it runs and its log entry is written before its result is seen.
/// Operations that write (files, exhibits, erasures) are logged as started before they write anything
/// and their outcome after; refusals and failures are logged too.
public struct ProcedureAccess: Sendable {
  public let installation: Installation
  public let identity: Identity
  /// The procedure id.
  public let procedure: String
  /// The clock (injectable for tests).
  let clock: @Sendable () -> Date

  /// Access to `procedure` for `identity`; nothing is checked until an operation runs.
  public init(procedure: String, installation: Installation, identity: Identity, clock: @escaping @Sendable () -> Date = { Date() }) {
    self.procedure = procedure
    self.installation = installation
    self.identity = identity
    self.clock = clock
  }

  // MARK: Operations

  /// Ingests an exhibit file (investigators named in a valid authorisation). The ingest is logged as
  /// started before anything is stored; its exhibit is stored invisible, then its success is logged with
  /// the digest of what was stored, then it is made visible: the log never says more than the index holds.
  public func ingest(
    path: String, camera: String, start: WallClockTime?, settings: AnalysisSettings = AnalysisSettings(),
    progress: ((AnalysisProgress) -> Void)? = nil
  ) throws -> IngestReport {
    let classifier = settings.classifierModel.map { "cnn \($0.sha256)" } ?? "geometry"
    var parameters = ["file": ExportFile.absolute(path), "camera": camera, "start": start?.iso8601() ?? "creation_time", "classifier": classifier]
    parameters["runtime"] = settings.classifierModel == nil ? nil : settings.detectorRuntime?.description
    return try perform(.ingest, parameters: parameters, writes: true) { workspace, context in
      let report = try workspace.ingest(
        path: path, camera: camera, start: start, settings: settings, progress: progress,
        operation: context.running?.id ?? RunningOperation.newID()
      ) { digest, sha256 in
        try context.logSuccess(parameters: parameters.merging(Self.ingestParameters(digest, sha256: sha256)) { $1 },
                               resultCount: digest.trackIDs.count)
      }
      var outcome = OperationOutcome(value: report, resultCount: 0)
      if report.alreadyIngested {
        outcome.parameters = ["exhibit": report.exhibit, "sha256": report.sha256, "duplicate": "true"]
      }
      return outcome
    }
  }

  /// The parameters of an ingest's success entry: what was stored, reduced to its digest.
  static func ingestParameters(_ digest: ExhibitDigest, sha256: String) -> [String: String] {
    ["exhibit": digest.exhibit, "sha256": sha256, "digest": digest.digest, "tracks": TrackRanges.encode(digest.trackIDs),
     "track-hints": digest.trackHints]
  }

  /// Tracks matching `filters`.
  public func search(_ filters: SearchFilters) throws -> SearchResult {
    try perform(.search, parameters: filters.logParameters) { workspace, _ in
      let result = try workspace.search(filters)
      return OperationOutcome(value: result, resultCount: result.total)
    }
  }

  /// Writes a track's thumbnail (PNG) to `output`; returns its size and SHA-256.
  public func exportThumbnail(track: String, to output: String) throws -> (bytes: Int, sha256: String) {
    try perform(.show, parameters: ["track": track, "out": ExportFile.absolute(output)], writes: true) { workspace, context in
      try ExportFile.checkNew(output)
      let png = try workspace.thumbnail(track: track)
      let pending = try context.stage(png, for: output)
      return OperationOutcome(value: (png.count, SHA256Hex.of(png)), resultCount: 1, files: [pending])
    }
  }

  /// Writes the original footage around a track to `output`.
  public func extract(track: String, margin: Double, to output: String) throws -> ExtractReport {
    try perform(.extract, parameters: ["track": track, "margin": String(margin), "out": ExportFile.absolute(output)], writes: true) {
      workspace, context in
      let staging = try context.staging(for: output)
      do {
        var report = try workspace.extract(track: track, margin: margin, to: staging.path)
        report.file = output
        return OperationOutcome(
          value: report, resultCount: 1, files: [PendingFile(temporary: staging, final: URL(fileURLWithPath: output))],
          parameters: ["exhibit": report.exhibit, "from": String(report.from), "to": String(report.to)])
      } catch {
        try? FileManager.default.removeItem(at: staging)
        throw error
      }
    }
  }

  /// Renders the synopsis of the tracks matching `filters` (one camera) to `output` (MP4), its JSON
  /// index beside it and, with `overview`, a PNG; the three appear only once their SHA-256 are logged.
  public func synopsis(
    _ filters: SearchFilters, options: SynopsisOptions = SynopsisOptions(), output: String, overview: String? = nil,
    progress: ((SynopsisProgress) -> Void)? = nil
  ) throws -> SynopsisReport {
    var parameters = filters.logParameters
    parameters["out"] = ExportFile.absolute(output)
    parameters["png"] = overview.map(ExportFile.absolute)
    parameters["target"] = String(describing: options.target)
    parameters["still-speedup"] = String(options.stillSpeedup)
    return try perform(.synopsis, parameters: parameters, writes: true) { workspace, context in
      let finalIndex = URL(fileURLWithPath: SynopsisOutputs.indexPath(forVideo: ExportFile.absolute(output)))
      try ExportFile.checkNew(finalIndex.path)
      let video = try context.staging(for: output)
      let index = URL(fileURLWithPath: SynopsisOutputs.indexPath(forVideo: video.path))
      Interruption.staging(index)
      try installation.addStaging([StagedFile(temporary: index.path, final: finalIndex.path)], to: context.running!)
      let png = try overview.map { try context.staging(for: $0) }
      var pending = [PendingFile(temporary: video, final: URL(fileURLWithPath: output)), PendingFile(temporary: index, final: finalIndex)]
      if let png, let overview { pending.append(PendingFile(temporary: png, final: URL(fileURLWithPath: overview))) }
      do {
        var report = try workspace.synopsis(
          filters, options: options, output: video.path, overview: png?.path,
          videoName: URL(fileURLWithPath: output).lastPathComponent, progress: progress)
        report.video.path = ExportFile.absolute(output)
        report.index.path = finalIndex.path
        if let overview { report.overview?.path = ExportFile.absolute(overview) }
        return OperationOutcome(
          value: report, resultCount: report.objects, files: pending,
          parameters: ["seconds": String(format: "%.1f", report.seconds), "collision-percent": String(format: "%.2f", report.collisionPercent)])
      } catch {
        for file in pending { ExportFile.removeStaged(file.temporary) }
        throw error
      }
    }
  }

  /// Every box of an exhibit's tracks, MOTChallenge format.
  public func motTracks(exhibit: String) throws -> String {
    try perform(.tracks, parameters: ["exhibit": exhibit, "format": "mot"]) { workspace, _ in
      let text = try workspace.motTracks(exhibit: exhibit)
      return OperationOutcome(value: text, resultCount: text.split(separator: "\n").count)
    }
  }

  /// Erases a track or a whole exhibit from the procedure on the magistrate's order (L9): its
  /// rows are deleted with `secure_delete`, its sealed thumbnails with them. The success entry records
  /// the exhibit's new digest.
  public func erase(track: String? = nil, exhibit: String? = nil, reason: String) throws {
    var parameters = ["reason": reason]
    parameters["track"] = track
    parameters["exhibit"] = exhibit
    guard (track == nil) != (exhibit == nil) else {
      return try refuseBeforeStart(.erase, parameters: parameters, ProcedureError("erase one track or one exhibit"))
    }
    guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
      return try refuseBeforeStart(.erase, parameters: parameters, ProcedureError("say why (--reason)"))
    }
    try perform(.erase, parameters: parameters, writes: true, target: track ?? exhibit) { workspace, _ in
      var extra: [String: String] = [:]
      if let track {
        let id = try QueryParser.trackID(track)
        guard let summary = try workspace.store.track(id) else { throw IndexError.trackNotFound(id) }
        try workspace.store.deleteTrack(id)
        extra = ["exhibit": summary.exhibit, "digest": try workspace.store.digest(ofExhibit: summary.exhibit).digest]
      }
      if let exhibit { try workspace.store.deleteExhibit(try QueryParser.exhibitID(exhibit)) }
      return OperationOutcome(value: (), resultCount: 1, parameters: extra)
    }
  }

  /// Saves a zone under a name.
  public func saveZone(_ text: String, name: String, camera: String, replacing: Bool) throws {
    try perform(.zoneSave, parameters: ["zone": text, "name": name, "camera": camera], writes: true) { workspace, _ in
      try workspace.saveZone(text, name: name, camera: camera, replacing: replacing)
      return OperationOutcome(value: ())
    }
  }

  // MARK: The door

  /// Checks that `identity` may run `operation` on this procedure now; refusals are logged.
  /// - Returns: the procedure's opened workspace (with the unwrapped key).
  func authorise(_ operation: ProcedureOperation, parameters: [String: String], now: Date) throws -> ProcedureWorkspace {
    do {
      try ProcedureWorkspace.validateID(procedure)
      let (record, key) = try installation.registry.read { tx -> (ProcedureRecord, Data?) in
        guard let record = try ProcedureRegistry.procedure(procedure, in: tx) else {
          throw ProcedureError("no procedure \(procedure) in this installation (open it with lrj procedure open --token)")
        }
        try checkAuthorisation(operation, record: record, in: tx, now: now)
        return (record, try tx.value(Data.self, "SELECT public_key FROM procedure WHERE id = ?", procedure))
      }
      let opener = try installation.procedureOpener(record.id, publicKey: key)
      return try ProcedureWorkspace(id: procedure, indexes: installation.indexes, create: false, opener: opener)
    } catch {
      try log(operation, parameters: parameters.merging(["reason": String(describing: error)]) { $1 }, outcome: .refused, now: now)
      throw error
    }
  }

  /// The authorisation rules (L1–L3).
  func checkAuthorisation(_ operation: ProcedureOperation, record: ProcedureRecord, in tx: any StoreTransaction, now: Date) throws {
    try checkAuthorisation(operation, record: record, user: identity.user, role: identity.role, in: tx, now: now)
  }

  /// The authorisation rules for `user` acting as `role` (a worker checks those of the investigator whose ingest it processes).
  func checkAuthorisation(
    _ operation: ProcedureOperation, record: ProcedureRecord, user: String, role: Role, in tx: any StoreTransaction, now: Date
  ) throws {
    guard !record.isClosed else {
      throw ProcedureError("procedure \(procedure) was closed and its data erased on \(AuthorisationClaims.format(record.closedAt ?? now))")
    }
    guard !record.isClosing || operation == .close else {
      throw ProcedureError("procedure \(procedure) is being closed; it accepts nothing but its closure")
    }
    let authorisations = try ProcedureRegistry.authorisations(procedure: procedure, in: tx)
    switch role {
    case .administrator:
      throw ProcedureError("administrators have no access to procedure data")
    case .worker:
      throw ProcedureError("workers process queued spans of ingests and nothing else")
    case .controller:
      guard operation.isConsultation || operation == .close else {
        throw ProcedureError("\(operation.rawValue) is for the investigators of the procedure")
      }
    case .magistrate:
      guard record.magistrate == user else {
        throw ProcedureError("magistrate \(user) is not the magistrate in charge of procedure \(procedure)")
      }
      guard operation.isConsultation || operation == .close || operation == .erase else {
        throw ProcedureError("\(operation.rawValue) is for the investigators of the procedure")
      }
    case .investigator:
      guard operation != .close else { throw ProcedureError("closure is ordered by the magistrate or the controller") }
      guard operation != .erase else { throw ProcedureError("erasing data is ordered by the magistrate (L9)") }
      let revoked = Set(try tx.values(String.self, "SELECT jti FROM authorisation WHERE revoked_at IS NOT NULL"))
      var reasons: [AuthorisationError] = []
      for (record, token) in authorisations {
        guard let token else { continue }
        do {
          // Only tokens of the magistrate in charge count (a hand-over ends the former one's tokens).
          let claims = try Authorisation.verify(
            token, publicKeyLookup: { try? installation.magistrateKey($0, in: tx) ?? nil }, installation: installation.id,
            procedure: procedure, now: now, revoked: revoked)
          guard record.issuer == (try ProcedureRegistry.procedure(procedure, in: tx))?.magistrate else {
            throw AuthorisationError.invalidClaims("signed by \(record.issuer), who is no longer in charge of procedure \(procedure)")
          }
          try claims.requireInvestigator(user)
          return
        } catch let error as AuthorisationError {
          reasons.append(error)
        }
      }
      throw reasons.last { $0 != .investigatorNotNamed(user) } ?? .investigatorNotNamed(user)
    }
  }

  /// Checks, inside the transaction that logs an operation's start, that the procedure still accepts it.
  func requireStillOpen(_ operation: ProcedureOperation, in tx: any StoreTransaction, now: Date) throws {
    guard let record = try ProcedureRegistry.procedure(procedure, in: tx) else { throw ProcedureError("no procedure \(procedure)") }
    try checkAuthorisation(operation, record: record, in: tx, now: now)
  }

  /// Logs a request refused before it could be authorised (bad arguments), and throws `error`.
  func refuseBeforeStart(_ operation: ProcedureOperation, parameters: [String: String], _ error: any Error) throws {
    let now = clock()
    try log(operation, parameters: parameters.merging(["reason": String(describing: error)]) { $1 }, outcome: .refused, now: now)
    try? installation.sealCheckpoint(by: identity, now: now)
    throw error
  }

  /// Runs an operation behind the door: authorise, run, log (before any file is published), seal a
  /// checkpoint. An operation that `writes` is logged as started before its body runs. Failures after
  /// authorisation are logged as failed; refusals and failures are sealed too (the console runs many
  /// operations in one process).
  func perform<Value>(
    _ operation: ProcedureOperation, parameters: [String: String], writes: Bool = false, target: String? = nil,
    _ body: (ProcedureWorkspace, OperationContext) throws -> OperationOutcome<Value>
  ) throws -> Value {
    let now = clock()
    let value: Value
    do {
      try installation.settleInterruptedOperations(noticedBy: identity, now: now)
      value = try performUnsealed(operation, parameters: parameters, writes: writes, target: target, now: now, body)
    } catch {
      try? installation.sealCheckpoint(by: identity, now: now)
      throw error
    }
    try installation.sealCheckpoint(by: identity, now: now)
    return value
  }

  private func performUnsealed<Value>(
    _ operation: ProcedureOperation, parameters: [String: String], writes: Bool, target: String?, now: Date,
    _ body: (ProcedureWorkspace, OperationContext) throws -> OperationOutcome<Value>
  ) throws -> Value {
    let workspace = try authorise(operation, parameters: parameters, now: now)
    let running: RunningOperation? = writes
      ? try installation.beginOperation(
        operation.rawValue, procedure: procedure, parameters: parameters, target: target, user: identity.user,
        role: identity.role.rawValue, now: now, check: { tx, _ in try requireStillOpen(operation, in: tx, now: now) })
      : nil
    let context = OperationContext(now: now, access: self, running: running)
    let interruption = Interruption.begin { [self] in
      let failed = entry(operation, parameters: parameters.merging(["error": "interrupted"]) { $1 }, outcome: .failed, now: clock())
      if let running {
        if !context.outcomeLogged { _ = try? installation.endOperation(running, entry: failed) }
      } else {
        _ = try? installation.log.append(failed)
      }
    }
    defer {
      Interruption.end(interruption)
      running?.release(home: installation.home)
    }
    let outcome: OperationOutcome<Value>
    do {
      outcome = try body(workspace, context)
    } catch {
      if !context.outcomeLogged {
        let failed = entry(operation, parameters: parameters.merging(["error": String(describing: error)]) { $1 }, outcome: .failed, now: clock())
        if let running { try installation.endOperation(running, entry: failed) } else { try installation.log.append(failed) }
      }
      throw error
    }
    do {
      let hashes = try outcome.fileHashes?.map(\.sha256) ?? outcome.files.map { try SHA256Hex.ofFile($0.temporary.path) }
      if !context.outcomeLogged {
        var written = outcome.parameters
        // Each file's own name, in the order of the hashes (a synopsis writes three).
        if !outcome.files.isEmpty {
          written["files"] = Installation.jsonList(outcome.fileHashes?.map(\.path) ?? outcome.files.map(\.final.path))
        }
        let success = entry(operation, parameters: parameters.merging(written) { $1 }, resultCount: outcome.resultCount,
                            outcome: .success, files: hashes, now: clock())
        if let running {
          var finishing = success
          if !outcome.files.isEmpty { finishing.parameters["finishing"] = "true" }
          try installation.endOperation(running, entry: finishing, finishing: !outcome.files.isEmpty)
        } else {
          try installation.log.append(success)
        }
      }
    } catch {
      for file in outcome.files { ExportFile.removeStaged(file.temporary) }
      if let running { _ = try? installation.endOperation(running, entry: entry(operation, parameters: parameters.merging(["error": String(describing: error)]) { $1 }, outcome: .failed, now: clock())) }
      throw error
    }
    // The outcome is logged; publish, then forget the operation.
    var publishError: (any Error)?
    for file in outcome.files {
      do { try ExportFile.publish(file) } catch {
        ExportFile.removeStaged(file.temporary)
        publishError = publishError ?? error
      }
    }
    if let running { try installation.finishOperation(running) }
    if let publishError {
      try log(operation, parameters: parameters.merging(["error": "not published: \(publishError)"]) { $1 }, outcome: .failed, now: clock())
      throw publishError
    }
    return outcome.value
  }

  /// A log entry of this user for this procedure.
  func entry(
    _ operation: ProcedureOperation, parameters: [String: String], resultCount: Int? = nil, outcome: LogOutcome,
    files: [String] = [], now: Date
  ) -> LogEntry {
    LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure,
             operation: operation.rawValue, parameters: parameters, resultCount: resultCount, outcome: outcome,
             filesWritten: files)
  }

  func log(
    _ operation: ProcedureOperation, parameters: [String: String], resultCount: Int? = nil, outcome: LogOutcome,
    files: [String] = [], now: Date
  ) throws {
    try installation.log.append(
      entry(operation, parameters: parameters, resultCount: resultCount, outcome: outcome, files: files, now: now))
  }
}

/// Track ids as compact ranges: `T5-T9,T12` (an ingest stores consecutive ids).
enum TrackRanges {
  static func encode(_ ids: [String]) -> String {
    let numbers = ids.compactMap { Int64($0.dropFirst()) }
    var parts: [String] = []
    var index = 0
    while index < numbers.count {
      var end = index
      while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
      parts.append(end == index ? "T\(numbers[index])" : "T\(numbers[index])-T\(numbers[end])")
      index = end + 1
    }
    return parts.joined(separator: ",")
  }

  /// The ids of `encode`'s text; nil when malformed or absurdly long.
  static func decode(_ text: String) -> [String]? {
    guard !text.isEmpty else { return [] }
    var ids: [String] = []
    for part in text.split(separator: ",") {
      let bounds = part.split(separator: "-").map { $0.hasPrefix("T") ? Int64($0.dropFirst()) : nil }
      guard (1...2).contains(bounds.count), let first = bounds.first ?? nil, let last = bounds.last ?? nil, first <= last,
        last - first < 10_000_000, ids.count + Int(last - first) < 10_000_000
      else { return nil }
      ids += (first...last).map { "T\($0)" }
    }
    return ids
  }
}

/// Files written where the user asked (`--out`): staged beside the target, published by rename.
enum ExportFile {
  /// The absolute path of `path`, as the log records it.
  static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

  /// Fails unless `output` can be written as a new file: never over a file or a directory, only in
  /// an existing folder lrj may write in.
  static func checkNew(_ output: String) throws {
    guard !output.isEmpty else { throw ProcedureError("the output file name is empty") }
    let target = URL(fileURLWithPath: output)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) {
      throw ProcedureError(isDirectory.boolValue ? "\(output) exists and is a folder; lrj never writes over it, choose another name"
                           : "\(output) exists; lrj never overwrites a file, choose another name")
    }
    let folder = target.deletingLastPathComponent()
    guard FileManager.default.isWritableFile(atPath: folder.path) else {
      throw ProcedureError("\(output): cannot write in \(folder.path)")
    }
  }

  /// A hidden temporary name in the target's folder, with the same extension (muxers choose by it).
  static func stagingURL(for output: String) throws -> URL {
    try checkNew(output)
    let target = URL(fileURLWithPath: output)
    let folder = target.deletingLastPathComponent()
    let suffix = target.pathExtension.isEmpty ? "" : "." + target.pathExtension
    let staging = folder.appendingPathComponent(".\(target.deletingPathExtension().lastPathComponent).lrj-\(UUID().uuidString.prefix(8))\(suffix)")
    Interruption.staging(staging)
    return staging
  }

  /// Writes `data` under a staging name.
  static func stage(_ data: Data, for output: String) throws -> PendingFile {
    let staging = try stagingURL(for: output)
    do {
      try data.write(to: staging)
    } catch {
      removeStaged(staging)
      throw ProcedureError("\(output): \(error.localizedDescription)")
    }
    return PendingFile(temporary: staging, final: URL(fileURLWithPath: output))
  }

  /// Makes sure `folder` is a folder lrj may write in, creating it when only it is missing.
  /// - Throws: `ProcedureError` naming what is wrong: not a folder, parent missing or not writable.
  static func prepareFolder(_ folder: URL) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw ProcedureError("--report \(folder.path) is a file, not a folder") }
      guard FileManager.default.isWritableFile(atPath: folder.path) else {
        throw ProcedureError("--report \(folder.path): lrj cannot write in this folder")
      }
      return
    }
    let parent = folder.deletingLastPathComponent()
    guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw ProcedureError("--report \(folder.path): its parent folder \(parent.path) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: parent.path) else {
      throw ProcedureError("--report \(folder.path): cannot create it, \(parent.path) is not writable")
    }
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    } catch {
      throw ProcedureError("--report \(folder.path): cannot create it: \(error.localizedDescription)")
    }
  }

  /// Flushes a written file to the disk.
  static func synchronise(_ url: URL) throws {
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.synchronize()
  }

  /// Removes a staged file and the `.partial` file a writer may have left beside it.
  static func removeStaged(_ url: URL) {
    for path in [url.path, url.path + ".partial"] where FileManager.default.fileExists(atPath: path) {
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  /// Renames the staged file to its final name (never over a file that appeared meanwhile).
  static func publish(_ file: PendingFile) throws {
    if FileManager.default.fileExists(atPath: file.final.path) {
      throw ProcedureError("\(file.final.path) exists; lrj never overwrites a file, choose another name")
    }
    if rename(file.temporary.path, file.final.path) != 0 {
      throw ProcedureError("\(file.final.path): \(String(cString: strerror(errno)))")
    }
  }
}

extension SearchFilters {
  /// The filters as log parameters (only those given).
  var logParameters: [String: String] {
    var p: [String: String] = [:]
    func put(_ key: String, _ values: [String]) { if !values.isEmpty { p[key] = values.joined(separator: ",") } }
    put("class", classes)
    put("colour", colours)
    put("direction", directions)
    put("camera", cameras)
    put("exhibit", exhibits)
    let single: [(String, String?)] = [
      ("min-colour-fraction", minColourFraction), ("from", from), ("to", to), ("min-duration", minDuration),
      ("min-speed", minSpeed), ("max-speed", maxSpeed), ("min-size", minSize), ("zone", zone), ("zone-rule", zoneRule),
    ]
    for (key, value) in single { if let value { p[key] = value } }
    p["limit"] = String(limit)
    p["offset"] = String(offset)
    return p
  }
}
