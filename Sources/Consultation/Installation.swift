import Crypto
import Foundation
import Store
import StorePostgres
import StoreSQLite

/// What a user may do (DESIGN.md §1, L3).
public enum Role: String, CaseIterable, Codable, Sendable {
  case investigator, magistrate, controller, administrator
  /// A processing machine's account (DESIGN.md §13): it processes queued spans of ingests and nothing
  /// else (no search, no log, no export, no authorisation), and holds no key that opens procedure data.
  case worker
}

/// A failure of the installation or of identities: a one-line cause.
public struct InstallationError: Error, CustomStringConvertible, Sendable, Equatable {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// A user as enrolled by an administrator.
public struct EnrolledUser: Sendable, Codable, Equatable {
  public var id: String
  public var role: Role
  /// The Ed25519 public key, base64.
  public var publicKey: String
  public var enabled: Bool
  public var enrolledAt: Date
  public var enrolledBy: String
}

/// A user who proved they hold their enrolled key: their private key unsealed with their
/// passphrase matches the public key the administrator enrolled, and they are enabled.
public struct Identity: @unchecked Sendable {  // immutable; the key is only read
  public let user: String
  public let role: Role
  let signingKey: PasetoV4SecretKey
}

/// An lrj installation under `LRJ_HOME`: `installation.json`, the key-encryption key
/// (`keys/kek`, mode 0600) and `registry.sqlite` (users and the consultation log).
public struct Installation: Sendable {
  /// The installation's folder.
  public let home: URL
  /// `LRJ_HOME`, or `~/.local/share/lrj`.
  public static var defaultHome: URL {
    if let home = ProcessInfo.processInfo.environment["LRJ_HOME"], !home.isEmpty {
      return URL(fileURLWithPath: home)
    }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/lrj")
  }

  /// The installation's id (a UUID), the audience of its authorisation tokens.
  public let id: String
  let registry: any StoreEngine
  let log: ConsultationLog
  /// Where procedures' indexes are kept (files under `home`, or schemas of the PostgreSQL database).
  let indexes: ProcedureIndexes

  struct Manifest: Codable {
    var id: String
    var createdAt: Date
    var formatVersion: Int
    /// The service database (a PostgreSQL URL without its password); nil for the embedded SQLite files.
    var database: String?
  }

  /// The environment variable naming the database: set at `lrj init` it picks the engine; set for
  /// any later command it overrides the one recorded (to point at a restored copy, for instance).
  public static let databaseVariable = "LRJ_DATABASE"

  /// Which database: `LRJ_DATABASE` when set, else what the installation recorded, else embedded.
  static func database(recorded: String?) -> String? {
    if let text = ProcessInfo.processInfo.environment[databaseVariable], !text.isEmpty { return text }
    return recorded
  }

  /// The registry's engine: PostgreSQL for a `postgres://` URL, else the SQLite file under `home`.
  static func engine(database: String?, home: URL) throws -> any StoreEngine {
    guard let database else {
      return try SQLiteEngine(path: home.appendingPathComponent("registry.sqlite").path)
    }
    do {
      return try PostgresEngine(location: PostgresLocation(url: database))
    } catch let error as StoreError {
      throw InstallationError(error.description)
    }
  }

  init(home: URL, id: String, registry: any StoreEngine, database: String?) throws {
    self.home = home
    self.id = id
    self.registry = registry
    log = ConsultationLog(engine: registry, origin: "lrj/\(id)")
    do {
      indexes = ProcedureIndexes(
        home: home, installation: id, service: try database.map { try PostgresLocation(url: $0) }, registry: registry)
    } catch let error as StoreError {
      throw InstallationError(error.description)
    }
  }

  /// What `lrj about` and errors say of the database.
  public var databaseDescription: String { registry.dialect == .sqlite ? "embedded SQLite (\(registry.name))" : "PostgreSQL \(registry.name)" }

