import Consultation
import Crypto
import Foundation
import Testing

struct KeyFileTests {
  /// Cheap parameters so the tests stay fast; `standard` is used once.
  static let fast = ScryptParameters(n: 1 << 10, r: 8, p: 1)

  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-keyfile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test func roundTripThroughAFileWithMode0600() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let key = Curve25519.Signing.PrivateKey()
    let sealed = try SealedKeyFile.seal(key, user: "judge.martin", role: "magistrate", passphrase: "correct horse", parameters: .standard)
    let url = folder.appendingPathComponent("judge.key")
    try sealed.write(to: url)
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    let read = try SealedKeyFile.read(from: url)
    #expect(read == sealed)
    #expect(read.user == "judge.martin")
    #expect(read.role == "magistrate")
    let opened = try read.unseal(passphrase: "correct horse")
    #expect(opened.rawRepresentation == key.rawRepresentation)
    #expect(try read.signingPublicKey().rawRepresentation == key.publicKey.rawRepresentation)
    // No clear private key in the file.
    let text = try String(contentsOf: url, encoding: .utf8)
    #expect(!text.contains(key.rawRepresentation.base64EncodedString()))
    // No temporary file left behind; an existing file is not replaced unless asked.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["judge.key"])
    #expect(throws: KeyFileError.self) { try sealed.write(to: url) }
    try sealed.write(to: url, replacing: true)
  }

  @Test func wrongPassphraseIsAClearError() throws {
    let sealed = try SealedKeyFile.seal(Curve25519.Signing.PrivateKey(), user: "u", passphrase: "right", parameters: Self.fast)
    #expect(throws: KeyFileError.wrongPassphrase) { try sealed.unseal(passphrase: "wrong") }
    #expect(throws: KeyFileError.emptyPassphrase) { try sealed.unseal(passphrase: "") }
    #expect(KeyFileError.wrongPassphrase.description == "wrong passphrase, or the key file was altered")
  }

  @Test func truncatedOrGarbledFilesAreClearErrors() throws {
    let sealed = try SealedKeyFile.seal(Curve25519.Signing.PrivateKey(), user: "u", passphrase: "p", parameters: Self.fast)
    let bytes = sealed.encoded()
    for cut in stride(from: 0, to: bytes.count, by: 7) {
      #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(bytes.prefix(cut)) }
    }
    #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(Data("garbage".utf8)) }
    #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(Data((0..<300).map { UInt8($0 & 0xFF) })) }
    #expect(throws: KeyFileError.malformed("field \"nonce\" is missing")) {
      try SealedKeyFile.decode(edit(bytes) { $0.removeValue(forKey: "nonce") })
    }
    #expect(throws: KeyFileError.unsupportedVersion(2)) { try SealedKeyFile.decode(edit(bytes) { $0["version"] = 2 }) }
    #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(edit(bytes) { $0["salt"] = "%%%" }) }
    #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(edit(bytes) { $0["ciphertext"] = "AAAA" }) }
    #expect(throws: KeyFileError.self) { try SealedKeyFile.decode(Data(count: 70_000)) }
  }

  @Test func editedFieldsBreakTheSeal() throws {
    let sealed = try SealedKeyFile.seal(Curve25519.Signing.PrivateKey(), user: "inv.dupont", passphrase: "p", parameters: Self.fast)
    let bytes = sealed.encoded()
    let renamed = try SealedKeyFile.decode(edit(bytes) { $0["user"] = "judge.martin" })
    #expect(throws: KeyFileError.wrongPassphrase) { try renamed.unseal(passphrase: "p") }
    let promoted = try SealedKeyFile.decode(edit(bytes) { $0["role"] = "administrator" })
    #expect(throws: KeyFileError.wrongPassphrase) { try promoted.unseal(passphrase: "p") }
    let otherKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
    let swapped = try SealedKeyFile.decode(edit(bytes) { $0["public_key"] = otherKey })
    #expect(throws: KeyFileError.wrongPassphrase) { try swapped.unseal(passphrase: "p") }
    var ciphertext = Data(base64Encoded: sealed.ciphertext)!
    ciphertext[3] ^= 1
    let flipped = try SealedKeyFile.decode(edit(bytes) { $0["ciphertext"] = ciphertext.base64EncodedString() })
    #expect(throws: KeyFileError.wrongPassphrase) { try flipped.unseal(passphrase: "p") }
  }

  @Test func absurdScryptParametersAreRefusedBeforeUse() throws {
    let sealed = try SealedKeyFile.seal(Curve25519.Signing.PrivateKey(), user: "u", passphrase: "p", parameters: Self.fast)
    let bytes = sealed.encoded()
    for (n, r, p) in [(1 << 30, 8, 1), (1 << 20, 8, 1), (1 << 15, 1024, 1), (1 << 15, 8, 1_000_000), (1000, 8, 1), (0, 0, 0), (-1, 8, 1)] {
      #expect(throws: KeyFileError.self, "N=\(n) r=\(r) p=\(p)") {
        try SealedKeyFile.decode(edit(bytes) { $0["scrypt"] = ["n": n, "r": r, "p": p] })
      }
    }
    #expect(throws: KeyFileError.self) {
      try SealedKeyFile.seal(Curve25519.Signing.PrivateKey(), user: "u", passphrase: "p", parameters: ScryptParameters(n: 1 << 24, r: 8, p: 1))
    }
    #expect(throws: Never.self) { try ScryptParameters.standard.validate() }
    // A stronger setting within the bounds (64 MiB) works.
    let strong = try SealedKeyFile.seal(
      Curve25519.Signing.PrivateKey(), user: "u", passphrase: "p", parameters: ScryptParameters(n: 1 << 16, r: 8, p: 1))
    #expect(throws: Never.self) { try strong.unseal(passphrase: "p") }
  }

  /// Edits the JSON object of a key file.
  func edit(_ bytes: Data, _ change: (inout [String: Any]) -> Void) throws -> Data {
    var object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    change(&object)
    return try JSONSerialization.data(withJSONObject: object)
  }
}
