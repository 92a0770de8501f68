import Crypto
import Foundation

/// The kinds of judicial procedure in which lrj may be used (DESIGN.md §2 L1), and no other.
public enum ProcedureKind: String, Codable, Sendable, CaseIterable {
  case flagrance
  case preliminary
  case rogatoryCommission = "rogatory-commission"
  case deathCause = "death-cause"
  case missingPerson = "missing-person"
}

/// Why an authorisation token was refused.
public enum AuthorisationError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The token names no issuer, or one whose key is not enrolled.
  case unknownIssuerKey(String)
  /// The token is not a well-formed, correctly signed PASETO v4.public token.
  case badSignature(PasetoError)
  /// The token was issued for another installation.
  case otherInstallation(String)
  /// The token was issued for another procedure.
  case otherProcedure(String)
  /// `exp` has passed (beyond the leeway).
  case expired(Date)
  /// `nbf` or `iat` is still in the future (beyond the leeway).
  case notYetValid(Date)
  /// The procedure kind is not one of the kinds allowed by law.
  case kindNotAllowed(String)
  /// The token id has been revoked.
  case revoked(String)
  /// Claims are absent.
  case missingFields([String])
  /// Claims are present but malformed.
  case invalidClaims(String)
  /// The user is not one of the investigators the token names.
  case investigatorNotNamed(String)

  public var description: String {
    switch self {
    case .unknownIssuerKey(let issuer): "authorisation refused: no enrolled key for issuer \"\(issuer)\""
    case .badSignature(let error): "authorisation refused: \(error)"
    case .otherInstallation(let aud): "authorisation refused: issued for another installation (\(aud))"
    case .otherProcedure(let procedure): "authorisation refused: issued for another procedure (\(procedure))"
    case .expired(let exp): "authorisation refused: expired at \(AuthorisationClaims.format(exp))"
    case .notYetValid(let nbf): "authorisation refused: not valid before \(AuthorisationClaims.format(nbf))"
    case .kindNotAllowed(let kind):
      "authorisation refused: procedure kind \"\(kind)\" is not allowed (allowed: \(ProcedureKind.allCases.map(\.rawValue).joined(separator: ", ")))"
    case .revoked(let jti): "authorisation refused: token \(jti) has been revoked"
    case .missingFields(let fields): "authorisation refused: missing claims \(fields.joined(separator: ", "))"
    case .invalidClaims(let why): "authorisation refused: invalid claims: \(why)"
    case .investigatorNotNamed(let user): "authorisation refused: user \"\(user)\" is not named in the authorisation"
    }
  }
}

/// The claims of a magistrate's authorisation (DESIGN.md §8), carried in a PASETO v4.public token.
/// Times are RFC 3339 UTC strings with seconds precision.
public struct AuthorisationClaims: Codable, Sendable, Equatable {
  /// Audience: `lrj:<installation-id>`.
  public var aud: String
  /// The procedure id.
  public var procedure: String
  /// The procedure kind (L1).
  public var kind: ProcedureKind
  /// User ids of the investigators authorised.
  public var investigators: [String]
  /// The issuing magistrate's user id.
  public var iss: String
  /// Not before.
  public var nbf: Date
  /// Expiry.
  public var exp: Date
  /// Issued at.
  public var iat: Date
  /// Token id: 128 random bits, hex.
  public var jti: String

  /// Makes claims for `installation`; `jti` defaults to a fresh random id.
  public init(
    installation: String, procedure: String, kind: ProcedureKind, investigators: [String], issuer: String,
    notBefore: Date, expires: Date, issuedAt: Date, tokenID: String = AuthorisationClaims.newTokenID()
  ) {
    aud = Authorisation.audience(installation)
    self.procedure = procedure
    self.kind = kind
    self.investigators = investigators
    iss = issuer
    nbf = Self.truncated(notBefore)
    exp = Self.truncated(expires)
    iat = Self.truncated(issuedAt)
    jti = tokenID
  }

