import Crypto
import Foundation
import Index
import Store
import TestSupport
import Testing

@testable import Consultation

/// The door with an injected clock: validity periods, forged tokens, sealed data, retention.
struct ProcedureAccessTests {
  static let fast = ScryptParameters(n: 1 << 10, r: 8, p: 1)
  static let passphrase = "pass"
  static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

  /// An installation with an administrator, a magistrate `judge` and an investigator `opj`.
  struct World {
    let folder: URL
    let installation: Installation
    let judge: Identity
    let opj: Identity

    func key(_ user: String) -> URL { folder.appendingPathComponent("\(user).key") }
  }

  static func world(now: Date = t0) throws -> World {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-access-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let installation = try Installation.create(
      home: folder.appendingPathComponent("home"), administrator: "admin", passphrase: passphrase,
      administratorKey: folder.appendingPathComponent("admin.key"), now: now, scrypt: fast)
    let admin = try installation.authenticate(keyFile: folder.appendingPathComponent("admin.key"), passphrase: passphrase, now: now)
    var identities: [String: Identity] = [:]
    for (user, role) in [("judge", Role.magistrate), ("opj", Role.investigator)] {
      let key = Curve25519.Signing.PrivateKey()
      let url = folder.appendingPathComponent("\(user).key")
      try SealedKeyFile.seal(key, user: user, passphrase: passphrase, parameters: fast).write(to: url)
      try installation.addUser(user, role: role, publicKey: key.publicKey.rawRepresentation.base64EncodedString(), by: admin, now: now)
      identities[user] = try installation.authenticate(keyFile: url, passphrase: passphrase, now: now)
    }
    return World(folder: folder, installation: installation, judge: identities["judge"]!, opj: identities["opj"]!)
  }

