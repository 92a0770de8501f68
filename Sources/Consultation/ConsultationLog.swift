import Crypto
import Foundation
import Store

/// A failure writing or reading the consultation log (verification failures are reported in a
/// `VerificationReport`, not thrown).
public enum ConsultationLogError: Error, CustomStringConvertible, Sendable, Equatable {
  /// `append(_:in:)` was called outside a write transaction.
  case notInTransaction
  /// The entry cannot be encoded.
  case invalidEntry(String)
  /// The checkpoint key name is not a valid C2SP key name.
  case invalidKeyName(String)
  /// Signing a checkpoint failed.
  case signingFailed

  public var description: String {
    switch self {
    case .notInTransaction: "consultation log: an entry must be appended inside the operation's write transaction"
    case .invalidEntry(let why): "consultation log: invalid entry: \(why)"
    case .invalidKeyName(let name): "consultation log: invalid checkpoint key name \"\(name)\""
    case .signingFailed: "consultation log: could not sign the checkpoint"
    }
  }
}

/// How an operation ended.
public enum LogOutcome: String, Codable, Sendable, CaseIterable {
  /// An operation that writes was logged before it wrote anything; a later entry says how it ended.
  case started
  case success
  case refused
  case failed
}

/// One consultation: who did what, on which procedure, when, and with what result (DESIGN.md §8, L4).
public struct LogEntry: Sendable, Equatable {
  /// When (UTC, millisecond precision once stored).
  public var time: Date
  /// The user id.
  public var user: String
  /// The user's role.
  public var role: String
  /// The procedure id, when the operation concerns one.
  public var procedure: String?
  /// The operation (`search`, `show`, `extract`, `log-purge`, …).
  public var operation: String
  /// The operation's parameters.
  public var parameters: [String: String]
  /// How many results, when the operation returns results.
  public var resultCount: Int?
  /// How it ended.
  public var outcome: LogOutcome
  /// SHA-256 (hex) of every file written.
  public var filesWritten: [String]

  /// Makes an entry.
  public init(
    time: Date, user: String, role: String, procedure: String?, operation: String, parameters: [String: String] = [:],
    resultCount: Int? = nil, outcome: LogOutcome, filesWritten: [String] = []
  ) {
    self.time = time
    self.user = user
    self.role = role
    self.procedure = procedure
    self.operation = operation
    self.parameters = parameters
    self.resultCount = resultCount
    self.outcome = outcome
    self.filesWritten = filesWritten
  }
}

/// The stored, hashed bytes of an entry: canonical JSON with sorted keys and a random salt.
struct LogBody: Codable, Equatable {
  var v: Int
  var timeMs: Int64
  var user: String
  var role: String
  var procedure: String?
  var operation: String
  var parameters: [String: String]
  var resultCount: Int?
  var outcome: LogOutcome
  var filesSha256: [String]
  var salt: String

  enum CodingKeys: String, CodingKey {
    case v, user, role, procedure, operation, parameters, outcome, salt
    case timeMs = "time_ms"
    case resultCount = "result_count"
    case filesSha256 = "files_sha256"
  }

  init(_ entry: LogEntry, salt: String) {
    v = 1
    timeMs = Int64((entry.time.timeIntervalSince1970 * 1000).rounded(.down))
    user = entry.user
    role = entry.role
    procedure = entry.procedure
    operation = entry.operation
    parameters = entry.parameters
    resultCount = entry.resultCount
    outcome = entry.outcome
    filesSha256 = entry.filesWritten
    self.salt = salt
  }

  var entry: LogEntry {
    LogEntry(
      time: Date(timeIntervalSince1970: Double(timeMs) / 1000), user: user, role: role, procedure: procedure,
      operation: operation, parameters: parameters, resultCount: resultCount, outcome: outcome,
      filesWritten: filesSha256)
  }

  func canonicalBytes() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }
}

/// An entry as stored: its sequence number, hashes, and its content unless purged.
public struct StoredLogEntry: Sendable, Equatable {
  /// Position in the log, from 1.
  public let seq: Int64
  /// SHA-256(0x00 ‖ body).
  public let leafHash: Data
  /// SHA-256(0x01 ‖ previous chain ‖ leaf hash).
  public let chain: Data
  /// The stored body bytes; nil once purged.
  public let body: Data?
  /// The decoded entry; nil once purged.
  public let entry: LogEntry?
}

