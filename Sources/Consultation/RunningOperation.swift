import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// A file an operation writes under a staging name and publishes under its final name once its SHA-256
/// is logged; recorded with the operation so that whoever settles it after a crash can finish or undo it.
struct StagedFile: Codable, Sendable, Equatable {
  var temporary: String
  var final: String
}

/// An operation on procedure data that was logged as started and has not ended yet (DESIGN.md §8: "a
/// consultation that writes pixels is logged before the first pixel"; "an operation cut short stays
/// visible as started and not completed").
///
/// Its process holds an exclusive `flock` on `$LRJ_HOME/running/<id>` from before its started entry to
/// after its end, so that any other process can tell an operation that runs from one whose process died
/// (the kernel releases the lock of a killed process). The registry's `operation` table lists the
/// operations not yet ended, each with the files it staged.
final class RunningOperation {
  let id: String
  let kind: String
  let procedure: String?
  let startedSeq: Int64
  private var descriptor: Int32

  fileprivate init(id: String, kind: String, procedure: String?, startedSeq: Int64, descriptor: Int32) {
    self.id = id
    self.kind = kind
    self.procedure = procedure
    self.startedSeq = startedSeq
    self.descriptor = descriptor
  }

  deinit { release() }

  /// Drops the lock and its file (once the operation has ended, or its start could not be logged).
  func release(home: URL? = nil) {
    guard descriptor >= 0 else { return }
    if let home { unlink(RunningOperation.lockURL(id: id, home: home).path) }
    close(descriptor)
    descriptor = -1
  }

  static func lockFolder(home: URL) -> URL { home.appendingPathComponent("running") }
  static func lockURL(id: String, home: URL) -> URL { lockFolder(home: home).appendingPathComponent(id) }

  /// A new operation id: 16 random bytes in hex.
  static func newID() -> String { AuthorisationClaims.newTokenID() }

  /// Creates and locks the operation's lock file: made and locked under a hidden name, then renamed, so that a
  /// lock file under its final name is always locked while its process lives.
  static func lock(id: String, home: URL) throws -> Int32 {
    let folder = lockFolder(home: home)
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let final = lockURL(id: id, home: home).path
    let hidden = folder.appendingPathComponent(".\(id).tmp").path
    let fd = open(hidden, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw InstallationError("cannot create \(hidden): \(String(cString: strerror(errno)))") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0, rename(hidden, final) == 0 else {
      close(fd)
      unlink(hidden)
      throw InstallationError("cannot lock \(final)")
    }
    return fd
  }

  /// Removes the lock files no recorded operation names and no process holds: those of a process killed
  /// after making its lock file and before its started entry was committed.
  static func removeOrphanLocks(home: URL, recorded: Set<String>) {
    let folder = lockFolder(home: home)
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
      let id = name.hasPrefix(".") && name.hasSuffix(".tmp") ? String(name.dropFirst().dropLast(4)) : name
      guard !recorded.contains(id) else { continue }
      let path = folder.appendingPathComponent(name).path
      let fd = open(path, O_RDWR | O_CLOEXEC)
      guard fd >= 0 else { continue }
      // Held: its process lives (and will record its operation, or remove the file).
      if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
      close(fd)
    }
  }

  /// Whether the process of operation `id` still runs (holds its lock).
  static func isAlive(id: String, home: URL) -> Bool {
    let fd = open(lockURL(id: id, home: home).path, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if flock(fd, LOCK_EX | LOCK_NB) == 0 {
      flock(fd, LOCK_UN)
      return false
    }
    return true
  }
}

/// A row of the registry's `operation` table.
struct OperationRecord: Sendable, Equatable {
  var id: String
  var procedure: String?
  var kind: String
  var user: String
  var role: String
  var startedSeq: Int64
  var staging: [StagedFile]
  /// The entry that logged the operation's outcome, when it was logged but the operation's last steps
  /// (publishing files, making an exhibit visible) were not done yet.
  var outcomeSeq: Int64?
  /// What the operation acts on (the track or exhibit of an erasure).
  var target: String?

  init(id: String, procedure: String?, kind: String, user: String, role: String, startedSeq: Int64,
       staging: [StagedFile], outcomeSeq: Int64?, target: String?) {
    self.id = id
    self.procedure = procedure
    self.kind = kind
    self.user = user
    self.role = role
    self.startedSeq = startedSeq
    self.staging = staging
    self.outcomeSeq = outcomeSeq
    self.target = target
  }

  init(row: StoreRow) throws {
    id = try row["id"]
    procedure = try row["procedure"]
    kind = try row["kind"]
    user = try row["user"]
    role = try row["role"]
    startedSeq = try row["started_seq"]
    staging = (try? JSONDecoder().decode([StagedFile].self, from: Data((try row["staging"] as String).utf8))) ?? []
    outcomeSeq = try row["outcome_seq"]
    target = try row["target"]
  }

