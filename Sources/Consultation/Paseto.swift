import Crypto
import Foundation

/// Why a PASETO token was refused.
public enum PasetoError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The token does not start with `v4.public.` or has the wrong number of parts.
  case notV4Public
  /// A part is not strict base64url (no padding, URL alphabet, canonical trailing bits).
  case invalidBase64(part: String)
  /// The signed part is shorter than a signature.
  case truncated
  /// The signature does not verify under the given key, footer and implicit assertion.
  case badSignature
  /// The footer differs from the one the caller expected.
  case footerMismatch
  /// The key bytes are not an Ed25519 key.
  case invalidKey
  /// Signing failed in the crypto library.
  case signingFailed

  public var description: String {
    switch self {
    case .notV4Public: "token refused: not a PASETO v4.public token"
    case .invalidBase64(let part): "token refused: its \(part) is not strict base64url"
    case .truncated: "token refused: truncated (shorter than a signature)"
    case .badSignature: "token refused: the signature does not verify"
    case .footerMismatch: "token refused: unexpected footer"
    case .invalidKey: "not a valid Ed25519 key"
    case .signingFailed: "could not sign the token"
    }
  }
}

/// An Ed25519 public key for PASETO v4.public, and only for it (PASETO "algorithm lucidity":
/// raw bytes are never accepted as a key where a typed key is expected).
public struct PasetoV4PublicKey: Sendable, Equatable {
  /// The 32 raw key bytes.
  public let rawRepresentation: Data

  /// Wraps a swift-crypto Ed25519 public key.
  public init(_ key: Curve25519.Signing.PublicKey) {
    rawRepresentation = key.rawRepresentation
  }

  /// Reads 32 raw Ed25519 public key bytes.
  public init(rawRepresentation: Data) throws(PasetoError) {
    guard rawRepresentation.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil
    else { throw .invalidKey }
    self.rawRepresentation = rawRepresentation
  }

  var key: Curve25519.Signing.PublicKey? { try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) }
}

/// An Ed25519 secret key for PASETO v4.public.
public struct PasetoV4SecretKey {
  /// The swift-crypto key.
  public let key: Curve25519.Signing.PrivateKey

  /// Wraps a swift-crypto Ed25519 private key.
  public init(_ key: Curve25519.Signing.PrivateKey) {
    self.key = key
  }

  /// The matching public key.
  public var publicKey: PasetoV4PublicKey { PasetoV4PublicKey(key.publicKey) }
}

/// A verified PASETO v4.public token: its payload and footer bytes.
public struct PasetoVerified: Sendable, Equatable {
  /// The signed message (the claims JSON for our tokens).
  public let payload: Data
  /// The footer (authenticated, in clear); empty when absent.
  public let footer: Data
}

/// PASETO v4.public: Ed25519 over PAE(header, message, footer, implicit assertion).
public enum PasetoV4Public {
  /// The token header.
  public static let header = "v4.public."

  /// Signs `payload` and returns `v4.public.<b64url(m‖sig)>[.<b64url(footer)>]`.
  public static func sign(
    payload: Data, footer: Data = Data(), implicitAssertion: Data = Data(), key: PasetoV4SecretKey
  ) throws(PasetoError) -> String {
    let preAuth = pae([Data(header.utf8), payload, footer, implicitAssertion])
    let signature: Data
    do { signature = try key.key.signature(for: preAuth) } catch { throw .signingFailed }
    var token = header + Base64URL.encode(payload + signature)
    if !footer.isEmpty { token += "." + Base64URL.encode(footer) }
    return token
  }

  /// Verifies a token's signature and returns its payload and footer. Nothing in the payload is
  /// parsed here: callers parse it only after this succeeds.
  /// - Parameters:
  ///   - expectedFooter: when given, the footer must equal it (compared in constant time).
  ///   - implicitAssertion: the bytes the token must have been bound to when signed.
  public static func verify(
    _ token: String, key: PasetoV4PublicKey, expectedFooter: Data? = nil, implicitAssertion: Data = Data()
  ) throws(PasetoError) -> PasetoVerified {
    let (body, footer) = try split(token)
    guard body.count >= 64 else { throw .truncated }
    let message = body.prefix(body.count - 64)
    let signature = body.suffix(64)
    if let expectedFooter, !constantTimeEqual(expectedFooter, footer) { throw .footerMismatch }
    guard let publicKey = key.key else { throw .invalidKey }
    let preAuth = pae([Data(header.utf8), Data(message), footer, implicitAssertion])
    guard publicKey.isValidSignature(signature, for: preAuth) else { throw .badSignature }
    return PasetoVerified(payload: Data(message), footer: footer)
  }