/// Which entries `entries(_:)` returns. Purged entries never match a field filter.
public struct LogFilter: Sendable, Equatable {
  /// Only this procedure.
  public var procedure: String?
  /// Only this user.
  public var user: String?
  /// Only entries at or after.
  public var from: Date?
  /// Only entries before.
  public var to: Date?
  /// Include entries whose bodies were purged (only when no field filter is set).
  public var includePurged: Bool

  /// Makes a filter; all nil matches every entry.
  public init(procedure: String? = nil, user: String? = nil, from: Date? = nil, to: Date? = nil, includePurged: Bool = false) {
    self.procedure = procedure
    self.user = user
    self.from = from
    self.to = to
    self.includePurged = includePurged
  }
}

/// A public key trusted to sign checkpoints, with its C2SP signed-note name.
public struct CheckpointVerifierKey: Sendable, Equatable {
  /// The key name written in the signature line.
  public let name: String
  /// The Ed25519 public key.
  public let publicKey: PasetoV4PublicKey

  /// Makes a trusted key.
  public init(name: String, publicKey: PasetoV4PublicKey) {
    self.name = name
    self.publicKey = publicKey
  }

  /// The C2SP signed-note key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
  public var keyID: Data {
    Data(SHA256.hash(data: Data(name.utf8) + Data([0x0A, 0x01]) + publicKey.rawRepresentation).prefix(4))
  }
}

/// Where verification found the log wrong.
public struct LogVerificationFailure: Sendable, Equatable, CustomStringConvertible {
  /// The first bad entry, when the failure is an entry's.
  public let seq: Int64?
  /// The checkpoint concerned, when the failure is a checkpoint's.
  public let checkpoint: Int64?
  /// Why.
  public let reason: String

  public var description: String {
    var parts: [String] = []
    if let seq { parts.append("entry \(seq)") }
    if let checkpoint { parts.append("checkpoint \(checkpoint)") }
    return (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + reason
  }
}

/// The result of `verify`.
public struct VerificationReport: Sendable, Equatable, CustomStringConvertible {
  /// Entries in the log.
  public let entryCount: Int
  /// Entries whose bodies were purged.
  public let purgedCount: Int
  /// Checkpoints checked.
  public let checkpointCount: Int
  /// Entries covered by the latest signed checkpoint; the ones after it are not sealed yet.
  public let sealedCount: Int64
  /// The chain head (32 zero bytes for an empty log).
  public let head: Data
  /// The first problem found; nil when the log verifies.
  public let failure: LogVerificationFailure?

  /// Whether the log verifies.
  public var isValid: Bool { failure == nil }

  public var description: String {
    if let failure { return "consultation log INVALID: \(failure)" }
    return "consultation log OK: \(entryCount) entries (\(purgedCount) purged), \(checkpointCount) checkpoints"
  }
}

/// The hash-chained consultation log (STYLE.md §3): `log_entry` (the skeleton, never changed),
/// `log_body` (canonical JSON bodies, deleted only by the retention purge) and `log_checkpoint`
/// (signed C2SP-shaped notes).
public struct ConsultationLog: Sendable {
  /// The database holding the log.
  public let engine: any StoreEngine
  /// The checkpoint origin line, e.g. `lrj/<installation-id>/consultation`.
  public let origin: String

  /// The chain value before the first entry.
  public static let genesis = Data(repeating: 0, count: 32)

  /// The log in `engine`, whose tables the registry's migrations create (``schema(_:)``).
  public init(engine: any StoreEngine, origin: String) {
    self.engine = engine
    self.origin = origin
  }

