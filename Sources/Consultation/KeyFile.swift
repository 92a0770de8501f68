import Crypto
import Foundation
import _CryptoExtras

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a key file could not be sealed, read, written or opened.
public enum KeyFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file is not a key file we can read (truncated, garbled, a field missing or malformed).
  case malformed(String)
  /// The file's format version is not one this build knows.
  case unsupportedVersion(Int)
  /// The scrypt parameters are outside the accepted bounds.
  case unsafeParameters(String)
  /// The passphrase is wrong, or the sealed part of the file was altered.
  case wrongPassphrase
  /// The passphrase is empty.
  case emptyPassphrase
  /// Reading or writing the file failed.
  case io(String)

  public var description: String {
    switch self {
    case .malformed(let why): "key file refused: \(why)"
    case .unsupportedVersion(let version): "key file refused: unsupported format version \(version)"
    case .unsafeParameters(let why): "key file refused: unsafe scrypt parameters (\(why))"
    case .wrongPassphrase: "wrong passphrase, or the key file was altered"
    case .emptyPassphrase: "the passphrase is empty"
    case .io(let why): "key file: \(why)"
    }
  }
}

/// scrypt cost parameters, bounded so that a hostile file cannot exhaust memory or time.
public struct ScryptParameters: Codable, Sendable, Equatable {
  /// CPU/memory cost N (a power of two).
  public var n: Int
  /// Block size r.
  public var r: Int
  /// Parallelism p.
  public var p: Int

  /// Makes parameters; call `validate()` before use.
  public init(n: Int, r: Int, p: Int) {
    self.n = n
    self.r = r
    self.p = p
  }

  /// N = 2^15, r = 8, p = 1: 32 MiB, about a tenth of a second.
  public static let standard = ScryptParameters(n: 1 << 15, r: 8, p: 1)
  /// Largest memory scrypt may use: 128 · N · r bytes ≤ 256 MiB.
  public static let maximumMemory = 256 << 20

  /// Throws unless N is a power of two in 2^10…2^20, r in 1…32, p in 1…16 and memory ≤ 256 MiB.
  public func validate() throws(KeyFileError) {
    guard n >= 1 << 10, n <= 1 << 20, n & (n - 1) == 0 else {
      throw .unsafeParameters("N = \(n); expected a power of two from 2^10 to 2^20")
    }
    guard (1...32).contains(r) else { throw .unsafeParameters("r = \(r); expected 1 to 32") }
    guard (1...16).contains(p) else { throw .unsafeParameters("p = \(p); expected 1 to 16") }
    guard 128 * n * r <= Self.maximumMemory else {
      throw .unsafeParameters("128·N·r = \(128 * n * r) bytes; at most \(Self.maximumMemory)")
    }
    guard n * r * p <= 1 << 24 else { throw .unsafeParameters("N·r·p = \(n * r * p); at most 2^24") }
  }
}

/// An Ed25519 private key sealed with a passphrase (scrypt, then AES-256-GCM), as a versioned
/// JSON file. The clear fields (format, user, role, public key, scrypt parameters) are the
/// associated data of the seal, so editing any of them makes opening fail.
public struct SealedKeyFile: Codable, Sendable, Equatable {
  /// The format name written in every file.
  public static let formatName = "lrj-key-file"
  /// The current format version.
  public static let currentVersion = 1
  /// Largest file read.
  static let maximumFileBytes = 64 << 10

  /// Always `lrj-key-file`.
  public let format: String
  /// The format version.
  public let version: Int
  /// The user id the key belongs to.
  public let user: String
  /// A hint of the user's role; the registry is authoritative.
  public let role: String?
  /// The Ed25519 public key, base64.
  public let publicKey: String
  /// Always `scrypt`.
  public let kdf: String
  /// scrypt's salt, base64.
  public let salt: String
  /// scrypt's parameters.
  public let scrypt: ScryptParameters
  /// Always `aes-256-gcm`.
  public let cipher: String
  /// The AES-GCM nonce, base64.
  public let nonce: String
  /// The sealed private key followed by the tag, base64.
  public let ciphertext: String

  enum CodingKeys: String, CodingKey {
    case format, version, user, role, kdf, salt, scrypt, cipher, nonce, ciphertext
    case publicKey = "public_key"
  }

  /// Seals `key` for `user` with `passphrase`.
  public static func seal(
    _ key: Curve25519.Signing.PrivateKey, user: String, role: String? = nil, passphrase: String,
    parameters: ScryptParameters = .standard
  ) throws(KeyFileError) -> SealedKeyFile {
    guard !passphrase.isEmpty else { throw .emptyPassphrase }
    guard !user.isEmpty else { throw .malformed("empty user id") }
    try parameters.validate()
    var generator = SystemRandomNumberGenerator()
    let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    let wrappingKey = try derive(passphrase: passphrase, salt: salt, parameters: parameters)
    let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
    let aad = associatedData(user: user, role: role, publicKey: publicKey, salt: salt, parameters: parameters)
    do {
      let box = try AES.GCM.seal(key.rawRepresentation, using: wrappingKey, authenticating: aad)
      return SealedKeyFile(
        format: formatName, version: currentVersion, user: user, role: role, publicKey: publicKey, kdf: "scrypt",
        salt: salt.base64EncodedString(), scrypt: parameters, cipher: "aes-256-gcm",
        nonce: Data(box.nonce).base64EncodedString(), ciphertext: (box.ciphertext + box.tag).base64EncodedString())
    } catch {
      throw .io("sealing failed: \(error)")
    }
  }