  /// The footer of a token, NOT verified: only to select a pinned key (`kid`) before `verify`.
  public static func unverifiedFooter(_ token: String) throws(PasetoError) -> Data {
    try split(token).footer
  }

  /// Pre-authentication encoding: the count, then each piece, each prefixed with its length as a
  /// little-endian 64-bit integer with the top bit clear.
  public static func pae(_ pieces: [Data]) -> Data {
    var out = Data()
    func le64(_ value: Int) {
      var v = UInt64(value) & 0x7FFF_FFFF_FFFF_FFFF
      for _ in 0..<8 {
        out.append(UInt8(v & 0xFF))
        v >>= 8
      }
    }
    le64(pieces.count)
    for piece in pieces {
      le64(piece.count)
      out.append(piece)
    }
    return out
  }

  static func split(_ token: String) throws(PasetoError) -> (body: Data, footer: Data) {
    guard token.hasPrefix(header) else { throw .notV4Public }
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3 || parts.count == 4 else { throw .notV4Public }
    guard let body = Base64URL.decode(parts[2]) else { throw .invalidBase64(part: "body") }
    var footer = Data()
    if parts.count == 4 {
      guard !parts[3].isEmpty, let decoded = Base64URL.decode(parts[3]) else { throw .invalidBase64(part: "footer") }
      footer = decoded
    }
    return (body, footer)
  }

  static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
  }
}

/// Base64url without padding (RFC 4648 §5), decoded strictly.
enum Base64URL {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  static func encode(_ data: Data) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((data.count * 4 + 2) / 3)
    let bytes = [UInt8](data)
    var i = 0
    while i + 3 <= bytes.count {
      let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
      i += 3
    }
    let rest = bytes.count - i
    if rest == 1 {
      let n = UInt32(bytes[i]) << 16
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
    } else if rest == 2 {
      let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
    }
    return String(decoding: out, as: UTF8.self)
  }

  private static func value(_ c: UInt8) -> UInt32? {
    switch c {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(c - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(c - UInt8(ascii: "a") + 26)
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0") + 52)
    case UInt8(ascii: "-"): 62
    case UInt8(ascii: "_"): 63
    default: nil
    }
  }

  /// Decodes, or nil for padding, a foreign character, an impossible length or non-zero
  /// trailing bits (which would let two strings decode to the same bytes).
  static func decode(_ text: Substring) -> Data? {
    let chars = Array(text.utf8)
    guard chars.count % 4 != 1 else { return nil }
    var values: [UInt32] = []
    values.reserveCapacity(chars.count)
    for c in chars {
      guard let v = value(c) else { return nil }
      values.append(v)
    }
    var out = Data()
    out.reserveCapacity(chars.count * 3 / 4)
    var i = 0
    while i + 4 <= values.count {
      let n = values[i] << 18 | values[i + 1] << 12 | values[i + 2] << 6 | values[i + 3]
      out.append(UInt8(n >> 16 & 0xFF))
      out.append(UInt8(n >> 8 & 0xFF))
      out.append(UInt8(n & 0xFF))
      i += 4
    }
    switch values.count - i {
    case 2:
      guard values[i + 1] & 0x0F == 0 else { return nil }
      out.append(UInt8((values[i] << 2 | values[i + 1] >> 4) & 0xFF))
    case 3:
      guard values[i + 2] & 0x03 == 0 else { return nil }
      let n = values[i] << 18 | values[i + 1] << 12 | values[i + 2] << 6
      out.append(UInt8(n >> 16 & 0xFF))
      out.append(UInt8(n >> 8 & 0xFF))
    default: break
    }
    return out
  }
}