  /// A fresh 128-bit random token id in lowercase hex.
  public static func newTokenID() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
  }

  /// Whether `user` is one of the named investigators.
  public func names(_ user: String) -> Bool { investigators.contains(user) }

  /// Throws `investigatorNotNamed` unless `user` is named.
  public func requireInvestigator(_ user: String) throws(AuthorisationError) {
    guard names(user) else { throw .investigatorNotNamed(user) }
  }

  enum CodingKeys: String, CodingKey { case aud, procedure, kind, investigators, iss, nbf, exp, iat, jti }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    aud = try c.decode(String.self, forKey: .aud)
    procedure = try c.decode(String.self, forKey: .procedure)
    kind = try c.decode(ProcedureKind.self, forKey: .kind)
    investigators = try c.decode([String].self, forKey: .investigators)
    iss = try c.decode(String.self, forKey: .iss)
    func date(_ key: CodingKeys) throws -> Date {
      let text = try c.decode(String.self, forKey: key)
      guard let date = Self.parse(text) else {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not an RFC 3339 time: \(text)")
      }
      return date
    }
    nbf = try date(.nbf)
    exp = try date(.exp)
    iat = try date(.iat)
    jti = try c.decode(String.self, forKey: .jti)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(aud, forKey: .aud)
    try c.encode(procedure, forKey: .procedure)
    try c.encode(kind, forKey: .kind)
    try c.encode(investigators, forKey: .investigators)
    try c.encode(iss, forKey: .iss)
    try c.encode(Self.format(nbf), forKey: .nbf)
    try c.encode(Self.format(exp), forKey: .exp)
    try c.encode(Self.format(iat), forKey: .iat)
    try c.encode(jti, forKey: .jti)
  }

  static func truncated(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }

  static func format(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }

  static func parse(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
  }
}

/// Issues and verifies magistrates' authorisation tokens (PASETO v4.public, DESIGN.md §8).
///
/// The footer carries `{"kid":"<issuer>","procedure":"<id>"}`: the kid only selects a pinned, enrolled
/// key, the procedure tells `lrj procedure open` which procedure to verify the token for; the
/// implicit assertion binds the token to the installation and the procedure; the signature is
/// verified before any claim is parsed.
public enum Authorisation {
  /// Clock skew tolerated on `nbf`, `iat` and `exp`.
  public static let leeway: TimeInterval = 120
  /// Largest footer accepted before verification.
  static let maximumFooterBytes = 512

  /// `lrj:<installation-id>`.
  public static func audience(_ installation: String) -> String { "lrj:" + installation }

  /// The implicit assertion: PAE(installation, procedure), i.e. installation ‖ procedure with
  /// length prefixes so that no two pairs give the same bytes.
  public static func implicitAssertion(installation: String, procedure: String) -> Data {
    PasetoV4Public.pae([Data(installation.utf8), Data(procedure.utf8)])
  }

