import Crypto
import Foundation

/// The operations of the consultation log that change the registry (DESIGN.md §8: "every registry row
/// that grants anything follows from logged operations"). Their success entries carry every value the
/// registry stores, so the registry can be rebuilt from the log alone and compared with the database.
enum RegistryOperation: String, CaseIterable {
  case installationCreate = "installation.create"
  case userAdd = "user.add"
  case userDisable = "user.disable"
  case authorise = "authorise"
  case revoke = "authorise.revoke"
  case procedureOpen = "procedure.open"
  case procedureTransfer = "procedure.transfer"
  case procedureClose = "procedure.close"
  /// A procedure of an earlier lrj brought to "sealed at rest": a key pair (its symmetric key left the
  /// registry), its vault sealed (system entry).
  case procedureUpgrade = "procedure.upgrade"
  /// The registry's state written into the log when an installation made by an earlier lrj is upgraded:
  /// its earlier entries do not carry every value (trusted as found at the upgrade).
  case baseline = "registry.baseline"
}

/// The steps of a closure, as logged (`step=`) and as kept in the registry's `closure` table.
enum ClosureStep: String, Codable, Sendable, CaseIterable {
  /// One closer won: the procedure accepts no other operation.
  case claimed
  /// The report is written and its hashes logged.
  case reported
  /// The procedure key is destroyed.
  case keyDestroyed = "key-destroyed"
  /// The vault is erased: the procedure is closed.
  case erased
}

/// What the registry must hold: users, procedures, authorisations and running operations, as
/// the consultation log says they are. Built by ``replay(_:)``; compared with the database by
/// `Installation.registryDisagreements`.
struct RegistryState: Codable, Equatable, Sendable {
  struct User: Codable, Equatable, Sendable {
    var role: String
    var publicKey: String
    var enabled: Bool
    var enrolledBy: String
  }

  struct Procedure: Codable, Equatable, Sendable {
    var kind: String
    /// The magistrate in charge: whose authorisation opened it, or to whom it was transferred.
    var magistrate: String
    var openedBy: String
    /// Nil while open; the last closure step logged.
    var closure: ClosureStep?
    /// The public key everything derived from its footage is sealed to (base64); nil for a procedure of an
    /// earlier lrj not yet given a key pair.
    var sealKey: String?
  }

  struct Grant: Codable, Equatable, Sendable {
    var procedure: String
    var kind: String
    var issuer: String
    var investigators: [String]
    /// Seconds since 1970.
    var notBefore: Int64
    var expires: Int64
    var registeredBy: String?
    var revokedBy: String?
  }

  struct Operation: Codable, Equatable, Sendable {
    var procedure: String?
    var kind: String
    var user: String
    var startedSeq: Int64
    /// Set once its outcome is logged while its last steps remain.
    var outcomeLogged: Bool
  }

  var users: [String: User] = [:]
  var procedures: [String: Procedure] = [:]
  var grants: [String: Grant] = [:]
  var operations: [String: Operation] = [:]