  static func all(in tx: any StoreTransaction) throws -> [OperationRecord] {
    try tx.rows("SELECT * FROM operation ORDER BY started_seq").map { try OperationRecord(row: $0) }
  }
}

/// Parameter names that tie a log entry to its operation.
enum OperationParameter {
  /// The operation id, on its started entry and on every later entry about it.
  static let id = "operation"
  /// The started entry's sequence number, on the entries that end it.
  static let started = "started"
  /// On an entry about the operation that does not end it (a step of a closure).
  static let continues = "continues"
}

extension Installation {
  /// Logs `operation` as started for `identity` (with the files it will stage) and records it as running.
  /// `check` runs in the same transaction first (for example: the procedure is still open).
  func beginOperation(
    _ operation: String, procedure: String?, parameters: [String: String], staging: [StagedFile] = [], target: String? = nil,
    user: String, role: String, now: Date, check: ((any StoreTransaction, _ id: String) throws -> Void)? = nil
  ) throws -> RunningOperation {
    let id = RunningOperation.newID()
    let descriptor = try RunningOperation.lock(id: id, home: home)
    do {
      let seq = try registry.write { tx -> Int64 in
        try check?(tx, id)
        let seq = try log.append(
          LogEntry(time: now, user: user, role: role, procedure: procedure, operation: operation,
                   parameters: parameters.merging([OperationParameter.id: id]) { $1 }, outcome: .started), in: tx)
        try tx.execute("INSERT INTO operation(id, procedure, kind, \"user\", role, started_seq, staging, target) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, procedure, operation, user, role, seq, Self.stagingJSON(staging), target)
        return seq
      }
      return RunningOperation(id: id, kind: operation, procedure: procedure, startedSeq: seq, descriptor: descriptor)
    } catch {
      unlink(RunningOperation.lockURL(id: id, home: home).path)
      close(descriptor)
      throw error
    }
  }

  /// Records more files the operation stages (before it writes them).
  func addStaging(_ files: [StagedFile], to operation: RunningOperation) throws {
    try registry.write { tx in
      guard let row = try tx.row("SELECT staging FROM operation WHERE id = ?", operation.id) else { return }
      var staging = (try? JSONDecoder().decode([StagedFile].self, from: Data((row["staging"] as String).utf8))) ?? []
      staging += files
      try tx.execute("UPDATE operation SET staging = ? WHERE id = ?", Self.stagingJSON(staging), operation.id)
    }
  }

  /// Logs how `operation` ended (or, with `continues=true` in the entry, one of its steps), in one
  /// transaction with `body` (registry writes that go with it). With
  /// `finishing`, the operation stays recorded (its outcome logged) until ``finishOperation(_:)``: its
  /// last steps (publishing files, making an exhibit visible) are then done by it or, if it dies, by
  /// whoever settles it.
  @discardableResult
  func endOperation(
    _ operation: RunningOperation, entry: LogEntry, finishing: Bool = false, in body: ((any StoreTransaction) throws -> Void)? = nil
  ) throws -> Int64 {
    try endOperationRecording(operation, entry: entry, finishing: finishing, body.map { body in { tx in try body(tx); return [:] } })
  }

  /// Like `endOperation(_:entry:finishing:in:)`, with the parameters `recording` returns (what it wrote: a new
  /// row's id, for instance) added to the entry.
  @discardableResult
  func endOperationRecording(
    _ operation: RunningOperation, entry: LogEntry, finishing: Bool = false,
    _ recording: ((any StoreTransaction) throws -> [String: String])?
  ) throws -> Int64 {
    var entry = entry
    entry.parameters[OperationParameter.id] = operation.id
    entry.parameters[OperationParameter.started] = String(operation.startedSeq)
    let continuing = entry.parameters[OperationParameter.continues] == "true"
    return try registry.write { tx in
      if let recording { entry.parameters.merge(try recording(tx)) { $1 } }
      let seq = try log.append(entry, in: tx)
      if continuing {
        // A step of a longer operation (a closure): it goes on, still recorded as running.
      } else if finishing {
        try tx.execute("UPDATE operation SET outcome_seq = ? WHERE id = ?", seq, operation.id)
      } else {
        try tx.execute("DELETE FROM operation WHERE id = ?", operation.id)
      }
      return seq
    }
  }

  /// Forgets an operation whose outcome is logged and whose last steps are done, and drops its lock.
  func finishOperation(_ operation: RunningOperation) throws {
    try registry.write { tx in try tx.execute("DELETE FROM operation WHERE id = ?", operation.id) }
    operation.release(home: home)
  }

  static func stagingJSON(_ files: [StagedFile]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(files)) ?? Data("[]".utf8), as: UTF8.self)
  }

  /// The operations recorded as running whose process is gone.
  func interruptedOperations() throws -> [OperationRecord] {
    try registry.read { tx in try OperationRecord.all(in: tx) }.filter { !RunningOperation.isAlive(id: $0.id, home: home) }
  }
}
