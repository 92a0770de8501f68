import Crypto
import Foundation
import Index

/// Sealed bytes, format 1: what a ``ProcedureSealer`` writes and a ``ProcedureOpener`` opens.
///
/// | bytes | field |
/// |---|---|
/// | 1 | format, `1` |
/// | 32 | HPKE encapsulated key (X25519) |
/// | 48 | the data key (32 bytes), HPKE-sealed to the procedure's public key (ChaCha20-Poly1305) |
/// | 12 | AES-GCM nonce |
/// | n + 16 | the bytes, AES-256-GCM under the data key, authenticating procedure and context |
///
/// One data key serves every object one sealer seals (one ingest, one zone save): producers need
/// only the public key, and an opener performs one X25519 agreement per data key, not per object.
enum SealedFormat {
  static let version: UInt8 = 1
  static let headerSize = 1 + 32 + 48
  static let overhead = headerSize + 12 + 16
  static var suite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }

  static func info(procedure: String) -> Data { Data("lrj procedure seal 1\u{0}\(procedure)".utf8) }

  static func objectData(procedure: String, context: String) -> Data {
    Data("lrj sealed 1\u{0}\(procedure)\u{0}\(context)".utf8)
  }
}

/// The public half of a procedure's key pair, as producers (an ingest, a zone save) use it: seals
/// what is derived from footage so that only the holder of the private key can open it.
struct ProcedureSealer: Sendable {
  let procedure: String
  /// The procedure's public key (raw 32 bytes).
  let publicKey: Data
  private let header: Data
  private let dataKeyBytes: Data
  private var dataKey: SymmetricKey { SymmetricKey(data: dataKeyBytes) }

  /// A sealer with a fresh data key.
  init(procedure: String, publicKey: Curve25519.KeyAgreement.PublicKey) throws {
    self.procedure = procedure
    self.publicKey = publicKey.rawRepresentation
    let raw = SymmetricKey(size: .bits256)
    var sender = try HPKE.Sender(recipientKey: publicKey, ciphersuite: SealedFormat.suite, info: SealedFormat.info(procedure: procedure))
    let wrapped = try raw.withUnsafeBytes { try sender.seal(Data($0)) }
    header = Data([SealedFormat.version]) + sender.encapsulatedKey + wrapped
    guard header.count == SealedFormat.headerSize else { throw ProcedureError("unexpected HPKE sizes sealing for procedure \(procedure)") }
    dataKeyBytes = raw.withUnsafeBytes { Data($0) }
  }

  /// Seals bytes; `context` names what they are (for example "thumbnail T12") and must be given to open them.
  func seal(_ data: Data, context: String) throws -> Data {
    let box = try AES.GCM.seal(data, using: dataKey, authenticating: SealedFormat.objectData(procedure: procedure, context: context))
    return header + box.nonce.withUnsafeBytes { Data($0) } + box.ciphertext + box.tag
  }
}

/// The private half of a procedure's key pair: opens what its sealers sealed. Exists only where
/// consultations are served, loaded from `keys/procedures/<id>`.
final class ProcedureOpener: @unchecked Sendable {
  let procedure: String
  private let privateKey: Curve25519.KeyAgreement.PrivateKey
  private let lock = NSLock()
  private var dataKeys: [Data: SymmetricKey] = [:]

  init(procedure: String, privateKey: Curve25519.KeyAgreement.PrivateKey) {
    self.procedure = procedure
    self.privateKey = privateKey
  }

  var publicKey: Curve25519.KeyAgreement.PublicKey { privateKey.publicKey }

  /// A sealer to this opener's public key.
  func sealer() throws -> ProcedureSealer { try ProcedureSealer(procedure: procedure, publicKey: publicKey) }

  /// Opens bytes sealed with `context`. - Throws: `ProcedureError` when they were altered, moved to
  /// another object or procedure, or sealed to another key.
  func open(_ sealed: Data, context: String) throws -> Data {
    let bytes = Data(sealed)
    let failure = ProcedureError("sealed data of \(context) in procedure \(procedure) does not open (altered, moved or sealed to another key)")
    guard bytes.count >= SealedFormat.overhead, bytes[bytes.startIndex] == SealedFormat.version else { throw failure }
    let header = bytes.prefix(SealedFormat.headerSize)
    do {
      let key = try dataKey(header)
      let rest = bytes.dropFirst(SealedFormat.headerSize)
      let box = try AES.GCM.SealedBox(
        nonce: AES.GCM.Nonce(data: rest.prefix(12)), ciphertext: rest.dropFirst(12).dropLast(16), tag: rest.suffix(16))
      return try AES.GCM.open(box, using: key, authenticating: SealedFormat.objectData(procedure: procedure, context: context))
    } catch {
      throw failure
    }
  }

  private func dataKey(_ header: Data) throws -> SymmetricKey {
    lock.lock()
    defer { lock.unlock() }
    if let key = dataKeys[header] { return key }
    let encapsulated = header.dropFirst(1).prefix(32)
    var recipient = try HPKE.Recipient(
      privateKey: privateKey, ciphersuite: SealedFormat.suite, info: SealedFormat.info(procedure: procedure),
      encapsulatedKey: Data(encapsulated))
    let raw = try recipient.open(header.dropFirst(33))
    guard raw.count == 32 else { throw ProcedureError("bad data key") }
    let key = SymmetricKey(data: raw)
    dataKeys[header] = key
    return key
  }
}

