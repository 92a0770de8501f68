import Crypto
import Foundation
import GRDB

/// A procedure as the registry knows it.
public struct ProcedureRecord: Sendable, Codable, Equatable {
  public var id: String
  public var kind: ProcedureKind
  public var openedAt: Date
  public var openedBy: String
  /// `open` or `closed` (closed procedures are erased).
  public var status: String
  public var closedAt: Date?
  public var closedBy: String?

  /// Whether the procedure has been closed (and its data erased).
  public var isClosed: Bool { status == "closed" }
}

/// An authorisation registered for a procedure (L2: it is recorded).
public struct AuthorisationRecord: Sendable, Codable, Equatable {
  public var tokenID: String
  public var procedure: String
  public var kind: ProcedureKind
  public var issuer: String
  public var investigators: [String]
  public var notBefore: Date
  public var expires: Date
  public var issuedAt: Date
  /// Set once the token was presented with `procedure open`.
  public var registeredAt: Date?
  public var registeredBy: String?
  public var revokedAt: Date?
  public var revokedBy: String?
}

/// The registry's procedure tables: procedures (with their wrapped keys), the authorisations
/// magistrates issued, and revocations.
enum ProcedureRegistry {
  static func createSchema(in db: Database) throws {
    try db.execute(
      sql: """
        CREATE TABLE procedure(
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          opened_at REAL NOT NULL,
          opened_by TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
          closed_at REAL,
          closed_by TEXT,
          wrapped_key BLOB
        ) STRICT;
        CREATE TABLE authorisation(
          jti TEXT PRIMARY KEY CHECK (length(jti) = 32),
          procedure TEXT NOT NULL,
          kind TEXT NOT NULL,
          issuer TEXT NOT NULL,
          investigators TEXT NOT NULL,
          nbf REAL NOT NULL,
          exp REAL NOT NULL,
          iat REAL NOT NULL,
          token TEXT,
          registered_at REAL,
          registered_by TEXT,
          revoked_at REAL,
          revoked_by TEXT
        ) STRICT;
        CREATE INDEX authorisation_procedure ON authorisation(procedure);
        CREATE TABLE maintenance(task TEXT PRIMARY KEY, last_run REAL NOT NULL) STRICT;
        """)
  }

  static func procedure(_ id: String, in db: Database) throws -> ProcedureRecord? {
    try Row.fetchOne(db, sql: "SELECT * FROM procedure WHERE id = ?", arguments: [id]).map(record)
  }

  static func record(_ row: Row) -> ProcedureRecord {
    ProcedureRecord(
      id: row["id"], kind: ProcedureKind(rawValue: row["kind"]) ?? .preliminary,
      openedAt: Date(timeIntervalSince1970: row["opened_at"]), openedBy: row["opened_by"], status: row["status"],
      closedAt: (row["closed_at"] as Double?).map(Date.init(timeIntervalSince1970:)), closedBy: row["closed_by"])
  }

  static func authorisations(procedure: String?, in db: Database) throws -> [(record: AuthorisationRecord, token: String?)] {
    let rows = try procedure.map {
      try Row.fetchAll(db, sql: "SELECT * FROM authorisation WHERE procedure = ? ORDER BY iat, jti", arguments: [$0])
    } ?? Row.fetchAll(db, sql: "SELECT * FROM authorisation ORDER BY iat, jti")
    return rows.map { row in
      let investigators = (try? JSONDecoder().decode([String].self, from: Data((row["investigators"] as String).utf8))) ?? []
      func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
      return (
        AuthorisationRecord(
          tokenID: row["jti"], procedure: row["procedure"], kind: ProcedureKind(rawValue: row["kind"]) ?? .preliminary,
          issuer: row["issuer"], investigators: investigators, notBefore: date("nbf")!, expires: date("exp")!,
          issuedAt: date("iat")!, registeredAt: date("registered_at"), registeredBy: row["registered_by"],
          revokedAt: date("revoked_at"), revokedBy: row["revoked_by"]),
        row["token"]
      )
    }
  }
}

