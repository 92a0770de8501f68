import Crypto
import Foundation
import Store

/// Who may act on a procedure as a magistrate (DESIGN.md §8 "Magistrate in charge"), and the
/// registry operations that grant or take away access: authorise, revoke, open, transfer.
///
/// Each decision is taken inside the registry transaction that writes its result, so two processes
/// cannot both win; a refusal rolls that transaction back and is then logged on its own.
extension Installation {
  /// Why a registry operation was refused (logged, then thrown as an `InstallationError`).
  struct Refusal: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
  }

  /// Runs `body` in a write transaction; a `Refusal` it throws is logged as a refused `operation` of
  /// `identity` (in a transaction of its own) and thrown as an `InstallationError`.
  func decide<T>(
    _ operation: String, procedure: String?, parameters: [String: String], by identity: Identity, now: Date,
    _ body: (any StoreTransaction) throws -> T
  ) throws -> T {
    do {
      return try registry.write { try body($0) }
    } catch let refusal as Refusal {
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: operation,
                 parameters: parameters.merging(["reason": refusal.reason]) { $1 }, outcome: .refused))
      throw InstallationError("\(operation == RegistryOperation.authorise.rawValue ? "authorise: " : "")\(refusal.reason)")
    }
  }

  /// Checks that every named investigator is an enrolled, enabled investigator.
  func requireInvestigators(_ investigators: [String], in tx: any StoreTransaction) throws {
    for investigator in investigators {
      let role = try tx.value(String.self, "SELECT role FROM \"user\" WHERE id = ? AND enabled = 1", investigator)
      guard role == Role.investigator.rawValue else {
        throw Refusal("\(investigator) is not an enrolled, enabled investigator")
      }
    }
  }

  /// Refuses unless `magistrate` may act on the existing procedure `record` as its magistrate.
  static func requireCharge(_ record: ProcedureRecord, magistrate: String) throws {
    guard record.magistrate == magistrate else {
      throw Refusal("procedure \(record.id) is in the charge of magistrate \(record.magistrate); only they or the controller "
                    + "act on it (the magistrate in charge hands it over with lrj procedure transfer)")
    }
  }

  /// A magistrate authorises a procedure (L1, L2): a PASETO v4.public token for this installation,
  /// naming the investigators, valid from `notBefore` to `expires`. The issue is recorded and logged.
  /// A token for an existing procedure is refused unless its signer is the magistrate in charge.
  /// Signing grants nothing until the token is presented (`openProcedure`).
  /// - Throws: `InstallationError` for other roles, unknown investigators, bad dates, or a procedure in
  ///   another magistrate's charge (refusal logged).
  public func authorise(
    procedure: String, kind: ProcedureKind, investigators: [String], notBefore: Date, expires: Date,
    by magistrate: Identity, now: Date = Date()
  ) throws -> (token: String, claims: AuthorisationClaims) {
    let parameters = ["kind": kind.rawValue, "investigators": investigators.joined(separator: ","),
                      "until": AuthorisationClaims.format(expires)]
    return try decide(RegistryOperation.authorise.rawValue, procedure: procedure, parameters: parameters, by: magistrate, now: now) { tx in
      guard magistrate.role == .magistrate else {
        throw Refusal("only a magistrate authorises; \(magistrate.user) is \(magistrate.role.rawValue)")
      }
      do { try ProcedureWorkspace.validateID(procedure) } catch { throw Refusal(String(describing: error)) }
      guard !investigators.isEmpty else { throw Refusal("name at least one investigator") }
      guard expires > notBefore, expires > now else { throw Refusal("the authorisation must end after it starts and in the future") }
      try requireInvestigators(investigators, in: tx)
      if let existing = try ProcedureRegistry.procedure(procedure, in: tx) {
        guard !existing.isClosed else { throw Refusal("procedure \(procedure) is closed") }
        guard !existing.isClosing else { throw Refusal("procedure \(procedure) is being closed") }
        try Self.requireCharge(existing, magistrate: magistrate.user)
      }
      let claims = AuthorisationClaims(
        installation: id, procedure: procedure, kind: kind, investigators: investigators, issuer: magistrate.user,
        notBefore: notBefore, expires: expires, issuedAt: now)
      let token = try Authorisation.issue(claims, key: magistrate.signingKey)
      try tx.execute("INSERT INTO authorisation(jti, procedure, kind, issuer, investigators, nbf, exp, iat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", claims.jti, procedure, kind.rawValue, magistrate.user, try Self.json(investigators),
                    claims.nbf.timeIntervalSince1970, claims.exp.timeIntervalSince1970, claims.iat.timeIntervalSince1970)
      try log.append(
        LogEntry(time: now, user: magistrate.user, role: magistrate.role.rawValue, procedure: procedure,
                 operation: RegistryOperation.authorise.rawValue,
                 parameters: RegistryState.grantParameters(claims).merging(["token": claims.jti]) { $1 }, outcome: .success),
        in: tx)
      return (token, claims)
    }
  }

  /// Revokes a token: the magistrate in charge of its procedure or the controller (its signer, while it
  /// has not been presented); every later use of it is refused.
  public func revoke(tokenID: String, by identity: Identity, now: Date = Date()) throws {
    let known = try registry.read { tx in
      try ProcedureRegistry.authorisations(procedure: nil, in: tx).first { $0.record.tokenID == tokenID }?.record.procedure
    }
    try decide(RegistryOperation.revoke.rawValue, procedure: known, parameters: ["token": tokenID], by: identity, now: now) { tx in
      guard let record = try ProcedureRegistry.authorisations(procedure: nil, in: tx).first(where: { $0.record.tokenID == tokenID })?.record
      else { throw Refusal("no authorisation \(tokenID)") }
      guard record.revokedAt == nil else { throw Refusal("authorisation \(tokenID) is already revoked") }
      let procedure = try ProcedureRegistry.procedure(record.procedure, in: tx)
      let allowed = identity.role == .controller
        || (identity.role == .magistrate && (procedure.map { $0.magistrate == identity.user } ?? (record.issuer == identity.user)))
      guard allowed else {
        throw Refusal("only the magistrate in charge of procedure \(record.procedure) or the controller may revoke authorisation \(tokenID)")
      }
      try tx.execute("UPDATE authorisation SET revoked_at = ?, revoked_by = ? WHERE jti = ?", now.timeIntervalSince1970, identity.user, tokenID)
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: record.procedure,
                 operation: RegistryOperation.revoke.rawValue, parameters: ["token": tokenID], outcome: .success), in: tx)
    }
  }

  /// Registers a magistrate's token: the first time, the procedure (in the charge of the token's signer)
  /// and its vault, with a fresh procedure key, wrapped; later tokens for the same procedure, signed by the
  /// magistrate in charge, extend or renew it. The user must be an investigator the token names, and every
  /// investigator it names must be enrolled and enabled. A token is presented once; a token id used by
  /// another authorisation is refused and nothing is overwritten. A validly signed token that was not issued
  /// through `authorise` (signed offline) is recorded here, with every claim in the log entry.
  /// - Returns: the procedure and the claims.
  public func openProcedure(token: String, by identity: Identity, now: Date = Date()) throws -> (ProcedureRecord, AuthorisationClaims) {
    let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
    let hint = Authorisation.procedureHint(token)
    let operation = RegistryOperation.procedureOpen.rawValue
    let kek = try keyEncryptionKey()
    let (record, claims) = try decide(operation, procedure: hint, parameters: [:], by: identity, now: now) { tx -> (ProcedureRecord, AuthorisationClaims) in
      guard identity.role == .investigator else {
        throw Refusal("procedure open is for investigators; \(identity.user) is \(identity.role.rawValue)")
      }
      guard let procedure = hint, (try? ProcedureWorkspace.validateID(procedure)) != nil else {
        throw Refusal("authorisation refused: not an lrj authorisation token (no procedure in its footer)")
      }
      let revoked = Set(try tx.values(String.self, "SELECT jti FROM authorisation WHERE revoked_at IS NOT NULL"))
      let claims: AuthorisationClaims
      do {
        claims = try Authorisation.verify(
          token, publicKeyLookup: { try? self.magistrateKey($0, in: tx) }, installation: id, procedure: procedure, now: now,
          revoked: revoked)
      } catch {
        throw Refusal(String(describing: error))
      }
      guard claims.names(identity.user) else { throw Refusal(AuthorisationError.investigatorNotNamed(identity.user).description) }
      do { try requireInvestigators(claims.investigators, in: tx) } catch let refusal as Refusal {
        throw Refusal("authorisation refused: it names \(refusal.reason)")
      }
      let known = try ProcedureRegistry.authorisations(procedure: nil, in: tx).first { $0.record.tokenID == claims.jti }?.record
      if let known {
        guard known.procedure == procedure, known.issuer == claims.iss else {
          throw Refusal("authorisation refused: token id \(claims.jti) is already used by another authorisation "
                        + "(of procedure \(known.procedure)); token ids are unique in an installation")
        }
        guard known.registeredAt == nil else { throw Refusal("authorisation \(claims.jti) has already been presented (a token opens once)") }
        guard known.kind == claims.kind, known.investigators == claims.investigators, known.expires == claims.exp,
          known.notBefore == claims.nbf
        else { throw Refusal("authorisation refused: the registry's record of token \(claims.jti) differs from the token") }
      }
      let existing = try ProcedureRegistry.procedure(procedure, in: tx)
      if let existing {
        guard !existing.isClosed else { throw Refusal("procedure \(procedure) is closed and erased") }
        guard !existing.isClosing else { throw Refusal("procedure \(procedure) is being closed") }
        guard existing.magistrate == claims.iss else {
          throw Refusal("authorisation refused: signed by \(claims.iss), but procedure \(procedure) is in the charge of magistrate "
                        + "\(existing.magistrate) (a hand-over is lrj procedure transfer, by the magistrate in charge or the controller)")
        }
      }
      var sealKey: Data?
      if existing == nil {
        // Written while this transaction holds the registry's write lock: no other open of the same id
        // interleaves, and a leftover of an attempt that never committed is replaced.
        sealKey = try procedureKeys.create(procedure: procedure, kek: kek).rawRepresentation
        try tx.execute("INSERT INTO procedure(id, kind, opened_at, opened_by, status, public_key, magistrate) VALUES (?, ?, ?, ?, 'open', ?, ?)", procedure, claims.kind.rawValue, now.timeIntervalSince1970, identity.user, sealKey!, claims.iss)
      }
      if known == nil {
        try tx.execute("INSERT INTO authorisation(jti, procedure, kind, issuer, investigators, nbf, exp, iat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", claims.jti, procedure, claims.kind.rawValue, claims.iss, try Self.json(claims.investigators),
                      claims.nbf.timeIntervalSince1970, claims.exp.timeIntervalSince1970, claims.iat.timeIntervalSince1970)
      }
      try tx.execute("UPDATE authorisation SET token = ?, registered_at = ?, registered_by = ? WHERE jti = ?", token, now.timeIntervalSince1970, identity.user, claims.jti)
      var parameters = RegistryState.grantParameters(claims)
      parameters["token"] = claims.jti
      parameters["issuer"] = claims.iss
      parameters["new"] = String(existing == nil)
      if let sealKey { parameters["seal-key"] = sealKey.base64EncodedString() }
      parameters["issued"] = known == nil ? "offline (recorded at open)" : "here"
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: operation,
                 parameters: parameters, outcome: .success), in: tx)
      return (try ProcedureRegistry.procedure(procedure, in: tx)!, claims)
    }
    do {
      _ = try ProcedureWorkspace(id: record.id, indexes: indexes, create: true)
    } catch {
      throw InstallationError("procedure \(record.id) registered, but its vault cannot be created: \(error)")
    }
    try sealCheckpoint(by: identity, now: now)
    return (record, claims)
  }

  /// Hands a procedure over to another magistrate (a prosecutor to an investigating judge): by the
  /// magistrate in charge or the controller; logged with the acting user's signature over the hand-over.
  /// The magistrate who handed it over no longer acts on it.
  public func transfer(procedure: String, to magistrate: String, by identity: Identity, now: Date = Date()) throws {
    let operation = RegistryOperation.procedureTransfer.rawValue
    try decide(operation, procedure: procedure, parameters: ["to": magistrate], by: identity, now: now) { tx in
      guard let record = try ProcedureRegistry.procedure(procedure, in: tx) else { throw Refusal("no procedure \(procedure)") }
      guard !record.isClosed, !record.isClosing else { throw Refusal("procedure \(procedure) is closed or being closed") }
      switch identity.role {
      case .controller: break
      case .magistrate: try Self.requireCharge(record, magistrate: identity.user)
      default: throw Refusal("a procedure is handed over by its magistrate in charge or the controller; \(identity.user) is \(identity.role.rawValue)")
      }
      guard magistrate != record.magistrate else { throw Refusal("\(magistrate) is already in charge of procedure \(procedure)") }
      guard try magistrateKey(magistrate, in: tx) != nil else { throw Refusal("\(magistrate) is not an enrolled, enabled magistrate") }
      let statement = Self.transferStatement(
        installation: id, procedure: procedure, from: record.magistrate, to: magistrate,
        timeMs: Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))
      let signature = try identity.signingKey.key.signature(for: Data(statement.utf8))
      try tx.execute("UPDATE procedure SET magistrate = ? WHERE id = ?", magistrate, procedure)
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: operation,
                 parameters: ["from": record.magistrate, "to": magistrate, "signature": signature.base64EncodedString()],
                 outcome: .success), in: tx)
    }
  }

  /// The text a hand-over's signature covers.
  static func transferStatement(installation: String, procedure: String, from: String, to: String, timeMs: Int64) -> String {
    "lrj procedure transfer\n\(installation)\n\(procedure)\n\(from)\n\(to)\n\(timeMs)\n"
  }

  /// The procedures `identity` may see: an investigator's (named in a presented token), a magistrate's
  /// (in their charge), every one for the controller, none for the administrator.
  public func procedures(visibleTo identity: Identity) throws -> [(procedure: ProcedureRecord, authorisations: [AuthorisationRecord])] {
    try registry.read { tx in
      try tx.rows("\(ProcedureRegistry.select) ORDER BY p.opened_at, p.id").map { try ProcedureRegistry.record($0) }.compactMap { procedure in
        let authorisations = try ProcedureRegistry.authorisations(procedure: procedure.id, in: tx).map(\.record)
        let visible: Bool = switch identity.role {
        case .controller: true
        case .administrator, .worker: false
        case .magistrate: procedure.magistrate == identity.user
        case .investigator: authorisations.contains { $0.registeredAt != nil && $0.investigators.contains(identity.user) }
        }
        return visible ? (procedure, authorisations) : nil
      }
    }
  }

  static func json(_ strings: [String]) throws -> String { String(decoding: try JSONEncoder().encode(strings), as: UTF8.self) }

  /// A list as a JSON array (without escaped slashes), for a log parameter.
  static func jsonList(_ strings: [String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(strings)) ?? Data("[]".utf8), as: UTF8.self)
  }
}
