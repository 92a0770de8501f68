import Foundation
import Store
import Index

extension Installation {
  /// Settles the operations whose process died (kill -9, a crash, a power cut) before they ended: what
  /// they left is finished or undone, and how they ended is logged, in their user's name, noting who
  /// noticed. Every command of an authenticated user runs it first, so nothing an interrupted operation
  /// staged (a file with procedure data, an invisible exhibit) outlives the next command.
  ///
  /// - An operation whose outcome was logged is finished: its staged files are published (when they still
  ///   have the SHA-256 the log recorded), its exhibit made visible (when it still has the logged digest).
  /// - Otherwise it is undone and logged as interrupted: staged files removed, a staged exhibit removed;
  ///   an erasure that did happen is logged as done.
  /// - A closure is left to a retry of `procedure close`: what it staged is removed, except the report it
  ///   logged, which the retry publishes.
  func settleInterruptedOperations(noticedBy identity: Identity, now: Date) throws {
    for operation in try interruptedOperations() {
      try settle(operation, noticedBy: identity, now: now)
    }
    RunningOperation.removeOrphanLocks(home: home, recorded: Set(try registry.read { tx in try OperationRecord.all(in: tx) }.map(\.id)))
  }

  private func settle(_ operation: OperationRecord, noticedBy identity: Identity, now: Date) throws {
    let lock = RunningOperation.lockURL(id: operation.id, home: home)
    if let outcomeSeq = operation.outcomeSeq {
      let outcome = try log.entries(LogFilter(procedure: operation.procedure)).first { $0.seq == outcomeSeq }?.entry
      try finish(operation, outcome: outcome)
      try registry.write { tx in try tx.execute("DELETE FROM operation WHERE id = ?", operation.id) }
      try? FileManager.default.removeItem(at: lock)
      return
    }
    var outcome = LogOutcome.failed
    var parameters = [
      OperationParameter.id: operation.id, OperationParameter.started: String(operation.startedSeq),
      "noticed-by": identity.user,
      "error": "interrupted: its process ended before the operation finished; what it had begun was undone",
    ]
    // A closure's logged report stays staged: the closure's retry publishes it (it is the one logged).
    // Before its report step the closure logged none, and the retry writes a new one.
    // The log decides which report was logged: a row edited behind lrj's back neither keeps nor loses one.
    var closure: ClosureRecord?
    if ProcedureOperation(rawValue: operation.kind) == .close, let procedure = operation.procedure {
      closure = try registry.read { tx in try ClosureRecord.resumable(procedure, log: log, in: tx).record }
    }
    let loggedReport = Set(closure.flatMap { $0.step == .claimed ? nil : $0.files.map(\.temporary) } ?? [])
    for file in operation.staging where !loggedReport.contains(file.temporary) {
      ExportFile.removeStaged(URL(fileURLWithPath: file.temporary))
    }
    switch ProcedureOperation(rawValue: operation.kind) {
    case .ingest:
      if let store = try vaultStore(operation.procedure) {
        for staged in try store.stagedExhibits() where staged.operation == operation.id {
          try store.removeStagedExhibit(staged.exhibit)
          parameters["removed"] = staged.exhibit
        }
      }
    case .erase:
      if let target = operation.target, let store = try vaultStore(operation.procedure), try !exists(target, in: store) {
        outcome = .success
        parameters["error"] = nil
        parameters["note"] = "its process ended after the erasure, before logging it; logged when noticed"
        if target.hasPrefix("T") { parameters["track"] = target } else { parameters["exhibit"] = target }
        if let exhibit = try erasedTrackExhibit(target, procedure: operation.procedure), try store.exhibit(exhibit) != nil {
          parameters["exhibit"] = exhibit
          parameters["digest"] = try store.digest(ofExhibit: exhibit).digest
        }
      }
    case .close:
      parameters["error"] = "interrupted: its process ended during the closure; lrj procedure close finishes it"
    default:
      break
    }
    try registry.write { tx in
      // Another process may have settled it meanwhile.
      guard try tx.execute("DELETE FROM operation WHERE id = ?", operation.id) == 1 else { return }
      try log.append(
        LogEntry(time: now, user: operation.user, role: operation.role, procedure: operation.procedure, operation: operation.kind,
                 parameters: parameters, outcome: outcome), in: tx)
    }
    try? FileManager.default.removeItem(at: lock)
  }

  /// Finishes an operation whose success was logged: publishes its files, makes its exhibit visible.
  private func finish(_ operation: OperationRecord, outcome: LogEntry?) throws {
    let logged = Set(outcome?.filesWritten ?? [])
    for file in operation.staging {
      let temporary = URL(fileURLWithPath: file.temporary)
      guard FileManager.default.fileExists(atPath: temporary.path) else { continue }
      // A file must still have its logged SHA-256; a folder (an export bundle), its manifest.
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(atPath: temporary.path, isDirectory: &isDirectory)
      let checked = isDirectory.boolValue ? temporary.appendingPathComponent(ExportBundle.manifestName) : temporary
      if outcome?.outcome == .success, !FileManager.default.fileExists(atPath: file.final),
        let hash = try? SHA256Hex.ofFile(checked.path), logged.contains(hash)
      {
        try? ExportFile.publish(PendingFile(temporary: temporary, final: URL(fileURLWithPath: file.final)))
      }
      ExportFile.removeStaged(temporary)
    }
    if ProcedureOperation(rawValue: operation.kind) == .ingest, let outcome, outcome.outcome == .success,
      let exhibit = outcome.parameters["exhibit"], let digest = outcome.parameters["digest"],
      let store = try vaultStore(operation.procedure)
    {
      try store.publishExhibit(exhibit, digest: digest)
    }
  }

  /// The index of an open procedure's vault, or nil (closed, erased, missing).
  func vaultStore(_ procedure: String?) throws -> IndexStore? {
    guard let procedure, (try? ProcedureWorkspace.validateID(procedure)) != nil else { return nil }
    // Settling only removes, publishes and checks routing rows: nothing here opens sealed data.
    return try indexes.openLocked(procedure)
  }

  private func exists(_ target: String, in store: IndexStore) throws -> Bool {
    if target.hasPrefix("E") { return try store.exhibit(target) != nil }
    return try store.containsTrack(target)
  }

  /// The exhibit an erased track belonged to, from the log (the ingest that stored it).
  private func erasedTrackExhibit(_ track: String, procedure: String?) throws -> String? {
    guard track.hasPrefix("T") else { return nil }
    for stored in try log.entries(LogFilter(procedure: procedure)).reversed() {
      guard let entry = stored.entry, entry.operation == ProcedureOperation.ingest.rawValue, entry.outcome == .success,
        let tracks = entry.parameters["tracks"].flatMap(TrackRanges.decode), tracks.contains(track)
      else { continue }
      return entry.parameters["exhibit"]
    }
    return nil
  }
}