/// The procedure key: 256 random bits, kept only wrapped (AES-GCM) under the installation's
/// key-encryption key, and destroyed at closure (crypto-erase).
struct ProcedureKey: Sendable {
  /// The 32 key bytes.
  private let raw: Data
  private var key: SymmetricKey { SymmetricKey(data: raw) }

  private init(raw: Data) { self.raw = raw }

  static func generate() -> ProcedureKey { ProcedureKey(raw: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }) }

  static func associatedData(installation: String, procedure: String) -> Data {
    Data("lrj procedure key\u{0}\(installation)\u{0}\(procedure)".utf8)
  }

  func wrapped(with kek: SymmetricKey, installation: String, procedure: String) throws -> Data {
    guard let combined = try AES.GCM.seal(raw, using: kek, authenticating: Self.associatedData(installation: installation, procedure: procedure)).combined
    else { throw InstallationError("cannot wrap the procedure key") }
    return combined
  }

  static func unwrap(_ wrapped: Data, with kek: SymmetricKey, installation: String, procedure: String) throws -> ProcedureKey {
    do {
      let box = try AES.GCM.SealedBox(combined: wrapped)
      let raw = try AES.GCM.open(box, using: kek, authenticating: associatedData(installation: installation, procedure: procedure))
      return ProcedureKey(raw: raw)
    } catch {
      throw InstallationError("the key of procedure \(procedure) cannot be unwrapped (wrong installation key or altered registry)")
    }
  }

  /// Seals bytes derived from footage; `context` names what they are (for example the track id).
  func seal(_ data: Data, procedure: String, context: String) throws -> Data {
    guard let combined = try AES.GCM.seal(data, using: key, authenticating: Self.objectData(procedure, context)).combined
    else { throw InstallationError("cannot seal \(context)") }
    return combined
  }

  func open(_ sealed: Data, procedure: String, context: String) throws -> Data {
    do {
      return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Self.objectData(procedure, context))
    } catch {
      throw ProcedureError("sealed data of \(context) in procedure \(procedure) does not open (altered or moved)")
    }
  }

  static func objectData(_ procedure: String, _ context: String) -> Data {
    Data("lrj sealed\u{0}\(procedure)\u{0}\(context)".utf8)
  }
}

extension Installation {
  /// The installation's key-encryption key (`keys/kek`).
  func keyEncryptionKey() throws -> SymmetricKey {
    let url = home.appendingPathComponent("keys/kek")
    guard let data = FileManager.default.contents(atPath: url.path), data.count == 32 else {
      throw InstallationError("cannot read the installation key \(url.path)")
    }
    return SymmetricKey(data: data)
  }

  /// The enrolled, enabled magistrate's public key for `user`, or nil.
  func magistrateKey(_ user: String, in db: Database) throws -> PasetoV4PublicKey? {
    guard
      let row = try Row.fetchOne(
        db, sql: "SELECT public_key FROM user WHERE id = ? AND role = 'magistrate' AND enabled = 1", arguments: [user]),
      let raw = Data(base64Encoded: row["public_key"] as String)
    else { return nil }
    return try? PasetoV4PublicKey(rawRepresentation: raw)
  }