  /// The log's tables and their append-only triggers, for each engine.
  public static func schema(_ dialect: StoreDialect) -> [String] {
    switch dialect {
    case .sqlite:
      return ["""
        CREATE TABLE IF NOT EXISTS log_entry(
          seq INTEGER PRIMARY KEY,
          leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32),
          chain BLOB NOT NULL CHECK (length(chain) = 32)
        ) STRICT;
        CREATE TABLE IF NOT EXISTS log_body(
          seq INTEGER PRIMARY KEY REFERENCES log_entry(seq),
          body BLOB NOT NULL
        ) STRICT;
        CREATE TABLE IF NOT EXISTS log_checkpoint(
          id INTEGER PRIMARY KEY,
          size INTEGER NOT NULL,
          time_ms INTEGER NOT NULL,
          note TEXT NOT NULL
        ) STRICT;
        CREATE TRIGGER IF NOT EXISTS log_entry_no_update BEFORE UPDATE ON log_entry
          BEGIN SELECT RAISE(ABORT, 'log_entry is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS log_entry_no_delete BEFORE DELETE ON log_entry
          BEGIN SELECT RAISE(ABORT, 'log_entry is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS log_body_no_update BEFORE UPDATE ON log_body
          BEGIN SELECT RAISE(ABORT, 'log_body is never updated'); END;
        CREATE TRIGGER IF NOT EXISTS log_checkpoint_no_update BEFORE UPDATE ON log_checkpoint
          BEGIN SELECT RAISE(ABORT, 'log_checkpoint is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS log_checkpoint_no_delete BEFORE DELETE ON log_checkpoint
          BEGIN SELECT RAISE(ABORT, 'log_checkpoint is append-only'); END;
        """]
    case .postgres:
      return [
        """
        CREATE TABLE log_entry(
          seq BIGINT PRIMARY KEY,
          leaf_hash BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
          chain BYTEA NOT NULL CHECK (length(chain) = 32)
        )
        """,
        "CREATE TABLE log_body(seq BIGINT PRIMARY KEY REFERENCES log_entry(seq), body BYTEA NOT NULL)",
        """
        CREATE TABLE log_checkpoint(
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          size BIGINT NOT NULL,
          time_ms BIGINT NOT NULL,
          note TEXT NOT NULL
        )
        """,
        """
        CREATE FUNCTION lrj_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
        """,
        "CREATE TRIGGER log_entry_append_only BEFORE UPDATE OR DELETE ON log_entry FOR EACH ROW EXECUTE FUNCTION lrj_append_only()",
        "CREATE TRIGGER log_body_never_updated BEFORE UPDATE ON log_body FOR EACH ROW EXECUTE FUNCTION lrj_append_only()",
        "CREATE TRIGGER log_checkpoint_append_only BEFORE UPDATE OR DELETE ON log_checkpoint FOR EACH ROW EXECUTE FUNCTION lrj_append_only()",
      ]
    }
  }

  // MARK: Writing

  /// Appends `entry` inside the caller's write transaction, so that the operation and its log
  /// entry commit (or roll back) together. Returns the entry's sequence number.
  @discardableResult
  public func append(_ entry: LogEntry, in tx: any StoreTransaction) throws -> Int64 {
    guard !entry.user.isEmpty, !entry.operation.isEmpty else {
      throw ConsultationLogError.invalidEntry("user and operation are required")
    }
    for hash in entry.filesWritten where !(hash.count == 64 && hash.allSatisfy(\.isHexDigit)) {
      throw ConsultationLogError.invalidEntry("\"\(hash)\" is not a SHA-256 in hex")
    }
    var generator = SystemRandomNumberGenerator()
    let salt = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    let body = try LogBody(entry, salt: salt).canonicalBytes()
    let leaf = Self.leafHash(body)
    let last = try tx.row("SELECT seq, chain FROM log_entry ORDER BY seq DESC LIMIT 1")
    let previousSeq: Int64 = try last?.get("seq") ?? 0
    let previousChain: Data = try last?.get("chain") ?? Self.genesis
    let seq = previousSeq + 1
    try tx.execute(
      "INSERT INTO log_entry(seq, leaf_hash, chain) VALUES (?, ?, ?)", seq, leaf, Self.chainHash(previous: previousChain, leaf: leaf))
    try tx.execute("INSERT INTO log_body(seq, body) VALUES (?, ?)", seq, body)
    return seq
  }

