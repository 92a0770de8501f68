import Foundation
import GRDB

extension Installation {
  /// Where the registry's authorisations disagree with the consultation log, which is
  /// hash-chained and signed while the registry's tables are not: an authorisation must have been
  /// logged as issued, with the same magistrate, procedure, kind, investigators and end; one logged
  /// as revoked must be revoked; a presented token must verify and say the same. Someone who edited
  /// registry.sqlite by hand (to un-revoke a token, extend it, or add one) is found here.
  /// - Returns: the first disagreement, or nil.
  func registryDisagreement(purgedEntries: Int) throws -> LogVerificationFailure? {
    var issued: [String: (seq: Int64, entry: LogEntry)] = [:]
    var revoked: [String: Int64] = [:]
    for stored in try log.entries(LogFilter()) {
      guard let entry = stored.entry, entry.outcome == .success, let jti = entry.parameters["token"] else { continue }
      if entry.operation == "authorise" { issued[jti] = (stored.seq, entry) }
      if entry.operation == "authorise.revoke" { revoked[jti] = stored.seq }
    }
    return try registry.read { db -> LogVerificationFailure? in
      func tampered(_ seq: Int64?, _ reason: String) -> LogVerificationFailure {
        LogVerificationFailure(seq: seq, checkpoint: nil, reason: reason + " (registry.sqlite was edited)")
      }
      for (record, token) in try ProcedureRegistry.authorisations(procedure: nil, in: db) {
        let jti = record.tokenID
        guard let (seq, entry) = issued[jti] else {
          // Purged bodies (older than five years) can no longer vouch for old authorisations.
          if purgedEntries > 0 { continue }
          return tampered(nil, "authorisation \(jti) of procedure \(record.procedure) is in the registry but was never logged as issued")
        }
        let logged = [entry.user, entry.procedure ?? "", entry.parameters["kind"] ?? "", entry.parameters["investigators"] ?? "",
                      entry.parameters["until"] ?? ""]
        let registered = [record.issuer, record.procedure, record.kind.rawValue, record.investigators.joined(separator: ","),
                          AuthorisationClaims.format(record.expires)]
        guard logged == registered else {
          return tampered(seq, "authorisation \(jti) in the registry differs from the one logged as issued here")
        }
        if let revokedAt = revoked[jti], record.revokedAt == nil {
          return tampered(revokedAt, "authorisation \(jti) was revoked here, but the registry holds it as valid")
        }
        if let token {
          let claims = try? Authorisation.verify(
            token, publicKeyLookup: { try? Self.enrolledMagistrateKey($0, in: db) }, installation: id,
            procedure: record.procedure, now: record.issuedAt)
          guard let claims, claims.jti == jti, claims.iss == record.issuer, claims.kind == record.kind,
                claims.investigators == record.investigators, claims.exp == record.expires, claims.nbf == record.notBefore
          else {
            return tampered(seq, "authorisation \(jti): the registry's columns or token differ from the token the magistrate signed")
          }
        }
      }
      return nil
    }
  }

  /// A magistrate's enrolled key, enabled or since disabled (their past signatures stay valid).
  static func enrolledMagistrateKey(_ user: String, in db: Database) throws -> PasetoV4PublicKey? {
    guard let text = try String.fetchOne(db, sql: "SELECT public_key FROM user WHERE id = ? AND role = 'magistrate'", arguments: [user]),
          let raw = Data(base64Encoded: text)
    else { return nil }
    return try? PasetoV4PublicKey(rawRepresentation: raw)
  }
}