  @Test func anExpiredAuthorisationIsRefusedAndLogged() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let (token, _) = try world.installation.authorise(
      procedure: "P1", kind: .flagrance, investigators: ["opj"], notBefore: Self.t0, expires: Self.t0.addingTimeInterval(3600),
      by: world.judge, now: Self.t0)
    _ = try world.installation.openProcedure(token: token, by: world.opj, now: Self.t0)
    let during = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.opj) { Self.t0.addingTimeInterval(1800) }
    #expect(try during.search(SearchFilters()).total == 0)
    let after = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.opj) { Self.t0.addingTimeInterval(7200) }
    #expect(throws: AuthorisationError.expired(Self.t0.addingTimeInterval(3600))) { try after.search(SearchFilters()) }
    let last = try #require(try world.installation.logEntries().last?.entry)
    #expect(last.operation == "search" && last.outcome == .refused && last.parameters["reason"]?.contains("expired") == true)
    // The magistrate who authorised it may still consult it (and close it) after expiry.
    let magistrate = ProcedureAccess(procedure: "P1", installation: world.installation, identity: world.judge) { Self.t0.addingTimeInterval(7200) }
    #expect(try magistrate.search(SearchFilters()).total == 0)
  }

  @Test func aTokenWhoseFooterNamesAnotherProcedureIsRefused() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    // Signed by the enrolled magistrate, for P2, but with a footer claiming P1.
    let claims = AuthorisationClaims(
      installation: world.installation.id, procedure: "P2", kind: .preliminary, investigators: ["opj"], issuer: "judge",
      notBefore: Self.t0, expires: Self.t0.addingTimeInterval(86_400), issuedAt: Self.t0)
    let payload = try JSONEncoder().encode(claims)
    let forged = try PasetoV4Public.sign(
      payload: payload, footer: Data(#"{"kid":"judge","procedure":"P1"}"#.utf8),
      implicitAssertion: Authorisation.implicitAssertion(installation: world.installation.id, procedure: "P1"),
      key: world.judge.signingKey)
    #expect(throws: InstallationError.self) { try world.installation.openProcedure(token: forged, by: world.opj, now: Self.t0) }
    let last = try #require(try world.installation.logEntries().last?.entry)
    #expect(last.outcome == .refused && last.parameters["reason"]?.contains("another procedure (P2)") == true, "\(last)")
    #expect(try world.installation.procedures(visibleTo: world.judge).isEmpty, "nothing registered")
  }

  @Test func sealedDataOpensOnlyWithItsProcedurePrivateKeyAndObject() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-seal-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let kek = SymmetricKey(size: .bits256)
    let keys = ProcedureKeyFiles(home: folder, installation: "i")
    let publicKey = try keys.create(procedure: "P1", kek: kek)
    // A producer holds only the public key.
    let sealer = try ProcedureSealer(procedure: "P1", publicKey: publicKey)
    let clear = Data("thumbnail bytes".utf8)
    let sealed = try sealer.seal(clear, context: "thumbnail T1")
    #expect(sealed.count == clear.count + SealedFormat.overhead && sealed.range(of: clear) == nil)
    let opener = try keys.opener(procedure: "P1", kek: kek)
    #expect(try opener.open(sealed, context: "thumbnail T1") == clear)
    #expect(try opener.open(try sealer.seal(Data(), context: "empty"), context: "empty").isEmpty)
    #expect(throws: ProcedureError.self) { try opener.open(sealed, context: "thumbnail T2") }
    var flipped = sealed
    flipped[flipped.count - 20] ^= 1
    #expect(throws: ProcedureError.self) { try opener.open(flipped, context: "thumbnail T1") }
    #expect(throws: ProcedureError.self) { try opener.open(sealed.prefix(40), context: "thumbnail T1") }
    // Another procedure's key, or the same key file under another procedure's name, opens nothing.
    _ = try keys.create(procedure: "P2", kek: kek)
    #expect(throws: ProcedureError.self) { try keys.opener(procedure: "P2", kek: kek).open(sealed, context: "thumbnail T1") }
    try FileManager.default.copyItem(at: keys.url(of: "P1"), to: keys.url(of: "P3"))
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P3", kek: kek) }
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P1", kek: SymmetricKey(size: .bits256)) }
    #expect(throws: InstallationError.self) { try ProcedureKeyFiles(home: folder, installation: "j").opener(procedure: "P1", kek: kek) }
    // The key file is mode 0600; destroying it is final and idempotent.
    let mode = try FileManager.default.attributesOfItem(atPath: keys.url(of: "P1").path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    try keys.destroy(procedure: "P1")
    try keys.destroy(procedure: "P1")
    #expect(!FileManager.default.fileExists(atPath: keys.url(of: "P1").path))
    #expect(throws: InstallationError.self) { try keys.opener(procedure: "P1", kek: kek) }
    #expect(keys.procedures() == ["P2", "P3"])
  }

  /// An installation of an earlier lrj kept each procedure's symmetric key wrapped in the registry: opening it
  /// gives each open procedure a key pair, seals its thumbnails anew, and leaves only the public key in the registry.
  @Test func anEarlierInstallationsProcedureKeysMoveOutOfTheRegistry() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let installation = world.installation
    let (token, _) = try installation.authorise(
      procedure: "P1", kind: .preliminary, investigators: ["opj"], notBefore: Self.t0, expires: Self.t0.addingTimeInterval(86_400 * 30),
      by: world.judge, now: Self.t0)
    _ = try installation.openProcedure(token: token, by: world.opj, now: Self.t0)
    let access = ProcedureAccess(procedure: "P1", installation: installation, identity: world.opj) { Self.t0.addingTimeInterval(60) }
    _ = try access.ingest(path: TestPaths.samplesClip, camera: "street", start: nil)
    let kek = try installation.keyEncryptionKey()
    let current = try installation.procedureKeys.opener(procedure: "P1", kek: kek)
    var clear: [String: Data] = [:]

    // As an earlier lrj left it: thumbnails sealed with a symmetric key, that key wrapped in the registry, no key file.
    let legacy = LegacyProcedureKey.generate()
    let vault = installation.home.appendingPathComponent("procedures/P1/index.sqlite")
    let store = try IndexStore(path: vault.path)
    let count = try store.rewriteThumbnails(withFormatPrefix: ProcedureWorkspace.sealedPrefix) { track, thumbnail in
      clear[track] = try current.open(thumbnail.data, context: "thumbnail \(track)")
      return Thumbnail(format: "sealed-png", data: try legacy.seal(clear[track]!, procedure: "P1", context: "thumbnail \(track)"))
    }
    try store.close()
    #expect(count > 3)
    try installation.registry.write { tx in
      try tx.execute("UPDATE procedure SET wrapped_key = ?, public_key = NULL WHERE id = 'P1'",
                     try legacy.wrapped(with: kek, installation: installation.id, procedure: "P1"))
    }
    try installation.procedureKeys.destroy(procedure: "P1")

    let upgraded = try Installation.open(home: installation.home)
    let (wrapped, publicKey) = try upgraded.registry.read { tx in
      (try tx.value(Data.self, "SELECT wrapped_key FROM procedure WHERE id = 'P1'"),
       try tx.value(Data.self, "SELECT public_key FROM procedure WHERE id = 'P1'"))
    }
    #expect(wrapped == nil)
    let opener = try upgraded.procedureOpener("P1", publicKey: publicKey)
    #expect(opener.publicKey.rawRepresentation != current.publicKey.rawRepresentation, "a new key pair")
    let after = ProcedureAccess(procedure: "P1", installation: upgraded, identity: world.opj) { Self.t0.addingTimeInterval(120) }
    for (track, bytes) in clear { #expect(try after.thumbnail(track: track) == bytes, "\(track)") }
    let rekey = try #require(try upgraded.logEntries().compactMap(\.entry).first { $0.operation == "procedure.rekey" })
    #expect(rekey.procedure == "P1" && rekey.parameters["thumbnails-resealed"] == String(count)
            && rekey.parameters["seal-key"] == publicKey?.base64EncodedString())
    // Opening again changes nothing; the registry agrees with the log.
    let again = try Installation.open(home: installation.home)
    #expect(try again.logEntries().filter { $0.entry?.operation == "procedure.rekey" }.count == 1)
    let report = try again.verifyLog()
    #expect(report.problems.isEmpty, "\(report.problems)")
  }

  @Test func bodiesOlderThanFiveYearsArePurgedAutomaticallyOnceADay() throws {
    let world = try Self.world()
    defer { try? FileManager.default.removeItem(at: world.folder) }
    let installation = world.installation
    let countBefore = try installation.logEntries().count
    #expect(countBefore >= 3)
    // Six years later, the first sign-in of the day purges the old bodies and logs the purge.
    let later = Self.t0.addingTimeInterval(6 * 365.25 * 86_400)
    let judge = try installation.authenticate(keyFile: world.key("judge"), passphrase: Self.passphrase, now: later)
    let remaining = try installation.logEntries()
    #expect(remaining.count == 1 && remaining[0].entry?.operation == ConsultationLog.purgeOperation)
    #expect(remaining[0].entry?.resultCount == countBefore)
    let report = try installation.verifyLog()
    #expect(report.isValid && report.chain.purgedCount == countBefore, "\(report.chain) \(report.problems)")
    // The purge entry carries the registry its purged entries built: the registry still checks out.
    #expect(remaining[0].entry?.parameters["registry-state"]?.contains("judge") == true)
    // Later the same day: nothing more to do, nothing logged.
    _ = try installation.authenticate(keyFile: world.key("judge"), passphrase: Self.passphrase, now: later.addingTimeInterval(3600))
    #expect(try installation.logEntries().count == 1)
    // The magistrate still reads what is left, and the chain still verifies.
    #expect(try installation.consultLog(LogFilter(), by: judge, now: later).count >= 1)
    #expect(try installation.verifyLog().isValid)
  }
}
