import Consultation
import Crypto
import Foundation
import Testing

/// PASETO v4.public against the official test vectors (paseto-standard/test-vectors, v4.json).
struct PasetoTests {
  static let secretSeedHex = "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"
  static let publicKeyHex = "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2"
  static let payload = #"{"data":"this is a signed message","exp":"2022-01-01T00:00:00+00:00"}"#
  static let footer = #"{"kid":"zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN"}"#
  static let token1 =
    "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9bg_XBBzds8lTZShVlwwKSgeKpLT3yukTw6JUz3W4h_ExsQV-P0V54zemZDcAxFaSeef1QlXEFtkqxT1ciiQEDA"
  static let token3 =
    "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9NPWciuD3d0o5eXJXG5pJy-DiVEoyPYWs1YSTwWHNJq6DZD3je5gf-0M4JR9ipdUSJbIovzmBECeaWmaqcaP0DQ.eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9"
  static let implicit3 = #"{"test-vector":"4-S-3"}"#

  static func hex(_ text: String) -> Data {
    var data = Data()
    var index = text.startIndex
    while index < text.endIndex {
      let next = text.index(index, offsetBy: 2)
      data.append(UInt8(text[index..<next], radix: 16)!)
      index = next
    }
    return data
  }

  static var publicKey: PasetoV4PublicKey { try! PasetoV4PublicKey(rawRepresentation: hex(publicKeyHex)) }
  static var secretKey: PasetoV4SecretKey {
    PasetoV4SecretKey(try! Curve25519.Signing.PrivateKey(rawRepresentation: hex(secretSeedHex)))
  }

  @Test func vector4S1Verifies() throws {
    #expect(Self.secretKey.publicKey == Self.publicKey)
    let verified = try PasetoV4Public.verify(Self.token1, key: Self.publicKey)
    #expect(String(decoding: verified.payload, as: UTF8.self) == Self.payload)
    #expect(verified.footer.isEmpty)
  }

  @Test func vector4S3Verifies() throws {
    let verified = try PasetoV4Public.verify(
      Self.token3, key: Self.publicKey, expectedFooter: Data(Self.footer.utf8), implicitAssertion: Data(Self.implicit3.utf8))
    #expect(String(decoding: verified.payload, as: UTF8.self) == Self.payload)
    #expect(String(decoding: verified.footer, as: UTF8.self) == Self.footer)
  }

  @Test func signingReproducesVector4S1AndVector4S3() throws {
    // BoringSSL's Ed25519 is deterministic, so signing reproduces the vectors byte for byte.
    let token1 = try PasetoV4Public.sign(payload: Data(Self.payload.utf8), key: Self.secretKey)
    #expect(token1 == Self.token1)
    let token3 = try PasetoV4Public.sign(
      payload: Data(Self.payload.utf8), footer: Data(Self.footer.utf8), implicitAssertion: Data(Self.implicit3.utf8),
      key: Self.secretKey)
    #expect(token3 == Self.token3)
  }

  @Test func preAuthenticationEncodingMatchesTheSpec() {
    #expect(PasetoV4Public.pae([]) == Data(repeating: 0, count: 8))
    #expect(PasetoV4Public.pae([Data()]) == Data([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    #expect(PasetoV4Public.pae([Data("test".utf8)]) == Data([1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]) + Data("test".utf8))
  }

  @Test func roundTripWithAFreshKey() throws {
    let key = PasetoV4SecretKey(Curve25519.Signing.PrivateKey())
    for length in 0..<8 {
      let payload = Data((0..<length).map { UInt8($0 * 37 & 0xFF) })
      let token = try PasetoV4Public.sign(payload: payload, footer: Data("f".utf8), implicitAssertion: Data("i".utf8), key: key)
      let verified = try PasetoV4Public.verify(token, key: key.publicKey, implicitAssertion: Data("i".utf8))
      #expect(verified.payload == payload)
    }
  }

  @Test func wrongKeyIsRefused() {
    let other = PasetoV4SecretKey(Curve25519.Signing.PrivateKey()).publicKey
    #expect(throws: PasetoError.badSignature) { try PasetoV4Public.verify(Self.token1, key: other) }
  }

  @Test func tamperedPayloadIsRefused() {
    // "eyJkYXRh" → "eyJkYXRi": one bit of the message changes.
    let tampered = Self.token1.replacingOccurrences(of: "v4.public.eyJkYXRh", with: "v4.public.eyJkYXRi")
    #expect(tampered != Self.token1)
    #expect(throws: PasetoError.badSignature) { try PasetoV4Public.verify(tampered, key: Self.publicKey) }
  }