  /// Creates an installation in `home` (which must not hold one) and its first administrator,
  /// whose sealed key file is written to `administratorKey` (mode 0600).
  /// - Throws: `InstallationError` when `home` already holds an installation or cannot be written,
  ///   `KeyFileError` for an empty passphrase.
  public static func create(
    home: URL, administrator: String, passphrase: String, administratorKey: URL, now: Date = Date(),
    scrypt: ScryptParameters = .standard, database: String? = nil
  ) throws -> Installation {
    try validateUserID(administrator)
    let manifestURL = home.appendingPathComponent("installation.json")
    guard !FileManager.default.fileExists(atPath: manifestURL.path) else {
      throw InstallationError("\(home.path) already holds an lrj installation")
    }
    guard !FileManager.default.fileExists(atPath: administratorKey.path) else {
      throw InstallationError("\(administratorKey.path) exists; choose another file for the administrator's key")
    }
    let registryURL = home.appendingPathComponent("registry.sqlite")
    guard !FileManager.default.fileExists(atPath: registryURL.path) else {
      throw InstallationError("\(home.path) holds an unfinished installation (registry.sqlite without installation.json); "
                              + "remove it or choose another LRJ_HOME")
    }
    let keyFolder = administratorKey.deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: keyFolder, isDirectory: &isFolder), isFolder.boolValue,
          FileManager.default.isWritableFile(atPath: keyFolder) else {
      throw InstallationError("cannot write the administrator's key in \(keyFolder) (no such folder, or not writable)")
    }
    // The administrator's key first: a bad passphrase must leave nothing behind.
    let key = Curve25519.Signing.PrivateKey()
    let sealed = try SealedKeyFile.seal(key, user: administrator, role: Role.administrator.rawValue,
                                        passphrase: passphrase, parameters: scrypt)
    let homeExisted = FileManager.default.fileExists(atPath: home.path)
    let keys = home.appendingPathComponent("keys")
    let keysExisted = FileManager.default.fileExists(atPath: keys.path)
    do {
      return try populate(home: home, administrator: administrator, key: key, now: now, database: database) { installation in
        // The first checkpoint, so that a log without any can be told to have lost them.
        let note = try installation.log.checkpoint(signingKey: key, keyName: administrator, now: now)
        try sealed.write(to: administratorKey, replacing: false)
        installation.keep(checkpoint: note)
      }
    } catch {
      // Whatever failed, the home is left as it was and no key file remains.
      for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: registryURL.path + suffix) }
      if let database, !(error is InstallationError && "\(error)".contains("already holds")),
        let engine = try? Self.engine(database: database, home: home)
      {
        try? RegistrySchema.drop(engine)
      }
      try? FileManager.default.removeItem(at: keys.appendingPathComponent("kek"))
      if !keysExisted { try? FileManager.default.removeItem(at: keys) }
      if !homeExisted { try? FileManager.default.removeItem(at: home) }
      try? FileManager.default.removeItem(at: administratorKey)
      throw error
    }
  }

  /// The key-encryption key, the registry with the administrator enrolled, `finish` (the first
  /// checkpoint and the key file), then the manifest that makes `home` an installation.
  private static func populate(
    home: URL, administrator: String, key: Curve25519.Signing.PrivateKey, now: Date, database: String?,
    finish: (Installation) throws -> Void
  ) throws -> Installation {
    let keys = home.appendingPathComponent("keys")
    do {
      try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true,
                                              attributes: [.posixPermissions: 0o700])
      var kek = [UInt8](repeating: 0, count: 32)
      var generator = SystemRandomNumberGenerator()
      for i in kek.indices { kek[i] = UInt8.random(in: 0...255, using: &generator) }
      let kekURL = keys.appendingPathComponent("kek")
      guard FileManager.default.createFile(atPath: kekURL.path, contents: Data(kek), attributes: [.posixPermissions: 0o600])
      else { throw InstallationError("cannot write \(kekURL.path)") }
    } catch let error as InstallationError {
      throw error
    } catch {
      throw InstallationError("cannot create \(keys.path): \(error.localizedDescription)")
    }
    let id = UUID().uuidString.lowercased()
    let installation = try open(home: home, id: id, database: database, creating: true)
    try installation.registry.write { tx in
      try tx.execute("INSERT INTO \"user\"(id, role, public_key, enabled, enrolled_at, enrolled_by) VALUES (?, ?, ?, 1, ?, ?)", administrator, Role.administrator.rawValue, key.publicKey.rawRepresentation.base64EncodedString(),
                    now.timeIntervalSince1970, administrator)
      try installation.log.append(
        LogEntry(time: now, user: administrator, role: Role.administrator.rawValue, procedure: nil,
                 operation: RegistryOperation.installationCreate.rawValue,
                 parameters: ["installation": id, "key": key.publicKey.rawRepresentation.base64EncodedString()], outcome: .success), in: tx)
    }
    try finish(installation)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    let manifestURL = home.appendingPathComponent("installation.json")
    do {
      let recorded = try database.map { try PostgresLocation(url: $0).redacted }
      try encoder.encode(Manifest(id: id, createdAt: now, formatVersion: 1, database: recorded)).write(to: manifestURL, options: .atomic)
    } catch {
      throw InstallationError("cannot write \(manifestURL.path): \(error.localizedDescription)")
    }
    return installation
  }

  /// Opens the installation in `home`.
  /// - Throws: `InstallationError` when there is none or it cannot be read.
  public static func open(home: URL) throws -> Installation {
    let manifestURL = home.appendingPathComponent("installation.json")
    guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
      throw InstallationError("no lrj installation in \(home.path) (run lrj init)")
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    guard let manifest = try? decoder.decode(Manifest.self, from: data), manifest.formatVersion == 1 else {
      throw InstallationError("\(manifestURL.path) is not an lrj installation manifest of format 1")
    }
    return try open(home: home, id: manifest.id, database: database(recorded: manifest.database), creating: false)
  }

  private static func open(home: URL, id: String, database: String?, creating: Bool) throws -> Installation {
    let registry = try engine(database: database, home: home)
    do {
      let migrator = RegistrySchema.migrator(registry.dialect)
      let applied = try migrator.applied(registry)
      if creating, registry.dialect == .postgres, !applied.isEmpty {
        throw InstallationError("the database \(registry.name) already holds an lrj installation")
      }
      // An installation made before the registry could be checked against the log gets a baseline.
      let upgrading = applied.contains("v1") && !applied.contains("v3-governance")
      try migrator.migrate(registry)
      let installation = try Installation(home: home, id: id, registry: registry, database: database)
      if upgrading { try installation.writeBaseline() }
      try installation.upgradeProcedures()
      if !creating, let recorded = try installation.installationID(), recorded != id {
        throw InstallationError("the database \(registry.name) belongs to another installation")
      }
      return installation
    } catch let error as InstallationError {
      throw error
    } catch {
      throw InstallationError("cannot open the registry \(registry.name): \(error)")
    }
  }

  /// The installation id the registry's first entry records, if any.
  func installationID() throws -> String? {
    guard let body = try registry.read({ try $0.value(Data.self, "SELECT body FROM log_body WHERE seq = 1") }),
      let first = try? JSONDecoder().decode(LogBody.self, from: body), first.operation == RegistryOperation.installationCreate.rawValue
    else { return nil }
    return first.parameters["installation"]
  }

  /// Every enrolled user, by id.
  public func users() throws -> [EnrolledUser] {
    try registry.read { tx in
      try tx.rows("SELECT * FROM \"user\" ORDER BY id").map { row in
        try EnrolledUser(
          id: row["id"], role: Role(rawValue: row["role"]) ?? .investigator, publicKey: row["public_key"],
          enabled: row["enabled"] as Int == 1, enrolledAt: Date(timeIntervalSince1970: row["enrolled_at"]),
          enrolledBy: row["enrolled_by"])
      }
    }
  }

  /// Unseals `keyFile` with `passphrase` and checks its holder is enrolled with that key and
  /// enabled. Every refusal is logged.
  /// - Throws: `KeyFileError` (unreadable file, wrong passphrase) or `InstallationError`.
  public func authenticate(keyFile: URL, passphrase: String, now: Date = Date()) throws -> Identity {
    let sealed: SealedKeyFile
    let key: Curve25519.Signing.PrivateKey
    do {
      sealed = try SealedKeyFile.read(from: keyFile)
      key = try sealed.unseal(passphrase: passphrase)
    } catch {
      try refuse(user: "unknown", role: "unknown", operation: "authenticate",
                 reason: "\(keyFile.lastPathComponent): \(error)", now: now)
      throw error
    }
    let enrolled = try users().first { $0.id == sealed.user }
    guard let enrolled, enrolled.publicKey == key.publicKey.rawRepresentation.base64EncodedString() else {
      try refuse(user: sealed.user, role: "unknown", operation: "authenticate", reason: "not enrolled with this key", now: now)
      throw InstallationError("user \(sealed.user) is not enrolled with this key")
    }
    guard enrolled.enabled else {
      try refuse(user: enrolled.id, role: enrolled.role.rawValue, operation: "authenticate", reason: "disabled", now: now)
      throw InstallationError("user \(enrolled.id) is disabled")
    }
    let identity = Identity(user: enrolled.id, role: enrolled.role, signingKey: PasetoV4SecretKey(key))
    // The log must still hold every checkpoint kept outside it before anyone acts on it.
    try requireKeptCheckpoints()
    try settleInterruptedOperations(noticedBy: identity, now: now)
    try purgeIfDue(by: identity, now: now)
    return identity
  }

  /// Removes log bodies older than five years, at most once a day (L4 retention); the purge is logged.
  func purgeIfDue(by identity: Identity, now: Date) throws {
    let lastRun = try registry.read { tx in
      try tx.value(Double.self, "SELECT last_run FROM maintenance WHERE task = 'log-purge'")
    }
    if let lastRun, now.timeIntervalSince1970 - lastRun < 86_400, now.timeIntervalSince1970 >= lastRun { return }
    try log.purge(now: now, user: identity.user, role: identity.role.rawValue) { entries, through in
      [RegistryState.snapshotParameter: RegistryState.replay(entries.filter { $0.seq <= through }, installation: id).snapshot()]
    }
    try registry.write { tx in
      try tx.execute("INSERT INTO maintenance(task, last_run) VALUES ('log-purge', ?) ON CONFLICT(task) DO UPDATE SET last_run = excluded.last_run", now.timeIntervalSince1970)
    }
  }

  /// Signs a checkpoint of the log's head with the acting user's key when entries were added since
  /// the last one: every command that logged something seals what it logged.
  func sealCheckpoint(by identity: Identity, now: Date) throws {
    let (size, sealed) = try registry.read { tx in
      (try tx.value(Int64.self, "SELECT max(seq) FROM log_entry") ?? 0,
       try tx.value(Int64.self, "SELECT max(size) FROM log_checkpoint") ?? 0)
    }
    guard size > sealed else {
      // Nothing new to sign: still keep the latest checkpoint this user saw, once it checks out.
      if let latest = try registry.read({ tx in try tx.value(String.self, "SELECT note FROM log_checkpoint ORDER BY id DESC LIMIT 1") }),
        (try? disagreement(with: KeptCheckpoint(source: "the registry", note: latest))) == .some(nil)
      {
        keep(checkpoint: latest)
      }
      return
    }
    _ = try signCheckpoint(by: identity, now: now)
  }

  /// Enrols a user (administrator only).
  public func addUser(_ id: String, role: Role, publicKey: String, by admin: Identity, now: Date = Date()) throws {
    try requireAdministrator(admin, operation: "user.add", now: now)
    try Self.validateUserID(id)
    guard let raw = Data(base64Encoded: publicKey), (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
      throw InstallationError("--public-key is not an Ed25519 public key (base64, as lrj key generate prints it)")
    }
    try registry.write { tx in
      if try tx.value(Bool.self, "SELECT 1 FROM \"user\" WHERE id = ? OR public_key = ?", id, publicKey) == true {
        throw InstallationError("user \(id) or this public key is already enrolled")
      }
      try tx.execute("INSERT INTO \"user\"(id, role, public_key, enabled, enrolled_at, enrolled_by) VALUES (?, ?, ?, 1, ?, ?)", id, role.rawValue, publicKey, now.timeIntervalSince1970, admin.user)
      try log.append(
        LogEntry(time: now, user: admin.user, role: admin.role.rawValue, procedure: nil,
                 operation: RegistryOperation.userAdd.rawValue,
                 parameters: ["user": id, "role": role.rawValue, "key": publicKey], outcome: .success), in: tx)
    }
  }

  /// Disables a user (administrator only); the user stays in the registry and the log.
  public func disableUser(_ id: String, by admin: Identity, now: Date = Date()) throws {
    try requireAdministrator(admin, operation: "user.disable", now: now)
    guard id != admin.user else { throw InstallationError("an administrator cannot disable themselves") }
    try registry.write { tx in
      guard try tx.execute("UPDATE \"user\" SET enabled = 0 WHERE id = ?", id) == 1 else { throw InstallationError("no user \(id)") }
      try log.append(
        LogEntry(time: now, user: admin.user, role: admin.role.rawValue, procedure: nil,
                 operation: RegistryOperation.userDisable.rawValue,
                 parameters: ["user": id], outcome: .success), in: tx)
    }
  }

  /// The consultation log's entries.
  public func logEntries(_ filter: LogFilter = LogFilter()) throws -> [StoredLogEntry] { try log.entries(filter) }

  /// The consultation log for a magistrate or the controller (L4); the consultation is itself logged.
  /// - Throws: `InstallationError` for other roles (refusal logged).
  public func consultLog(_ filter: LogFilter, by identity: Identity, now: Date = Date()) throws -> [StoredLogEntry] {
    guard identity.role == .magistrate || identity.role == .controller else {
      try refuse(user: identity.user, role: identity.role.rawValue, operation: "log", reason: "not a magistrate or controller", now: now)
      try? sealCheckpoint(by: identity, now: now)
      throw InstallationError("the consultation log is for magistrates and the controller; \(identity.user) is \(identity.role.rawValue)")
    }
    var parameters: [String: String] = [:]
    if let user = filter.user { parameters["user"] = user }
    if let from = filter.from { parameters["from"] = AuthorisationClaims.format(from) }
    if let to = filter.to { parameters["to"] = AuthorisationClaims.format(to) }
    var entries = try log.entries(filter)
    if identity.role == .magistrate {
      // A magistrate sees the history of the procedures in their charge, and their own actions.
      let own = Set(try procedures(visibleTo: identity).map(\.procedure.id))
      if let procedure = filter.procedure, !own.contains(procedure) {
        let reason = "magistrate \(identity.user) is not the magistrate in charge of procedure \(procedure)"
        try log.append(
          LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: "log",
                   parameters: parameters.merging(["reason": reason]) { $1 }, outcome: .refused))
        try? sealCheckpoint(by: identity, now: now)
        throw InstallationError(reason)
      }
      entries = entries.filter { stored in
        guard let entry = stored.entry else { return false }
        return entry.procedure.map(own.contains) == true || entry.user == identity.user
      }
    }
    try log.append(
      LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: filter.procedure, operation: "log",
               parameters: parameters, resultCount: entries.count, outcome: .success))
    try sealCheckpoint(by: identity, now: now)
    return entries
  }

  /// Seals the log's head with a checkpoint signed by `identity`, when entries were added since the
  /// last one. `lrj` calls it when a command ends, whatever its outcome, so refused and failed
  /// attempts are sealed too.
  public func sealLog(by identity: Identity, now: Date = Date()) throws {
    try sealCheckpoint(by: identity, now: now)
  }

  private func requireAdministrator(_ identity: Identity, operation: String, now: Date) throws {
    guard identity.role == .administrator else {
      try refuse(user: identity.user, role: identity.role.rawValue, operation: operation, reason: "not an administrator", now: now)
      throw InstallationError("\(operation) is for administrators; \(identity.user) is \(identity.role.rawValue)")
    }
  }

  private func refuse(user: String, role: String, operation: String, reason: String, now: Date) throws {
    try log.append(
      LogEntry(time: now, user: user, role: role, procedure: nil, operation: operation, parameters: ["reason": reason],
               outcome: .refused))
  }

  /// User ids: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
  public static func validateUserID(_ id: String) throws {
    guard (1...64).contains(id.count),
      id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
    else { throw InstallationError("invalid user id \"\(id)\": 1 to 64 ASCII letters, digits, '.', '_' or '-'") }
  }
}