  /// Appends `entry` in its own write transaction (for operations that write nothing else).
  @discardableResult
  public func append(_ entry: LogEntry) throws -> Int64 {
    try engine.write { tx in try append(entry, in: tx) }
  }

  /// Signs a checkpoint of the current head with `signingKey` under `keyName`, stores it, and
  /// returns the note text (to be exported off the box as well).
  @discardableResult
  public func checkpoint(signingKey: Curve25519.Signing.PrivateKey, keyName: String, now: Date) throws -> String {
    guard !keyName.isEmpty, !keyName.contains(where: { $0 == "+" || $0.isWhitespace }) else {
      throw ConsultationLogError.invalidKeyName(keyName)
    }
    let verifier = CheckpointVerifierKey(name: keyName, publicKey: PasetoV4PublicKey(signingKey.publicKey))
    let keyID = verifier.keyID
    return try engine.write { tx in
      let last = try tx.row("SELECT seq, chain FROM log_entry ORDER BY seq DESC LIMIT 1")
      let size: Int64 = try last?.get("seq") ?? 0
      let head: Data = try last?.get("chain") ?? Self.genesis
      let text = "\(origin)\n\(size)\n\(head.base64EncodedString())\n"
      let signature: Data
      do { signature = try signingKey.signature(for: Data(text.utf8)) } catch {
        throw ConsultationLogError.signingFailed
      }
      let note = text + "\n\u{2014} \(keyName) \((keyID + signature).base64EncodedString())\n"
      try tx.execute("INSERT INTO log_checkpoint(size, time_ms, note) VALUES (?, ?, ?)",
                     size, Int64((now.timeIntervalSince1970 * 1000).rounded(.down)), note)
      return note
    }
  }

  /// Deletes the bodies of entries older than `age` before `now` (the skeleton stays, so the log
  /// still verifies) and logs the purge itself when it deleted any. Returns the number of bodies deleted.
  @discardableResult
  public func purge(
    olderThan age: DateComponents = DateComponents(year: 5), now: Date, user: String, role: String,
    snapshot: ((_ entries: [(seq: Int64, entry: LogEntry?)], _ through: Int64) -> [String: String])? = nil
  ) throws -> Int {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
    let cutoff = calendar.date(byAdding: Self.negated(age), to: now) ?? now
    let cutoffMs = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
    return try engine.write { tx in
      // Only a prefix of the log is purged: the oldest bodies, up to the first one that must stay.
      var entries: [(seq: Int64, entry: LogEntry?)] = []
      var old: [Int64] = []
      var inPrefix = true
      for row in try tx.rows("SELECT e.seq, b.body FROM log_entry e LEFT JOIN log_body b ON b.seq = e.seq ORDER BY e.seq") {
        let body: Data? = try row.get("body")
        let seq: Int64 = try row.get("seq")
        let decoded = body.flatMap { try? JSONDecoder().decode(LogBody.self, from: $0) }
        entries.append((seq, decoded?.entry))
        guard inPrefix, body != nil else { continue }
        if let decoded, decoded.timeMs < cutoffMs { old.append(seq) } else { inPrefix = false }
      }
      guard let through = old.max() else { return 0 }
      // What the purged entries said that still matters (the registry they built) goes in the purge entry.
      let extra = snapshot?(entries, through) ?? [:]
      for chunk in stride(from: 0, to: old.count, by: 500) {
        let seqs = old[chunk..<min(chunk + 500, old.count)]
        try tx.execute("DELETE FROM log_body WHERE seq IN (\(seqs.map { _ in "?" }.joined(separator: ",")))", seqs.map(\.storeValue))
      }
      let formatter = ISO8601DateFormatter()
      formatter.timeZone = TimeZone(identifier: "UTC")
      try append(
        LogEntry(
          time: now, user: user, role: role, procedure: nil, operation: Self.purgeOperation,
          parameters: extra.merging(["before": formatter.string(from: cutoff), "through_seq": String(through)]) { $1 },
          resultCount: old.count, outcome: .success),
        in: tx)
      return old.count
    }
  }

  /// The operation name of a purge entry.
  public static let purgeOperation = "log-purge"

  // MARK: Reading

