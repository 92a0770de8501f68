import Consultation
import Crypto
import Foundation
import Testing

struct AuthorisationTests {
  let magistrate = PasetoV4SecretKey(Curve25519.Signing.PrivateKey())
  let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28

  func claims(
    installation: String = "inst-1", procedure: String = "P-2026-001", kind: ProcedureKind = .preliminary,
    notBefore: TimeInterval = -60, expires: TimeInterval = 3600, issuer: String = "judge.martin"
  ) -> AuthorisationClaims {
    AuthorisationClaims(
      installation: installation, procedure: procedure, kind: kind, investigators: ["inv.dupont", "inv.leroy"],
      issuer: issuer, notBefore: now.addingTimeInterval(notBefore), expires: now.addingTimeInterval(expires),
      issuedAt: now.addingTimeInterval(notBefore))
  }

  func lookup(_ issuer: String) -> PasetoV4PublicKey? { issuer == "judge.martin" ? magistrate.publicKey : nil }

  func verify(
    _ token: String, installation: String = "inst-1", procedure: String = "P-2026-001", at time: Date? = nil,
    revoked: Set<String> = []
  ) throws(AuthorisationError) -> AuthorisationClaims {
    try Authorisation.verify(
      token, publicKeyLookup: lookup, installation: installation, procedure: procedure, now: time ?? now, revoked: revoked)
  }

  @Test func issuedTokenVerifies() throws {
    let original = claims(kind: .rogatoryCommission)
    let token = try Authorisation.issue(original, key: magistrate)
    let verified = try verify(token)
    #expect(verified == original)
    #expect(verified.aud == "lrj:inst-1")
    #expect(verified.jti.count == 32)
    #expect(verified.names("inv.dupont"))
    #expect(throws: AuthorisationError.investigatorNotNamed("someone")) { try verified.requireInvestigator("someone") }
  }

  @Test func everyAllowedKindRoundTrips() throws {
    #expect(ProcedureKind.allCases.map(\.rawValue) == ["flagrance", "preliminary", "rogatory-commission", "death-cause", "missing-person"])
    for kind in ProcedureKind.allCases {
      #expect(try verify(try Authorisation.issue(claims(kind: kind), key: magistrate)).kind == kind)
    }
  }

  @Test func tokenIDsAreFreshAndRandom() {
    let ids = Set((0..<100).map { _ in AuthorisationClaims.newTokenID() })
    #expect(ids.count == 100)
    #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
  }

  @Test func unknownIssuerKeyIsRefused() throws {
    let token = try Authorisation.issue(claims(issuer: "judge.unknown"), key: magistrate)
    #expect(throws: AuthorisationError.unknownIssuerKey("judge.unknown")) { try verify(token) }
  }

  @Test func keyNotEnrolledIsRefused() throws {
    // Claims to be judge.martin, signed by someone else.
    let forger = PasetoV4SecretKey(Curve25519.Signing.PrivateKey())
    let token = try Authorisation.issue(claims(), key: forger)
    #expect(throws: AuthorisationError.badSignature(.badSignature)) { try verify(token) }
  }

  @Test func anotherInstallationIsRefused() throws {
    let token = try Authorisation.issue(claims(installation: "inst-2"), key: magistrate)
    // The implicit assertion binds the installation: the signature itself fails.
    #expect(throws: AuthorisationError.badSignature(.badSignature)) { try verify(token) }
    // Bound to inst-2 but with an inst-1 audience: caught by the claim check.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let payload = String(decoding: try encoder.encode(claims(installation: "inst-1")), as: UTF8.self)
    let token2 = try sign(payload: payload, installation: "inst-2")
    #expect(throws: AuthorisationError.otherInstallation("lrj:inst-1")) { try verify(token2, installation: "inst-2") }
  }

  @Test func anotherProcedureIsRefused() throws {
    let token = try Authorisation.issue(claims(procedure: "P-OTHER"), key: magistrate)
    #expect(throws: AuthorisationError.otherProcedure("P-OTHER")) { try verify(token) }
    #expect(try verify(token, procedure: "P-OTHER").procedure == "P-OTHER")
    #expect(Authorisation.procedureHint(token) == "P-OTHER")
    // A footer edited to name another procedure breaks the signature.
    let parts = token.split(separator: ".").map(String.init)
    let forged = Data(#"{"kid":"judge.martin","procedure":"P-2026-001"}"#.utf8).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    #expect(throws: AuthorisationError.badSignature(.badSignature)) {
      try verify(parts.prefix(3).joined(separator: ".") + "." + forged)
    }
  }

