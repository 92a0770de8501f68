import Crypto
import Foundation
import Index
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

/// The symmetric procedure key of installations made before key pairs: kept wrapped in the registry.
/// Used only to move such procedures to a key pair (``Installation/upgradeProcedures(now:)``).
struct LegacyProcedureKey: Sendable {
  private let raw: Data
  private var key: SymmetricKey { SymmetricKey(data: raw) }

  static func associatedData(installation: String, procedure: String) -> Data {
    Data("lrj procedure key\u{0}\(installation)\u{0}\(procedure)".utf8)
  }

  static func unwrap(_ wrapped: Data, with kek: SymmetricKey, installation: String, procedure: String) throws -> LegacyProcedureKey {
    do {
      let box = try AES.GCM.SealedBox(combined: wrapped)
      return LegacyProcedureKey(raw: try AES.GCM.open(box, using: kek, authenticating: associatedData(installation: installation, procedure: procedure)))
    } catch {
      throw InstallationError("the former key of procedure \(procedure) cannot be unwrapped (wrong installation key or altered registry)")
    }
  }

  /// A key and the seal of an earlier lrj, to make such an installation in tests.
  static func generate() -> LegacyProcedureKey { LegacyProcedureKey(raw: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }) }

  func wrapped(with kek: SymmetricKey, installation: String, procedure: String) throws -> Data {
    try AES.GCM.seal(raw, using: kek, authenticating: Self.associatedData(installation: installation, procedure: procedure)).combined!
  }

  func seal(_ data: Data, procedure: String, context: String) throws -> Data {
    try AES.GCM.seal(data, using: key, authenticating: Self.objectData(procedure, context)).combined!
  }

  static func objectData(_ procedure: String, _ context: String) -> Data { Data("lrj sealed\u{0}\(procedure)\u{0}\(context)".utf8) }

  func open(_ sealed: Data, procedure: String, context: String) throws -> Data {
    do {
      return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Self.objectData(procedure, context))
    } catch {
      throw ProcedureError("sealed data of \(context) in procedure \(procedure) does not open with its former key")
    }
  }
}

extension Installation {
  /// The procedure private keys of this installation (`keys/procedures/`).
  var procedureKeys: ProcedureKeyFiles { ProcedureKeyFiles(home: home, installation: id) }

  /// The opener of an open procedure: its private key, checked against the public key the registry
  /// holds for it (data sealed to a public key swapped in the registry would not open).
  func procedureOpener(_ procedure: String, publicKey: Data?) throws -> ProcedureOpener {
    guard let publicKey else { throw ProcedureError("procedure \(procedure) has no key (erased)") }
    let opener = try procedureKeys.opener(procedure: procedure, kek: keyEncryptionKey())
    guard opener.publicKey.rawRepresentation == publicKey else {
      throw InstallationError("the key of procedure \(procedure) does not match the public key the registry holds for it (replaced or altered)")
    }
    return opener
  }

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


  /// Brings each open procedure made by an earlier lrj (a symmetric key wrapped in the registry, its index in
  /// clear) up to "sealed at rest" (DESIGN.md §4): it gets a key pair (the private key goes to
  /// `keys/procedures/`, the registry keeps only the public key), its vault's tracks, blocks and zones are
  /// sealed to the public key, and its thumbnails sealed anew. Logged as
  /// `procedure.upgrade` with the exhibits' new digests. Each procedure is upgraded inside a registry write
  /// transaction, so concurrent processes do not race, and an upgrade interrupted at any point is redone.
  func upgradeProcedures(now: Date = Date()) throws {
    let query = "SELECT id, wrapped_key, public_key FROM procedure WHERE status = 'open' ORDER BY id"
    // Earlier lrj kept indexes in SQLite files only.
    func vault(_ procedure: String) -> String { indexes.file(of: procedure).path }
    // Procedures opened by this lrj have had a key pair and a sealed vault from the start: only those of an
    // earlier lrj (a symmetric key in the registry) need it, so no vault is opened here otherwise.
    func needsUpgrade(_ row: StoreRow) throws -> Bool {
      try row["wrapped_key"] as Data? != nil && row["public_key"] as Data? == nil
    }
    guard try registry.read({ tx in try tx.rows(query).contains { try needsUpgrade($0) } }) else { return }
    let kek = try keyEncryptionKey()
    try registry.write { tx in
      for row in try tx.rows(query) where try needsUpgrade(row) {
        let procedure: String = try row["id"]
        let legacy = try LegacyProcedureKey.unwrap(try row["wrapped_key"], with: kek, installation: id, procedure: procedure)
        let opener: ProcedureOpener
        if let kept = try? procedureKeys.opener(procedure: procedure, kek: kek) {
          opener = kept  // from an upgrade interrupted after its key file was written
        } else {
          let key = Curve25519.KeyAgreement.PrivateKey()
          try procedureKeys.write(key, procedure: procedure, kek: kek)
          opener = ProcedureOpener(procedure: procedure, privateKey: key)
        }
        var parameters = ["reason": "installation upgraded: procedure data sealed at rest to the procedure's key pair"]
        if indexes.service == nil, FileManager.default.fileExists(atPath: vault(procedure)) {
          parameters["index"] = try IndexStore.needsSealing(path: vault(procedure)) ? "sealed" : "already sealed"
          let sealing = try ProcedureSealing(opener: opener)
          let store = try IndexStore(path: vault(procedure), sealing: sealing)  // seals tracks, blocks and zones
          defer { try? store.close() }
          if let sealer = sealing.sealer {
            let resealed = try store.rewriteThumbnails(withFormatPrefix: ProcedureWorkspace.legacySealedPrefix) { track, thumbnail in
              let clear = try legacy.open(thumbnail.data, procedure: procedure, context: "thumbnail \(track)")
              return Thumbnail(
                format: ProcedureWorkspace.sealedPrefix + thumbnail.format.dropFirst(ProcedureWorkspace.legacySealedPrefix.count),
                data: try sealer.seal(clear, context: "thumbnail \(track)"))
            }
            parameters["thumbnails-resealed"] = String(resealed)
          }
          // The digests the log holds cover the stored (sealed) bytes: the entry records them anew.
          for exhibit in try store.exhibits() {
            let digest = try store.digest(ofExhibit: exhibit.id)
            parameters["digest-" + exhibit.id] = digest.digest
            parameters["track-hints-" + exhibit.id] = digest.trackHints
          }
        }
        let publicKey = opener.publicKey.rawRepresentation
        try tx.execute("UPDATE procedure SET public_key = ?, wrapped_key = NULL WHERE id = ?", publicKey, procedure)
        parameters["seal-key"] = publicKey.base64EncodedString()
        try log.append(
          LogEntry(time: now, user: "lrj", role: "system", procedure: procedure, operation: RegistryOperation.procedureUpgrade.rawValue,
                   parameters: parameters, outcome: .success), in: tx)
      }
    }
    try registry.purgeFreedPages()
  }
}