  @Test func tamperedFooterIsRefused() {
    var parts = Self.token3.split(separator: ".").map(String.init)
    parts[3] = "eyJraWQiOiJvdGhlciJ9"  // {"kid":"other"}
    let tampered = parts.joined(separator: ".")
    #expect(throws: PasetoError.badSignature) {
      try PasetoV4Public.verify(tampered, key: Self.publicKey, implicitAssertion: Data(Self.implicit3.utf8))
    }
    #expect(throws: PasetoError.footerMismatch) {
      try PasetoV4Public.verify(
        tampered, key: Self.publicKey, expectedFooter: Data(Self.footer.utf8), implicitAssertion: Data(Self.implicit3.utf8))
    }
    // Dropping the footer breaks the signature too.
    let dropped = parts[0...2].joined(separator: ".")
    #expect(throws: PasetoError.badSignature) {
      try PasetoV4Public.verify(dropped, key: Self.publicKey, implicitAssertion: Data(Self.implicit3.utf8))
    }
  }

  @Test func wrongImplicitAssertionIsRefused() {
    #expect(throws: PasetoError.badSignature) {
      try PasetoV4Public.verify(Self.token3, key: Self.publicKey, implicitAssertion: Data(#"{"test-vector":"4-S-2"}"#.utf8))
    }
    #expect(throws: PasetoError.badSignature) { try PasetoV4Public.verify(Self.token3, key: Self.publicKey) }
  }

  @Test func truncatedTokenIsRefused() {
    #expect(throws: PasetoError.truncated) { try PasetoV4Public.verify("v4.public.AAAA", key: Self.publicKey) }
    #expect(throws: (any Error).self) { try PasetoV4Public.verify(String(Self.token1.dropLast(4)), key: Self.publicKey) }
    #expect(throws: PasetoError.badSignature) {
      try PasetoV4Public.verify(String(Self.token1.dropLast(8)) + "AAAAAAAA", key: Self.publicKey)
    }
    #expect(throws: PasetoError.notV4Public) { try PasetoV4Public.verify("v4.public", key: Self.publicKey) }
    #expect(throws: (any Error).self) { try PasetoV4Public.verify(String(Self.token1.dropLast(1)), key: Self.publicKey) }
  }

  @Test func garbageIsRefused() {
    #expect(throws: PasetoError.notV4Public) { try PasetoV4Public.verify("", key: Self.publicKey) }
    #expect(throws: PasetoError.notV4Public) { try PasetoV4Public.verify("hello", key: Self.publicKey) }
    #expect(throws: PasetoError.notV4Public) {
      try PasetoV4Public.verify(Self.token1.replacingOccurrences(of: "v4.public.", with: "v4.local."), key: Self.publicKey)
    }
    #expect(throws: PasetoError.notV4Public) {
      try PasetoV4Public.verify(Self.token1.replacingOccurrences(of: "v4.public.", with: "v3.public."), key: Self.publicKey)
    }
    #expect(throws: PasetoError.notV4Public) { try PasetoV4Public.verify(Self.token3 + ".AA", key: Self.publicKey) }
    #expect(throws: PasetoError.invalidBase64(part: "body")) {
      try PasetoV4Public.verify("v4.public.abc$def", key: Self.publicKey)
    }
    #expect(throws: PasetoError.invalidBase64(part: "body")) {
      try PasetoV4Public.verify(Self.token1.replacingOccurrences(of: "_", with: "/"), key: Self.publicKey)
    }
    #expect(throws: PasetoError.invalidBase64(part: "footer")) { try PasetoV4Public.verify(Self.token1 + ".", key: Self.publicKey) }
  }

  @Test func paddedOrNonCanonicalBase64IsRefused() {
    // The 4-S-1 body is 133 bytes: 178 characters, which standard base64 would pad with "==".
    #expect(throws: PasetoError.invalidBase64(part: "body")) { try PasetoV4Public.verify(Self.token1 + "=", key: Self.publicKey) }
    #expect(throws: PasetoError.invalidBase64(part: "footer")) { try PasetoV4Public.verify(Self.token3 + "==", key: Self.publicKey) }
    // Its last character 'A' has its 4 spare bits clear; 'B' sets one: same bytes, not canonical.
    #expect(Self.token1.hasSuffix("A"))
    #expect(throws: PasetoError.invalidBase64(part: "body")) {
      try PasetoV4Public.verify(String(Self.token1.dropLast()) + "B", key: Self.publicKey)
    }
  }

  @Test func errorsDescribeThemselves() {
    #expect(PasetoError.badSignature.description.contains("signature"))
    #expect(PasetoError.invalidBase64(part: "footer").description.contains("footer"))
  }
}