  /// The canonical JSON of the state (sorted keys), as a snapshot entry carries it.
  func snapshot() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
  }

  /// Parameter names of a snapshot: the state, and the last entry it covers.
  static let snapshotParameter = "registry-state"
  static let throughParameter = "through_seq"

  /// Replays the log: starts from the latest snapshot whose body is kept (a purge's or an upgrade's) and
  /// applies every later entry in order.
  static func replay(_ entries: [(seq: Int64, entry: LogEntry?)], installation: String) -> RegistryState {
    var state = RegistryState()
    var from: Int64 = 0
    var snapshotSeq: Int64?
    for (seq, entry) in entries.reversed() {
      guard let entry, let text = entry.parameters[snapshotParameter], entry.outcome == .success,
        let through = entry.parameters[throughParameter].flatMap(Int64.init),
        let decoded = try? JSONDecoder().decode(RegistryState.self, from: Data(text.utf8))
      else { continue }
      state = decoded
      from = through
      snapshotSeq = seq
      break
    }
    for (seq, entry) in entries where seq > from && seq != snapshotSeq {
      guard let entry else { continue }
      state.apply(entry, seq: seq, installation: installation)
    }
    return state
  }

  /// Applies one entry.
  mutating func apply(_ entry: LogEntry, seq: Int64, installation: String) {
    let p = entry.parameters
    if let id = p[OperationParameter.id] {
      if entry.outcome == .started {
        operations[id] = Operation(procedure: entry.procedure, kind: entry.operation, user: entry.user, startedSeq: seq,
                                   outcomeLogged: false)
      } else if p[OperationParameter.continues] != "true" {
        if p["finishing"] == "true" { operations[id]?.outcomeLogged = true } else { operations[id] = nil }
      }
    }
    guard let operation = RegistryOperation(rawValue: entry.operation) else { return }
    // A closure's claim is its started entry; every other change is a success.
    guard entry.outcome == .success || (operation == .procedureClose && entry.outcome == .started) else { return }
    switch operation {
    case .installationCreate:
      if let key = p["key"] {
        users[entry.user] = User(role: Role.administrator.rawValue, publicKey: key, enabled: true, enrolledBy: entry.user)
      }
    case .userAdd:
      if let user = p["user"], let role = p["role"], let key = p["key"] {
        users[user] = User(role: role, publicKey: key, enabled: true, enrolledBy: entry.user)
      }
    case .userDisable:
      if let user = p["user"] { users[user]?.enabled = false }
    case .authorise:
      if let jti = p["token"], let procedure = entry.procedure, let grant = Self.grant(p, procedure: procedure, issuer: entry.user) {
        grants[jti] = grant
      }
    case .revoke:
      if let jti = p["token"] { grants[jti]?.revokedBy = entry.user }
    case .procedureOpen:
      guard let jti = p["token"], let procedure = entry.procedure, let issuer = p["issuer"] else { return }
      if grants[jti] == nil, let grant = Self.grant(p, procedure: procedure, issuer: issuer) { grants[jti] = grant }
      grants[jti]?.registeredBy = entry.user
      if p["new"] == "true", let kind = p["kind"] {
        procedures[procedure] = Procedure(kind: kind, magistrate: issuer, openedBy: entry.user, closure: nil, sealKey: p["seal-key"])
      }
    case .procedureUpgrade:
      if let procedure = entry.procedure, let key = p["seal-key"] { procedures[procedure]?.sealKey = key }
    case .procedureTransfer:
      // Only a hand-over signed by the user who logged it moves the charge.
      guard let procedure = entry.procedure, let from = p["from"], let to = p["to"],
        let signature = p["signature"].flatMap({ Data(base64Encoded: $0) }),
        let raw = users[entry.user].flatMap({ Data(base64Encoded: $0.publicKey) }),
        let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
        key.isValidSignature(
          signature,
          for: Data(Installation.transferStatement(
            installation: installation, procedure: procedure, from: from, to: to,
            timeMs: Int64((entry.time.timeIntervalSince1970 * 1000).rounded())).utf8))
      else { return }
      procedures[procedure]?.magistrate = to
    case .procedureClose:
      // A closure never goes back: a retry that resumed behind the log (its row edited) is named by the audit.
      if let procedure = entry.procedure, let step = p["step"].flatMap(ClosureStep.init(rawValue:)) {
        let before = procedures[procedure]?.closure ?? step
        procedures[procedure]?.closure = max(step, before)
      }
    case .baseline:
      break  // a snapshot: replay starts from it
    }
  }

  /// The authorisation an `authorise` or `procedure.open` entry describes.
  static func grant(_ p: [String: String], procedure: String, issuer: String) -> Grant? {
    guard let kind = p["kind"], let investigators = p["investigators"], let from = p["from"].flatMap(AuthorisationClaims.parse),
      let until = p["until"].flatMap(AuthorisationClaims.parse)
    else { return nil }
    return Grant(
      procedure: procedure, kind: kind, issuer: issuer,
      investigators: investigators.split(separator: ",").map(String.init),
      notBefore: Int64(from.timeIntervalSince1970.rounded(.down)), expires: Int64(until.timeIntervalSince1970.rounded(.down)),
      registeredBy: nil, revokedBy: nil)
  }

  /// The parameters that describe an authorisation, as `grant(_:procedure:issuer:)` reads them.
  static func grantParameters(_ claims: AuthorisationClaims) -> [String: String] {
    ["kind": claims.kind.rawValue, "investigators": claims.investigators.joined(separator: ","),
     "from": AuthorisationClaims.format(claims.nbf), "until": AuthorisationClaims.format(claims.exp)]
  }

  /// Every difference between `self` (what the log says) and `stored` (the registry), one line each,
  /// naming the row and the values.
  func differences(from stored: RegistryState) -> [String] {
    var lines: [String] = []
    func compare<V: Equatable>(_ what: String, _ logged: [String: V], _ found: [String: V], describe: (V) -> String) {
      for key in Set(logged.keys).union(found.keys).sorted() {
        switch (logged[key], found[key]) {
        case (nil, let found?):
          lines.append("\(what) \(key) is in the registry (\(describe(found))) but no logged operation made it (inserted)")
        case (let logged?, nil):
          lines.append("\(what) \(key) (\(describe(logged))) is missing from the registry (deleted)")
        case (let logged?, let found?) where logged != found:
          lines.append("\(what) \(key) differs from the log (edited): the registry holds \(describe(found)), the log says \(describe(logged))")
        default: break
        }
      }
    }
    compare("user", users, stored.users) { "role \($0.role), \($0.enabled ? "enabled" : "disabled"), enrolled by \($0.enrolledBy), key \($0.publicKey.prefix(12))…" }
    compare("procedure", procedures, stored.procedures) {
      "kind \($0.kind), magistrate in charge \($0.magistrate), opened by \($0.openedBy), \($0.closure.map { "closure \($0.rawValue)" } ?? "open"), "
        + "sealing key \($0.sealKey.map { "\($0.prefix(12))…" } ?? "none")"
    }
    compare("authorisation", grants, stored.grants) {
      "procedure \($0.procedure), \($0.kind), issued by \($0.issuer) for \($0.investigators.joined(separator: ",")), "
        + "valid \(AuthorisationClaims.format(Date(timeIntervalSince1970: Double($0.notBefore)))) to "
        + "\(AuthorisationClaims.format(Date(timeIntervalSince1970: Double($0.expires)))), "
        + "\($0.registeredBy.map { "presented by \($0)" } ?? "not presented")\($0.revokedBy.map { ", revoked by \($0)" } ?? "")"
    }
    // An operation whose outcome is logged leaves the table when its last steps are done, unlogged.
    let pending = operations.filter { !$0.value.outcomeLogged || stored.operations[$0.key] != nil }
    compare("running operation", pending, stored.operations) {
      "\($0.kind) by \($0.user) started at entry \($0.startedSeq)\($0.outcomeLogged ? ", outcome logged" : "")"
    }
    return lines
  }
}
