import Crypto
import Foundation
import Index
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

  @Test func sealedDataOpensOnlyForItsProcedureAndObject() throws {
    let key = ProcedureKey.generate()
    let sealed = try key.seal(Data("thumbnail bytes".utf8), procedure: "P1", context: "thumbnail T1")
    #expect(try key.open(sealed, procedure: "P1", context: "thumbnail T1") == Data("thumbnail bytes".utf8))
    #expect(throws: ProcedureError.self) { try key.open(sealed, procedure: "P1", context: "thumbnail T2") }
    #expect(throws: ProcedureError.self) { try key.open(sealed, procedure: "P2", context: "thumbnail T1") }
    #expect(throws: ProcedureError.self) { try ProcedureKey.generate().open(sealed, procedure: "P1", context: "thumbnail T1") }
    let kek = SymmetricKey(size: .bits256)
    let wrapped = try key.wrapped(with: kek, installation: "i", procedure: "P1")
    #expect(try ProcedureKey.unwrap(wrapped, with: kek, installation: "i", procedure: "P1").open(sealed, procedure: "P1", context: "thumbnail T1").count == 15)
    #expect(throws: InstallationError.self) { try ProcedureKey.unwrap(wrapped, with: kek, installation: "i", procedure: "P2") }
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