  /// Opens the seal with `passphrase` and returns the private key.
  public func unseal(passphrase: String) throws(KeyFileError) -> Curve25519.Signing.PrivateKey {
    guard !passphrase.isEmpty else { throw .emptyPassphrase }
    let fields = try checked()
    let wrappingKey = try Self.derive(passphrase: passphrase, salt: fields.salt, parameters: scrypt)
    let aad = Self.associatedData(user: user, role: role, publicKey: publicKey, salt: fields.salt, parameters: scrypt)
    let raw: Data
    do {
      let box = try AES.GCM.SealedBox(
        nonce: AES.GCM.Nonce(data: fields.nonce), ciphertext: fields.ciphertext.prefix(32),
        tag: fields.ciphertext.suffix(16))
      raw = try AES.GCM.open(box, using: wrappingKey, authenticating: aad)
    } catch {
      throw .wrongPassphrase
    }
    guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw),
      key.publicKey.rawRepresentation == fields.publicKey
    else { throw .malformed("the sealed key does not match the public key") }
    return key
  }

  /// The public key, once the file's fields are checked.
  public func signingPublicKey() throws(KeyFileError) -> Curve25519.Signing.PublicKey {
    let raw = try checked().publicKey
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
      throw .malformed("public_key is not an Ed25519 key")
    }
    return key
  }

  /// The file's bytes: pretty JSON with sorted keys.
  public func encoded() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return (try? encoder.encode(self)) ?? Data()
  }

  /// Parses and checks a key file's bytes.
  public static func decode(_ data: Data) throws(KeyFileError) -> SealedKeyFile {
    guard data.count <= maximumFileBytes else { throw .malformed("larger than \(maximumFileBytes) bytes") }
    let file: SealedKeyFile
    do {
      file = try JSONDecoder().decode(SealedKeyFile.self, from: data)
    } catch let error as DecodingError {
      throw .malformed(Self.describe(error))
    } catch {
      throw .malformed("not JSON")
    }
    _ = try file.checked()
    return file
  }

  /// Reads and checks a key file.
  public static func read(from url: URL) throws(KeyFileError) -> SealedKeyFile {
    let data: Data
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw .io("no key file \(url.path)")
    }
    guard !isDirectory.boolValue else { throw .io("\(url.path) is a directory, not a key file") }
    do {
      let handle = try FileHandle(forReadingFrom: url)
      defer { try? handle.close() }
      data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
    } catch {
      throw .io("cannot read \(url.path): \(error.localizedDescription)")
    }
    return try decode(data)
  }

  /// Writes the file atomically (a temporary file in the same folder, fsync, rename) with mode 0600.
  /// - Parameter replacing: when false, an existing file is not overwritten.
  public func write(to url: URL, replacing: Bool = false) throws(KeyFileError) {
    let path = url.path
    if !replacing, FileManager.default.fileExists(atPath: path) { throw .io("\(path) already exists") }
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp").path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { throw .io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    do {
      guard fchmod(fd, 0o600) == 0 else { throw KeyFileError.io("cannot set mode 0600 on \(temporary)") }
      try handle.write(contentsOf: encoded())
      try handle.synchronize()
      try handle.close()
    } catch {
      try? handle.close()
      unlink(temporary)
      throw .io("cannot write \(temporary): \(error)")
    }
    guard rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw .io("cannot rename to \(path): \(reason)")
    }
  }

  struct Fields {
    let publicKey: Data
    let salt: Data
    let nonce: Data
    let ciphertext: Data
  }

  /// Checks every field without the passphrase.
  func checked() throws(KeyFileError) -> Fields {
    guard format == Self.formatName else { throw .malformed("not an lrj key file (format \"\(format)\")") }
    guard version == Self.currentVersion else { throw .unsupportedVersion(version) }
    guard !user.isEmpty else { throw .malformed("empty user id") }
    guard kdf == "scrypt" else { throw .malformed("unknown key derivation \"\(kdf)\"") }
    guard cipher == "aes-256-gcm" else { throw .malformed("unknown cipher \"\(cipher)\"") }
    try scrypt.validate()
    guard let publicKey = Data(base64Encoded: publicKey), publicKey.count == 32 else {
      throw .malformed("public_key is not 32 bytes of base64")
    }
    guard let salt = Data(base64Encoded: salt), (16...64).contains(salt.count) else {
      throw .malformed("salt is not 16 to 64 bytes of base64")
    }
    guard let nonce = Data(base64Encoded: nonce), nonce.count == 12 else {
      throw .malformed("nonce is not 12 bytes of base64")
    }
    guard let ciphertext = Data(base64Encoded: ciphertext), ciphertext.count == 48 else {
      throw .malformed("ciphertext is not 48 bytes of base64 (key and tag)")
    }
    return Fields(publicKey: publicKey, salt: salt, nonce: nonce, ciphertext: ciphertext)
  }

  static func derive(passphrase: String, salt: Data, parameters: ScryptParameters) throws(KeyFileError) -> SymmetricKey {
    try parameters.validate()
    do {
      return try KDF.Scrypt.deriveKey(
        from: Data(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: parameters.n,
        blockSize: parameters.r, parallelism: parameters.p, maxMemory: ScryptParameters.maximumMemory + (1 << 20))
    } catch {
      throw .unsafeParameters("scrypt failed: \(error)")
    }
  }

  static func associatedData(
    user: String, role: String?, publicKey: String, salt: Data, parameters: ScryptParameters
  ) -> Data {
    PasetoV4Public.pae([
      Data("\(formatName) v\(currentVersion)".utf8), Data(user.utf8), Data((role ?? "").utf8), Data(publicKey.utf8),
      salt, Data("\(parameters.n) \(parameters.r) \(parameters.p)".utf8),
    ])
  }

  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .keyNotFound(let key, _): "field \"\(key.stringValue)\" is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
    case .dataCorrupted: "not valid JSON (truncated or garbled)"
    @unknown default: "not a key file"
    }
  }
}
