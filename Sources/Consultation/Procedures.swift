import Crypto
import Foundation
import Store

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
  /// The magistrate in charge: the one whose authorisation opened it, or to whom it was transferred.
  /// Only they and the controller act on it as magistrates.
  public var magistrate: String
  /// While a closure is under way, its last step (`claimed`, `reported`, `key-destroyed`).
  public var closure: String?

  /// Whether the procedure has been closed (and its data erased).
  public var isClosed: Bool { status == "closed" }
  /// Whether a closure has started (the procedure then accepts nothing but its closure).
  public var isClosing: Bool { closure != nil && !isClosed }
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
  static func procedure(_ id: String, in tx: any StoreTransaction) throws -> ProcedureRecord? {
    try tx.row("\(select) WHERE p.id = ?", id).map { try record($0) }
  }

  static func record(_ row: StoreRow) throws -> ProcedureRecord {
    try ProcedureRecord(
      id: row["id"], kind: ProcedureKind(rawValue: row["kind"]) ?? .preliminary,
      openedAt: Date(timeIntervalSince1970: row["opened_at"]), openedBy: row["opened_by"], status: row["status"],
      closedAt: (row["closed_at"] as Double?).map(Date.init(timeIntervalSince1970:)), closedBy: row["closed_by"],
      magistrate: row["magistrate"] ?? "", closure: row["closure_step"])
  }

  /// Procedures with the step of their closure under way.
  static let select = "SELECT p.*, c.step AS closure_step FROM procedure p LEFT JOIN closure c ON c.procedure = p.id"

  static func authorisations(procedure: String?, in tx: any StoreTransaction) throws -> [(record: AuthorisationRecord, token: String?)] {
    let rows = try procedure.map {
      try tx.rows("SELECT * FROM authorisation WHERE procedure = ? ORDER BY iat, jti", $0)
    } ?? tx.rows("SELECT * FROM authorisation ORDER BY iat, jti")
    return try rows.map { row in
      let investigators = (try? JSONDecoder().decode([String].self, from: Data((try row["investigators"] as String).utf8))) ?? []
      func date(_ column: String) -> Date? { ((try? row[column]) as Double?).map(Date.init(timeIntervalSince1970:)) }
      return try (
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
  func magistrateKey(_ user: String, in tx: any StoreTransaction) throws -> PasetoV4PublicKey? {
    guard
      let row = try tx.row("SELECT public_key FROM \"user\" WHERE id = ? AND role = 'magistrate' AND enabled = 1", user),
      let raw = Data(base64Encoded: try row["public_key"] as String)
    else { return nil }
    return try? PasetoV4PublicKey(rawRepresentation: raw)
  }

}