  @Test func expiryAndNotBeforeUseTheLeeway() throws {
    let token = try Authorisation.issue(claims(notBefore: 0, expires: 3600), key: magistrate)
    #expect(try verify(token, at: now.addingTimeInterval(3600 + 119)).procedure == "P-2026-001")
    #expect(throws: AuthorisationError.expired(now.addingTimeInterval(3600))) {
      try verify(token, at: now.addingTimeInterval(3600 + 121))
    }
    #expect(try verify(token, at: now.addingTimeInterval(-119)).procedure == "P-2026-001")
    #expect(throws: AuthorisationError.notYetValid(now)) { try verify(token, at: now.addingTimeInterval(-121)) }
  }

  @Test func revokedTokenIsRefused() throws {
    let issued = claims()
    let token = try Authorisation.issue(issued, key: magistrate)
    #expect(throws: AuthorisationError.revoked(issued.jti)) { try verify(token, revoked: [issued.jti]) }
  }

  /// Signs a hand-written payload the way `issue` would.
  func sign(payload: String, installation: String = "inst-1", procedure: String = "P-2026-001") throws -> String {
    try PasetoV4Public.sign(
      payload: Data(payload.utf8), footer: Data(#"{"kid":"judge.martin","procedure":"P-2026-001"}"#.utf8),
      implicitAssertion: Authorisation.implicitAssertion(installation: installation, procedure: procedure), key: magistrate)
  }

  @Test func kindOutsideTheLawIsRefused() throws {
    let token = try sign(
      payload: #"{"aud":"lrj:inst-1","exp":"2026-05-28T21:00:00Z","iat":"2026-05-28T20:00:00Z","investigators":["a"],"iss":"judge.martin","jti":"00112233445566778899aabbccddeeff","kind":"administrative","nbf":"2026-05-28T20:00:00Z","procedure":"P-2026-001"}"#)
    #expect(throws: AuthorisationError.kindNotAllowed("administrative")) { try verify(token) }
  }

  @Test func missingFieldsAreNamed() throws {
    let token = try sign(
      payload: #"{"aud":"lrj:inst-1","iat":"2026-05-28T20:00:00Z","investigators":["a"],"iss":"judge.martin","kind":"preliminary","procedure":"P-2026-001"}"#)
    #expect(throws: AuthorisationError.missingFields(["nbf", "exp", "jti"])) { try verify(token) }
  }

  @Test func malformedClaimsAreRefused() throws {
    let notJSON = try sign(payload: "not json")
    #expect(throws: AuthorisationError.invalidClaims("the payload is not a JSON object")) { try verify(notJSON) }
    let badDate = try sign(
      payload: #"{"aud":"lrj:inst-1","exp":"tomorrow","iat":"2026-05-28T20:00:00Z","investigators":["a"],"iss":"judge.martin","jti":"00112233445566778899aabbccddeeff","kind":"preliminary","nbf":"2026-05-28T20:00:00Z","procedure":"P-2026-001"}"#)
    #expect(throws: AuthorisationError.self) { try verify(badDate) }
  }

  @Test func garbageAndTruncatedTokensAreRefused() throws {
    let token = try Authorisation.issue(claims(), key: magistrate)
    #expect(throws: AuthorisationError.self) { try verify("garbage") }
    #expect(throws: AuthorisationError.self) { try verify(String(token.prefix(40))) }
    let noFooter = token.split(separator: ".").prefix(3).joined(separator: ".")
    #expect(throws: AuthorisationError.unknownIssuerKey("(none named)")) { try verify(noFooter) }
  }

  @Test func footerMustBeExactlyAKeyID() throws {
    let claimsJSON = String(decoding: try JSONEncoder().encode(claims()), as: UTF8.self)
    for footer in [#"{"kid":"judge.martin"}"#, #"{"kid":"judge.martin","procedure":"P-2026-001","x":1}"#, #"{"procedure":"P-2026-001","kid":"judge.martin"}"#, #"{"kid":"judge.martin","x":1}"#, #"{ "kid":"judge.martin"}"#, #"{"kid":"judge\u002emartin"}"#, #"{"kid":""}"#, "judge.martin"] {
      let token = try PasetoV4Public.sign(
        payload: Data(claimsJSON.utf8), footer: Data(footer.utf8),
        implicitAssertion: Authorisation.implicitAssertion(installation: "inst-1", procedure: "P-2026-001"), key: magistrate)
      #expect(throws: AuthorisationError.unknownIssuerKey("(none named)"), "\(footer)") { try verify(token) }
    }
    #expect(throws: AuthorisationError.self) { try Authorisation.issue(claims(issuer: "judge\"martin"), key: magistrate) }
    var badAudience = claims()
    badAudience.aud = "inst-1"
    #expect(throws: AuthorisationError.self) { try Authorisation.issue(badAudience, key: magistrate) }
  }

  @Test func errorsSayWhy() {
    #expect(AuthorisationError.kindNotAllowed("x").description.contains("death-cause"))
    #expect(AuthorisationError.expired(now).description.contains("2026-05-28"))
  }
}