  /// A magistrate authorises a procedure (L1, L2): a PASETO v4.public token for this installation,
  /// naming the investigators, valid from `notBefore` to `expires`. The issue is recorded and logged.
  /// - Throws: `InstallationError` for other roles, unknown investigators or bad dates (refusal logged).
  public func authorise(
    procedure: String, kind: ProcedureKind, investigators: [String], notBefore: Date, expires: Date,
    by magistrate: Identity, now: Date = Date()
  ) throws -> (token: String, claims: AuthorisationClaims) {
    let parameters = ["kind": kind.rawValue, "investigators": investigators.joined(separator: ","),
                      "until": AuthorisationClaims.format(expires)]
    func refuse(_ reason: String) throws -> Never {
      try log.append(
        LogEntry(time: now, user: magistrate.user, role: magistrate.role.rawValue, procedure: procedure,
                 operation: "authorise", parameters: parameters.merging(["reason": reason]) { $1 }, outcome: .refused))
      throw InstallationError("authorise: \(reason)")
    }
    guard magistrate.role == .magistrate else { try refuse("only a magistrate authorises; \(magistrate.user) is \(magistrate.role.rawValue)") }
    try ProcedureWorkspace.validateID(procedure)
    guard !investigators.isEmpty else { try refuse("name at least one investigator") }
    guard expires > notBefore, expires > now else { try refuse("the authorisation must end after it starts and in the future") }
    let enrolled = try users()
    for investigator in investigators {
      guard enrolled.contains(where: { $0.id == investigator && $0.role == .investigator && $0.enabled }) else {
        try refuse("\(investigator) is not an enrolled, enabled investigator")
      }
    }
    if let existing = try registry.read({ try ProcedureRegistry.procedure(procedure, in: $0) }), existing.isClosed {
      try refuse("procedure \(procedure) is closed")
    }
    let claims = AuthorisationClaims(
      installation: id, procedure: procedure, kind: kind, investigators: investigators, issuer: magistrate.user,
      notBefore: notBefore, expires: expires, issuedAt: now)
    let token = try Authorisation.issue(claims, key: magistrate.signingKey)
    let investigatorsJSON = String(decoding: try JSONEncoder().encode(investigators), as: UTF8.self)
    try registry.write { db in
      try db.execute(
        sql: "INSERT INTO authorisation(jti, procedure, kind, issuer, investigators, nbf, exp, iat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        arguments: [claims.jti, procedure, kind.rawValue, magistrate.user, investigatorsJSON,
                    claims.nbf.timeIntervalSince1970, claims.exp.timeIntervalSince1970, claims.iat.timeIntervalSince1970])
      try log.append(
        LogEntry(time: now, user: magistrate.user, role: magistrate.role.rawValue, procedure: procedure,
                 operation: "authorise", parameters: parameters.merging(["token": claims.jti]) { $1 }, outcome: .success),
        in: db)
    }
    return (token, claims)
  }

  /// Revokes a token (its issuer or the controller); every later use of it is refused.
  public func revoke(tokenID: String, by identity: Identity, now: Date = Date()) throws {
    let record = try registry.read { db in
      try ProcedureRegistry.authorisations(procedure: nil, in: db).first { $0.record.tokenID == tokenID }?.record
    }
    let allowed = identity.role == .controller || (identity.role == .magistrate && record?.issuer == identity.user)
    guard let record, allowed, record.revokedAt == nil else {
      let reason = record == nil ? "no authorisation \(tokenID)"
        : record?.revokedAt != nil ? "authorisation \(tokenID) is already revoked"
        : "only its issuing magistrate or the controller may revoke authorisation \(tokenID)"
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: record?.procedure,
                 operation: "authorise.revoke", parameters: ["token": tokenID, "reason": reason], outcome: .refused))
      throw InstallationError(reason)
    }
    try registry.write { db in
      try db.execute(sql: "UPDATE authorisation SET revoked_at = ?, revoked_by = ? WHERE jti = ?",
                     arguments: [now.timeIntervalSince1970, identity.user, tokenID])
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: record.procedure,
                 operation: "authorise.revoke", parameters: ["token": tokenID], outcome: .success), in: db)
    }
  }

  /// Registers a magistrate's token: the first time, the procedure and its vault (with a fresh
  /// procedure key, wrapped); later tokens for the same procedure extend or renew it. The user
  /// must be an investigator the token names. A token can be presented once.
  /// - Returns: the procedure and the claims.
  public func openProcedure(token: String, by identity: Identity, now: Date = Date()) throws -> (ProcedureRecord, AuthorisationClaims) {
    let hint = Authorisation.procedureHint(token.trimmingCharacters(in: .whitespacesAndNewlines))
    func refuse(_ reason: String) throws -> Never {
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: hint,
                 operation: "procedure.open", parameters: ["reason": reason], outcome: .refused))
      throw InstallationError(reason)
    }
    let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
    guard identity.role == .investigator else { try refuse("procedure open is for investigators; \(identity.user) is \(identity.role.rawValue)") }
    guard let procedure = hint, (try? ProcedureWorkspace.validateID(procedure)) != nil else {
      try refuse("authorisation refused: not an lrj authorisation token (no procedure in its footer)")
    }
    let claims: AuthorisationClaims
    let known: AuthorisationRecord?
    do {
      (claims, known) = try registry.read { db in
        let revoked = Set(try String.fetchAll(db, sql: "SELECT jti FROM authorisation WHERE revoked_at IS NOT NULL"))
        let keys = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id FROM user").map { row -> (String, PasetoV4PublicKey?) in
          let user: String = row["id"]
          return (user, try magistrateKey(user, in: db))
        })
        let claims = try Authorisation.verify(
          token, publicKeyLookup: { keys[$0] ?? nil }, installation: id, procedure: procedure, now: now, revoked: revoked)
        let known = try ProcedureRegistry.authorisations(procedure: procedure, in: db).first { $0.record.tokenID == claims.jti }?.record
        return (claims, known)
      }
    } catch let error as AuthorisationError {
      try refuse(error.description)
    }
    guard claims.names(identity.user) else { try refuse(AuthorisationError.investigatorNotNamed(identity.user).description) }
    if known?.registeredAt != nil { try refuse("authorisation \(claims.jti) has already been presented (a token opens once)") }
    let kek = try keyEncryptionKey()
    let investigatorsJSON = String(decoding: try JSONEncoder().encode(claims.investigators), as: UTF8.self)
    let record: ProcedureRecord = try registry.write { db in
      if let existing = try ProcedureRegistry.procedure(procedure, in: db) {
        guard !existing.isClosed else { throw InstallationError("procedure \(procedure) is closed and erased") }
      } else {
        let wrapped = try ProcedureKey.generate().wrapped(with: kek, installation: id, procedure: procedure)
        try db.execute(
          sql: "INSERT INTO procedure(id, kind, opened_at, opened_by, status, wrapped_key) VALUES (?, ?, ?, ?, 'open', ?)",
          arguments: [procedure, claims.kind.rawValue, now.timeIntervalSince1970, identity.user, wrapped])
      }
      try db.execute(
        sql: """
          INSERT INTO authorisation(jti, procedure, kind, issuer, investigators, nbf, exp, iat, token, registered_at, registered_by)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT(jti) DO UPDATE SET token = excluded.token, registered_at = excluded.registered_at,
            registered_by = excluded.registered_by
          """,
        arguments: [claims.jti, procedure, claims.kind.rawValue, claims.iss, investigatorsJSON,
                    claims.nbf.timeIntervalSince1970, claims.exp.timeIntervalSince1970, claims.iat.timeIntervalSince1970,
                    token, now.timeIntervalSince1970, identity.user])
      try log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: "procedure.open",
                 parameters: ["token": claims.jti, "issuer": claims.iss, "kind": claims.kind.rawValue], outcome: .success),
        in: db)
      return try ProcedureRegistry.procedure(procedure, in: db)!
    }
    do {
      _ = try ProcedureWorkspace(id: procedure, home: home, create: true)
    } catch {
      throw InstallationError("procedure \(procedure) registered, but its vault cannot be created: \(error)")
    }
    try sealCheckpoint(by: identity, now: now)
    return (record, claims)
  }

  /// The procedures `identity` may see: an investigator's (named in a registered token), a
  /// magistrate's (authorised by them), every one for the controller, none for the administrator.
  public func procedures(visibleTo identity: Identity) throws -> [(procedure: ProcedureRecord, authorisations: [AuthorisationRecord])] {
    try registry.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM procedure ORDER BY opened_at, id").map(ProcedureRegistry.record).compactMap { procedure in
        let authorisations = try ProcedureRegistry.authorisations(procedure: procedure.id, in: db).map(\.record)
        let visible: Bool = switch identity.role {
        case .controller: true
        case .administrator: false
        case .magistrate: authorisations.contains { $0.issuer == identity.user }
        case .investigator: authorisations.contains { $0.registeredAt != nil && $0.investigators.contains(identity.user) }
        }
        return visible ? (procedure, authorisations) : nil
      }
    }
  }
}