  static let footerPrefix = Data(#"{"kid":""#.utf8)
  static let footerMiddle = Data(#"","procedure":""#.utf8)
  static let footerSuffix = Data(#""}"#.utf8)

  /// Whether `id` can be written in the footer as is: printable ASCII, no quote, no backslash.
  static func isPlainID(_ id: String) -> Bool {
    !id.isEmpty && id.utf8.count <= 128
      && id.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
  }

  /// `{"kid":"<issuer>","procedure":"<procedure>"}`, or nil when an id cannot be written plainly.
  static func footer(issuer: String, procedure: String) -> Data? {
    guard isPlainID(issuer), isPlainID(procedure) else { return nil }
    return footerPrefix + Data(issuer.utf8) + footerMiddle + Data(procedure.utf8) + footerSuffix
  }

  /// The issuer and procedure of a footer of exactly the form `{"kid":"<issuer>","procedure":"<procedure>"}`.
  /// The footer is matched byte for byte, not parsed as JSON.
  static func footerFields(_ footer: Data) -> (issuer: String, procedure: String)? {
    guard footer.count <= maximumFooterBytes, footer.starts(with: footerPrefix),
      footer.suffix(footerSuffix.count) == footerSuffix
    else { return nil }
    let inner = Data(footer.dropFirst(footerPrefix.count).dropLast(footerSuffix.count))
    guard let middle = inner.range(of: footerMiddle) else { return nil }
    let issuer = String(decoding: inner[inner.startIndex..<middle.lowerBound], as: UTF8.self)
    let procedure = String(decoding: inner[middle.upperBound...], as: UTF8.self)
    guard isPlainID(issuer), isPlainID(procedure) else { return nil }
    return (issuer, procedure)
  }

  /// The procedure a token names in its footer, before verification: only a hint to choose the
  /// implicit assertion; `verify` then proves it (the footer is signed, and the claims must agree).
  public static func procedureHint(_ token: String) -> String? {
    guard let footer = try? PasetoV4Public.unverifiedFooter(token) else { return nil }
    return footerFields(footer)?.procedure
  }

  /// Signs `claims` with the issuing magistrate's key. The installation is taken from `aud`.
  public static func issue(_ claims: AuthorisationClaims, key: PasetoV4SecretKey) throws -> String {
    guard claims.aud.hasPrefix("lrj:"), claims.aud.count > 4 else {
      throw AuthorisationError.invalidClaims("audience \"\(claims.aud)\" is not lrj:<installation-id>")
    }
    let installation = String(claims.aud.dropFirst("lrj:".count))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let payload = try encoder.encode(claims)
    guard let footer = footer(issuer: claims.iss, procedure: claims.procedure) else {
      throw AuthorisationError.invalidClaims(
        "issuer \"\(claims.iss)\" and procedure \"\(claims.procedure)\" must be printable ASCII without quotes or backslashes")
    }
    return try PasetoV4Public.sign(
      payload: payload, footer: footer,
      implicitAssertion: implicitAssertion(installation: installation, procedure: claims.procedure), key: key)
  }

  /// Verifies a token for `installation` and `procedure` at `now`.
  /// - Parameters:
  ///   - publicKeyLookup: the enrolled key of a magistrate user id, or nil.
  ///   - revoked: revoked token ids.
  /// - Returns: the claims, once every check has passed.
  public static func verify(
    _ token: String, publicKeyLookup: (String) -> PasetoV4PublicKey?, installation: String, procedure: String,
    now: Date, revoked: Set<String> = []
  ) throws(AuthorisationError) -> AuthorisationClaims {
    // 1. The footer's kid selects a pinned key. The footer must be exactly
    //    `{"kid":"<issuer>","procedure":"<procedure>"}`: it is matched byte for byte, not parsed, so
    //    no JSON is parsed before the signature is checked.
    let footer: Data
    do { footer = try PasetoV4Public.unverifiedFooter(token) } catch { throw .badSignature(error) }
    guard let (kid, footerProcedure) = footerFields(footer) else { throw .unknownIssuerKey("(none named)") }
    guard footerProcedure == procedure else { throw .otherProcedure(footerProcedure) }
    guard let key = publicKeyLookup(kid) else { throw .unknownIssuerKey(kid) }

    // 2. The signature, bound to this installation and procedure.
    let verified: PasetoVerified
    do {
      verified = try PasetoV4Public.verify(
        token, key: key, expectedFooter: footer,
        implicitAssertion: implicitAssertion(installation: installation, procedure: procedure))
    } catch {
      throw .badSignature(error)
    }

    // 3. Only now the claims.
    guard let raw = try? JSONSerialization.jsonObject(with: verified.payload) as? [String: Any] else {
      throw .invalidClaims("the payload is not a JSON object")
    }
    let required = AuthorisationClaims.CodingKeys.allNames
    let missing = required.filter { raw[$0] == nil || raw[$0] is NSNull }
    guard missing.isEmpty else { throw .missingFields(missing) }
    if let kind = raw["kind"] as? String, ProcedureKind(rawValue: kind) == nil { throw .kindNotAllowed(kind) }
    let claims: AuthorisationClaims
    do {
      claims = try JSONDecoder().decode(AuthorisationClaims.self, from: verified.payload)
    } catch {
      throw .invalidClaims(AuthorisationClaims.plainWords(error, payload: verified.payload))
    }
    guard claims.iss == kid else { throw .invalidClaims("issuer \"\(claims.iss)\" differs from the footer key id") }
    guard claims.aud == audience(installation) else { throw .otherInstallation(claims.aud) }
    guard claims.procedure == procedure else { throw .otherProcedure(claims.procedure) }
    guard claims.jti.count == 32, claims.jti.allSatisfy(\.isHexDigit) else {
      throw .invalidClaims("jti must be 128 bits in hex")
    }
    guard !revoked.contains(claims.jti) else { throw .revoked(claims.jti) }
    guard claims.exp > claims.nbf else { throw .invalidClaims("exp is not after nbf") }
    if now.timeIntervalSince(claims.exp) > leeway { throw .expired(claims.exp) }
    if claims.nbf.timeIntervalSince(now) > leeway { throw .notYetValid(claims.nbf) }
    if claims.iat.timeIntervalSince(now) > leeway { throw .notYetValid(claims.iat) }
    return claims
  }
}

extension AuthorisationClaims.CodingKeys {
  static var allNames: [String] { ["aud", "procedure", "kind", "investigators", "iss", "nbf", "exp", "iat", "jti"] }
}