  /// The entries matching `filter`, in order.
  public func entries(_ filter: LogFilter = LogFilter()) throws -> [StoredLogEntry] {
    try engine.read { tx in try entries(filter, in: tx) }
  }

  /// The entries matching `filter`, in order, as `tx` sees them (with other tables of the same database).
  func entries(_ filter: LogFilter, in tx: any StoreTransaction) throws -> [StoredLogEntry] {
    var result: [StoredLogEntry] = []
    let rows = try tx.rows("SELECT e.seq, e.leaf_hash, e.chain, b.body FROM log_entry e LEFT JOIN log_body b ON b.seq = e.seq ORDER BY e.seq")
    let fieldFilter = filter.procedure != nil || filter.user != nil || filter.from != nil || filter.to != nil
    for row in rows {
      let body: Data? = try row.get("body")
      let entry = body.flatMap { try? JSONDecoder().decode(LogBody.self, from: $0) }?.entry
      if let entry {
        if let procedure = filter.procedure, entry.procedure != procedure { continue }
        if let user = filter.user, entry.user != user { continue }
        if let from = filter.from, entry.time < from { continue }
        if let to = filter.to, entry.time >= to { continue }
      } else if fieldFilter || !filter.includePurged {
        continue
      }
      result.append(StoredLogEntry(seq: try row.get("seq"), leafHash: try row.get("leaf_hash"), chain: try row.get("chain"), body: body,
                                   entry: entry))
    }
    return result
  }

  // MARK: Verifying

  /// Recomputes the chain from genesis and checks every checkpoint against `trustedKeys`.
  /// The report names the first bad entry (or checkpoint) and why.
  public func verify(trustedKeys: [CheckpointVerifierKey]) throws -> VerificationReport {
    try engine.read { tx in
      let rows = try tx.rows("SELECT e.seq, e.leaf_hash, e.chain, b.body FROM log_entry e LEFT JOIN log_body b ON b.seq = e.seq ORDER BY e.seq")
        .map { row -> (seq: Int64, leaf: Data, chain: Data, body: Data?) in
          (try row.get("seq"), try row.get("leaf_hash"), try row.get("chain"), try row.get("body"))
        }
      let checkpoints = try tx.rows("SELECT id, size, note FROM log_checkpoint ORDER BY id").map { row -> (Int64, Int64, String) in
        (try row.get("id"), try row.get("size"), try row.get("note"))
      }
      let orphan = try tx.value(Int64.self, "SELECT min(seq) FROM log_body WHERE seq NOT IN (SELECT seq FROM log_entry)")
      return Self.check(rows: rows, orphanBody: orphan, checkpoints: checkpoints, origin: origin, trustedKeys: trustedKeys)
    }
  }

