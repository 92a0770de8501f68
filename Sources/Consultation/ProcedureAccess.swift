import Foundation
import GRDB
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
  case erase
  case close = "procedure.close"

  /// Operations that only read (and export) what was ingested.
  var isConsultation: Bool { [.search, .show, .extract, .tracks, .synopsis, .overview, .still].contains(self) }
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
}

/// The only door to a procedure's data (DESIGN.md §3, §8): every operation checks, at the moment it
/// runs, that the user is enabled, that their role allows it, that the procedure is open and that an
/// authorisation covers them; then it runs and its log entry is written before its result is seen.
/// Refusals and failures are logged too.
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

  /// Ingests an exhibit file (investigators named in a valid authorisation). The log entry is
  /// written before the exhibit's tracks become visible in the index.
  public func ingest(
    path: String, camera: String, start: WallClockTime?, settings: AnalysisSettings = AnalysisSettings(),
    progress: ((AnalysisProgress) -> Void)? = nil
  ) throws -> IngestReport {
    let classifier = settings.classifierModel.map { "cnn \($0.sha256)" } ?? "geometry"
    let parameters = ["file": ExportFile.absolute(path), "camera": camera, "start": start?.iso8601() ?? "creation_time", "classifier": classifier]
    return try perform(.ingest, parameters: parameters, logsItself: true) { workspace, now in
      let report = try workspace.ingest(path: path, camera: camera, start: start, settings: settings, progress: progress) { exhibit, tracks, sha256 in
        try self.log(.ingest, parameters: parameters.merging(["exhibit": exhibit, "sha256": sha256]) { $1 },
                     resultCount: tracks, outcome: .success, now: now)
      }
      if report.alreadyIngested {
        try log(.ingest, parameters: parameters.merging(["exhibit": report.exhibit, "sha256": report.sha256, "duplicate": "true"]) { $1 },
                resultCount: 0, outcome: .success, now: now)
      }
      return OperationOutcome(value: report)
    }
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
    try perform(.show, parameters: ["track": track, "out": ExportFile.absolute(output)]) { workspace, _ in
      let png = try workspace.thumbnail(track: track)
      let pending = try ExportFile.stage(png, for: output)
      return OperationOutcome(value: (png.count, SHA256Hex.of(png)), resultCount: 1, files: [pending])
    }
  }

  /// Writes the original footage around a track to `output`.
  public func extract(track: String, margin: Double, to output: String) throws -> ExtractReport {
    try perform(.extract, parameters: ["track": track, "margin": String(margin), "out": ExportFile.absolute(output)]) { workspace, _ in
      let staging = try ExportFile.stagingURL(for: output)
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
    return try perform(.synopsis, parameters: parameters) { workspace, _ in
      let video = try ExportFile.stagingURL(for: output)
      let index = URL(fileURLWithPath: SynopsisOutputs.indexPath(forVideo: video.path))
      Interruption.staging(index)
      let png = try overview.map { try ExportFile.stagingURL(for: $0) }
      let finalIndex = URL(fileURLWithPath: SynopsisOutputs.indexPath(forVideo: ExportFile.absolute(output)))
      try ExportFile.checkNew(finalIndex.path)
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
        for file in pending { try? FileManager.default.removeItem(at: file.temporary) }
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
  /// rows are deleted with `secure_delete`, its sealed thumbnails with them.
  public func erase(track: String? = nil, exhibit: String? = nil, reason: String) throws {
    var parameters = ["reason": reason]
    parameters["track"] = track
    parameters["exhibit"] = exhibit
    try perform(.erase, parameters: parameters) { workspace, _ in
      guard (track == nil) != (exhibit == nil) else { throw ProcedureError("erase one track or one exhibit") }
      guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ProcedureError("say why (--reason)") }
      if let track { try workspace.store.deleteTrack(try QueryParser.trackID(track)) }
      if let exhibit { try workspace.store.deleteExhibit(try QueryParser.exhibitID(exhibit)) }
      return OperationOutcome(value: (), resultCount: 1)
    }
  }

  /// Saves a zone under a name.
  public func saveZone(_ text: String, name: String, camera: String, replacing: Bool) throws {
    try perform(.zoneSave, parameters: ["zone": text, "name": name, "camera": camera]) { workspace, _ in
      try workspace.saveZone(text, name: name, camera: camera, replacing: replacing)
      return OperationOutcome(value: ())
    }
  }

  // MARK: The door

  /// Checks that `identity` may run `operation` on this procedure now; refusals are logged.
  /// - Returns: the procedure's record and its opened workspace (with the unwrapped key).
  func authorise(_ operation: ProcedureOperation, parameters: [String: String], now: Date) throws -> ProcedureWorkspace {
    do {
      try ProcedureWorkspace.validateID(procedure)
      let (record, key) = try installation.registry.read { db -> (ProcedureRecord, Data?) in
        guard let record = try ProcedureRegistry.procedure(procedure, in: db) else {
          throw ProcedureError("no procedure \(procedure) in this installation (open it with lrj procedure open --token)")
        }
        try checkAuthorisation(operation, record: record, in: db, now: now)
        let wrapped = try Data.fetchOne(db, sql: "SELECT wrapped_key FROM procedure WHERE id = ?", arguments: [procedure])
        return (record, wrapped)
      }
      guard let key else { throw ProcedureError("procedure \(record.id) has no key (erased)") }
      let procedureKey = try ProcedureKey.unwrap(key, with: installation.keyEncryptionKey(), installation: installation.id, procedure: procedure)
      return try ProcedureWorkspace(id: procedure, home: installation.home, create: false, key: procedureKey)
    } catch {
      try log(operation, parameters: parameters.merging(["reason": String(describing: error)]) { $1 }, outcome: .refused, now: now)
      throw error
    }
  }

  /// The authorisation rules (L1–L3).
  private func checkAuthorisation(_ operation: ProcedureOperation, record: ProcedureRecord, in db: Database, now: Date) throws {
    guard !record.isClosed else {
      throw ProcedureError("procedure \(procedure) was closed and its data erased on \(AuthorisationClaims.format(record.closedAt ?? now))")
    }
    let authorisations = try ProcedureRegistry.authorisations(procedure: procedure, in: db)
    switch identity.role {
    case .administrator:
      throw ProcedureError("administrators have no access to procedure data")
    case .controller:
      guard operation.isConsultation || operation == .close else {
        throw ProcedureError("\(operation.rawValue) is for the investigators of the procedure")
      }
    case .magistrate:
      guard authorisations.contains(where: { $0.record.issuer == identity.user }) else {
        throw ProcedureError("magistrate \(identity.user) did not authorise procedure \(procedure)")
      }
      guard operation.isConsultation || operation == .close || operation == .erase else {
        throw ProcedureError("\(operation.rawValue) is for the investigators of the procedure")
      }
    case .investigator:
      guard operation != .close else { throw ProcedureError("closure is ordered by the magistrate or the controller") }
      guard operation != .erase else { throw ProcedureError("erasing data is ordered by the magistrate (L9)") }
      let revoked = Set(try String.fetchAll(db, sql: "SELECT jti FROM authorisation WHERE revoked_at IS NOT NULL"))
      var reasons: [AuthorisationError] = []
      for (_, token) in authorisations {
        guard let token else { continue }
        do {
          let claims = try Authorisation.verify(
            token, publicKeyLookup: { try? installation.magistrateKey($0, in: db) ?? nil }, installation: installation.id,
            procedure: procedure, now: now, revoked: revoked)
          try claims.requireInvestigator(identity.user)
          return
        } catch {
          reasons.append(error)
        }
      }
      throw reasons.last { $0 != .investigatorNotNamed(identity.user) } ?? .investigatorNotNamed(identity.user)
    }
  }

  /// Runs an operation behind the door: authorise, run, log (before any file is published), seal a
  /// checkpoint. Failures after authorisation are logged as failed; refusals and failures are
  /// sealed too (the console runs many operations in one process).
  func perform<Value>(
    _ operation: ProcedureOperation, parameters: [String: String], logsItself: Bool = false,
    _ body: (ProcedureWorkspace, Date) throws -> OperationOutcome<Value>
  ) throws -> Value {
    let now = clock()
    let value: Value
    do {
      value = try performUnsealed(operation, parameters: parameters, logsItself: logsItself, now: now, body)
    } catch {
      try? installation.sealCheckpoint(by: identity, now: now)
      throw error
    }
    try installation.sealCheckpoint(by: identity, now: now)
    return value
  }

  private func performUnsealed<Value>(
    _ operation: ProcedureOperation, parameters: [String: String], logsItself: Bool, now: Date,
    _ body: (ProcedureWorkspace, Date) throws -> OperationOutcome<Value>
  ) throws -> Value {
    let workspace = try authorise(operation, parameters: parameters, now: now)
    let running = Interruption.begin { [self] in
      try? log(operation, parameters: parameters.merging(["error": "interrupted"]) { $1 }, outcome: .failed, now: now)
    }
    defer { Interruption.end(running) }
    let outcome: OperationOutcome<Value>
    do {
      outcome = try body(workspace, now)
    } catch {
      try log(operation, parameters: parameters.merging(["error": String(describing: error)]) { $1 }, outcome: .failed, now: now)
      throw error
    }
    do {
      let hashes = try outcome.files.map { try SHA256Hex.ofFile($0.temporary.path) }
      if !logsItself {
        try log(operation, parameters: parameters.merging(outcome.parameters) { $1 }, resultCount: outcome.resultCount,
                outcome: .success, files: hashes, now: now)
      }
      for file in outcome.files { try ExportFile.publish(file) }
    } catch {
      for file in outcome.files { try? FileManager.default.removeItem(at: file.temporary) }
      throw error
    }
    return outcome.value
  }

  func log(
    _ operation: ProcedureOperation, parameters: [String: String], resultCount: Int? = nil, outcome: LogOutcome,
    files: [String] = [], now: Date
  ) throws {
    try installation.log.append(
      LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure,
               operation: operation.rawValue, parameters: parameters, resultCount: resultCount, outcome: outcome,
               filesWritten: files))
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
      throw ProcedureError(isDirectory.boolValue ? "\(output) is a directory"
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
      throw ProcedureError("\(output): \(error.localizedDescription)")
    }
    return PendingFile(temporary: staging, final: URL(fileURLWithPath: output))
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