/// A procedure's sealing for its index: seals to its public key, opens with its private key when this
/// process holds it.
public struct ProcedureSealing: IndexSealing {
  /// Sealed bytes start with the wrapped data key, then a random nonce, within 93 bytes.
  public var marksEachSealing: Bool { true }
  let procedure: String
  let sealer: ProcedureSealer?
  let opener: ProcedureOpener?

  init(opener: ProcedureOpener) throws {
    procedure = opener.procedure
    self.opener = opener
    sealer = try opener.sealer()
  }

  private init(procedure: String) {
    self.procedure = procedure
    sealer = nil
    opener = nil
  }

  /// A sealing with a key pair the caller holds, as a procedure's: for benchmarks of the sealed
  /// index (a procedure's real sealing always comes from its key file).
  /// - Parameter privateKey: 32 raw bytes of an X25519 private key (kept by the benchmark to measure a store again).
  public static func forBenchmark(procedure: String, privateKey: Data) throws -> any IndexSealing {
    try ProcedureSealing(
      opener: ProcedureOpener(procedure: procedure, privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey)))
  }

  /// For work on routing rows and stored bytes only (settling, digests, erasure): seals and opens nothing.
  static func locked(_ procedure: String) -> ProcedureSealing { ProcedureSealing(procedure: procedure) }

  public func seal(_ data: Data, context: String) throws -> Data {
    guard let sealer else { throw ProcedureError("no key of procedure \(procedure) is at hand to seal \(context)") }
    return try sealer.seal(data, context: context)
  }

  public func open(_ data: Data, context: String) throws -> Data {
    guard let opener else { throw ProcedureError("no key of procedure \(procedure) is at hand to open \(context)") }
    return try opener.open(data, context: context)
  }
}

/// Procedure private keys on disk: `keys/procedures/<id>`, the X25519 private key AES-GCM-wrapped
/// with the installation's key-encryption key (never in any database); destroyed at closure.
struct ProcedureKeyFiles {
  let home: URL
  let installation: String

  var folder: URL { home.appendingPathComponent("keys/procedures") }

  func url(of procedure: String) -> URL { folder.appendingPathComponent(procedure) }

  static func associatedData(installation: String, procedure: String) -> Data {
    Data("lrj procedure private key 1\u{0}\(installation)\u{0}\(procedure)".utf8)
  }

  /// Makes a new key pair for `procedure` and writes its wrapped private key (replacing a leftover of an
  /// attempt that never registered the procedure). - Returns: the public key.
  func create(procedure: String, kek: SymmetricKey) throws -> Curve25519.KeyAgreement.PublicKey {
    let key = Curve25519.KeyAgreement.PrivateKey()
    try write(key, procedure: procedure, kek: kek)
    return key.publicKey
  }

  func write(_ key: Curve25519.KeyAgreement.PrivateKey, procedure: String, kek: SymmetricKey) throws {
    guard
      let wrapped = try AES.GCM.seal(
        key.rawRepresentation, using: kek, authenticating: Self.associatedData(installation: installation, procedure: procedure)
      ).combined
    else { throw InstallationError("cannot wrap the key of procedure \(procedure)") }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try Self.writeDurably(wrapped, to: url(of: procedure))
  }

  /// The procedure's opener. - Throws: `InstallationError` naming the file when it is missing or does
  /// not open with the installation key.
  func opener(procedure: String, kek: SymmetricKey) throws -> ProcedureOpener {
    let url = url(of: procedure)
    guard let wrapped = FileManager.default.contents(atPath: url.path) else {
      throw InstallationError("the key of procedure \(procedure) is missing (\(url.path))")
    }
    do {
      let raw = try AES.GCM.open(
        AES.GCM.SealedBox(combined: wrapped), using: kek, authenticating: Self.associatedData(installation: installation, procedure: procedure))
      return ProcedureOpener(procedure: procedure, privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw))
    } catch {
      throw InstallationError("the key of procedure \(procedure) (\(url.path)) does not open with the installation key (replaced or altered)")
    }
  }

  /// Crypto-erase: overwrites the key file, makes that durable, unlinks it and syncs the folder. Idempotent.
  func destroy(procedure: String) throws {
    let path = url(of: procedure).path
    guard FileManager.default.fileExists(atPath: path) else { return }
    let fd = open(path, O_WRONLY)
    if fd >= 0 {
      var size = stat()
      if fstat(fd, &size) == 0, size.st_size > 0 {
        let zeros = [UInt8](repeating: 0, count: Int(size.st_size))
        _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fsync(fd)
      }
      close(fd)
    }
    guard unlink(path) == 0 || errno == ENOENT else {
      throw InstallationError("cannot destroy the key of procedure \(procedure) (\(path)): \(String(cString: strerror(errno)))")
    }
    Self.syncFolder(folder.path)
  }

  /// The procedures that have a key file.
  func procedures() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
  }

  static func writeDurably(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp").path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { throw InstallationError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
    let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    let synced = fsync(fd) == 0
    close(fd)
    guard written == data.count, synced, rename(temporary, url.path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw InstallationError("cannot write \(url.path): \(reason)")
    }
    syncFolder(url.deletingLastPathComponent().path)
  }

  static func syncFolder(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    if fd >= 0 {
      fsync(fd)
      close(fd)
    }
  }
}