  static func check(
    rows: [(seq: Int64, leaf: Data, chain: Data, body: Data?)], orphanBody: Int64?,
    checkpoints: [(id: Int64, size: Int64, note: String)], origin: String, trustedKeys: [CheckpointVerifierKey]
  ) -> VerificationReport {
    let purged = rows.filter { $0.body == nil }.count
    func report(_ head: Data, _ failure: LogVerificationFailure?) -> VerificationReport {
      VerificationReport(
        entryCount: rows.count, purgedCount: purged, checkpointCount: checkpoints.count,
        sealedCount: checkpoints.map(\.size).max() ?? 0, head: head, failure: failure)
    }
    // Bodies may be missing only where a logged purge said so.
    var purgedThrough: Int64 = 0
    for row in rows {
      guard let body = row.body, let decoded = try? JSONDecoder().decode(LogBody.self, from: body),
        decoded.operation == purgeOperation, let through = decoded.parameters["through_seq"].flatMap(Int64.init)
      else { continue }
      purgedThrough = max(purgedThrough, min(through, row.seq - 1))
    }
    var previous = genesis
    var heads: [Int64: Data] = [0: genesis]
    var expectedSeq: Int64 = 1
    for row in rows {
      if row.seq != expectedSeq {
        return report(previous, LogVerificationFailure(seq: expectedSeq, checkpoint: nil, reason: "entry missing (deleted)"))
      }
      if let body = row.body {
        guard leafHash(body) == row.leaf else {
          return report(previous, LogVerificationFailure(seq: row.seq, checkpoint: nil, reason: "body does not match its leaf hash (edited)"))
        }
      } else if row.seq > purgedThrough {
        return report(previous, LogVerificationFailure(seq: row.seq, checkpoint: nil, reason: "body missing, and no logged purge covers it"))
      }
      guard chainHash(previous: previous, leaf: row.leaf) == row.chain else {
        return report(previous, LogVerificationFailure(seq: row.seq, checkpoint: nil, reason: "chain does not follow from the previous entry (edited, moved or removed)"))
      }
      previous = row.chain
      heads[row.seq] = row.chain
      expectedSeq += 1
    }
    if let orphanBody {
      return report(previous, LogVerificationFailure(seq: orphanBody, checkpoint: nil, reason: "body without a chain entry"))
    }
    let size = Int64(rows.count)
    for checkpoint in checkpoints {
      guard let note = parseNote(checkpoint.note), note.size == checkpoint.size else {
        return report(previous, LogVerificationFailure(seq: nil, checkpoint: checkpoint.id, reason: "checkpoint malformed"))
      }
      guard note.origin == origin else {
        return report(previous, LogVerificationFailure(seq: nil, checkpoint: checkpoint.id, reason: "checkpoint of another log (\(note.origin))"))
      }
      let signedByTrustedKey = note.signatures.contains { signature in
        trustedKeys.contains { key in
          key.name == signature.name && key.keyID == signature.keyID
            && (key.publicKey.key?.isValidSignature(signature.signature, for: Data(note.text.utf8)) ?? false)
        }
      }
      guard signedByTrustedKey else {
        return report(previous, LogVerificationFailure(seq: nil, checkpoint: checkpoint.id, reason: "checkpoint signature does not verify under a trusted key (forged)"))
      }
      guard note.size <= size else {
        return report(previous, LogVerificationFailure(
          seq: size + 1, checkpoint: checkpoint.id,
          reason: "log truncated: the checkpoint seals \(note.size) entries, the log holds \(size)"))
      }
      guard heads[note.size] == note.head else {
        return report(previous, LogVerificationFailure(
          seq: note.size, checkpoint: checkpoint.id,
          reason: "chain head differs from the signed checkpoint (entries up to \(note.size) were rewritten)"))
      }
    }
    return report(previous, nil)
  }

  struct Note {
    var text: String
    var origin: String
    var size: Int64
    var head: Data
    var signatures: [(name: String, keyID: Data, signature: Data)]
  }

  /// Parses `origin\nsize\nbase64(head)\n\n— name base64(keyID‖sig)\n…`.
  static func parseNote(_ note: String) -> Note? {
    guard let split = note.range(of: "\n\n") else { return nil }
    let text = String(note[..<split.lowerBound]) + "\n"
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    guard lines.count == 3, let size = Int64(lines[1]), size >= 0,
      let head = Data(base64Encoded: String(lines[2])), head.count == 32
    else { return nil }
    var signatures: [(String, Data, Data)] = []
    for line in note[split.upperBound...].split(separator: "\n") {
      let parts = line.split(separator: " ")
      guard parts.count == 3, parts[0] == "\u{2014}", let blob = Data(base64Encoded: String(parts[2])), blob.count == 68
      else { return nil }
      signatures.append((String(parts[1]), Data(blob.prefix(4)), Data(blob.suffix(64))))
    }
    guard !signatures.isEmpty else { return nil }
    return Note(text: text, origin: String(lines[0]), size: size, head: head, signatures: signatures)
  }

  static func leafHash(_ body: Data) -> Data { Data(SHA256.hash(data: Data([0x00]) + body)) }

  static func chainHash(previous: Data, leaf: Data) -> Data { Data(SHA256.hash(data: Data([0x01]) + previous + leaf)) }

  static func negated(_ components: DateComponents) -> DateComponents {
    var result = DateComponents()
    result.year = components.year.map { -$0 }
    result.month = components.month.map { -$0 }
    result.day = components.day.map { -$0 }
    result.hour = components.hour.map { -$0 }
    result.minute = components.minute.map { -$0 }
    result.second = components.second.map { -$0 }
    return result
  }
}
