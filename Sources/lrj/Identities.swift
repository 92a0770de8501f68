import ArgumentParser
import Consultation
import Crypto
import Foundation

/// The passphrase: `LRJ_PASSPHRASE`, else asked on the terminal without echo.
enum Passphrase {
  static func read(prompt: String) throws -> String {
    if let value = ProcessInfo.processInfo.environment["LRJ_PASSPHRASE"] { return value }
    guard isatty(0) != 0 else {
      throw ValidationError("no passphrase: set LRJ_PASSPHRASE or run lrj on a terminal")
    }
    FileHandle.standardError.write(Data(prompt.utf8))
    var settings = termios()
    tcgetattr(0, &settings)
    echoOff.withLock { $0 = settings }
    settings.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(0, TCSANOW, &settings)
    defer {
      restoreTerminal()
      FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true) ?? ""
  }

  /// The terminal's settings while echo is off for a passphrase, to put back.
  private static let echoOff = LockedValue<termios?>(nil)

  /// Turns echo back on if a passphrase is being read (also when lrj is stopped meanwhile).
  static func restoreTerminal() {
    guard var saved = echoOff.withLock({ value -> termios? in defer { value = nil }; return value }) else { return }
    tcsetattr(0, TCSANOW, &saved)
  }
}

/// `--key FILE` or `LRJ_KEY`: the acting user's sealed key file.
struct KeyOption: ParsableArguments {
  @Option(help: "Your sealed key file (default: $LRJ_KEY).")
  var key: String?

  func authenticate(_ installation: Installation) throws -> Identity {
    guard let path = key ?? ProcessInfo.processInfo.environment["LRJ_KEY"] else {
      throw ValidationError("no key file: give --key FILE or set LRJ_KEY")
    }
    let identity = try installation.authenticate(keyFile: URL(fileURLWithPath: path),
                                                 passphrase: try Passphrase.read(prompt: "passphrase for \(path): "))
    LogSealing.remember(installation, identity)
    return identity
  }

  /// The installation in LRJ_HOME and the authenticated user.
  func signIn() throws -> (Installation, Identity) {
    let installation = try Installation.open(home: Installation.defaultHome)
    return (installation, try authenticate(installation))
  }

  /// The door to `procedure`'s data for the authenticated user; each operation is checked and logged.
  func access(_ procedure: String) throws -> ProcedureAccess {
    let (installation, identity) = try signIn()
    return ProcedureAccess(procedure: procedure, installation: installation, identity: identity)
  }
}

/// `lrj init`: a new installation and its first administrator.
struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create an installation in LRJ_HOME and its first administrator's sealed key file.")

  @Option(help: "Where to write the administrator's sealed key file (mode 0600).")
  var adminKey: String

  @Option(help: "The administrator's user id.")
  var adminId: String = "admin"

  @Option(help: ArgumentHelp(
    "A PostgreSQL database for a unit-wide service: postgres://USER@HOST:PORT/DATABASE[?sslmode=require] "
      + "(default: LRJ_DATABASE, else the embedded SQLite files in LRJ_HOME). The password, if any, comes from the URL "
      + "or LRJ_DATABASE and is never recorded."))
  var database: String?

  func run() throws {
    try reportingErrors {
      let home = Installation.defaultHome
      let passphrase = try Passphrase.read(prompt: "passphrase for the administrator's key: ")
      let database = database ?? ProcessInfo.processInfo.environment[Installation.databaseVariable].flatMap { $0.isEmpty ? nil : $0 }
      let installation = try Installation.create(
        home: home, administrator: adminId, passphrase: passphrase, administratorKey: URL(fileURLWithPath: adminKey),
        database: database)
      print("installation \(installation.id) created in \(home.path), registry: \(installation.databaseDescription)")
      print("administrator \(adminId): key file \(adminKey)")
    }
  }
}

/// `lrj key generate`: a user's key pair, the private key sealed with a passphrase.
struct Key: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Make and seal users' keys.", subcommands: [Generate.self])

  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Generate an Ed25519 key pair; seal the private key (scrypt + AES-GCM); print the public key, last line.")

    @Option(help: "The user id the key is for.")
    var id: String

    @Option(help: "The sealed key file to write (mode 0600; never overwritten).")
    var out: String

    func run() throws {
      try reportingErrors {
        try Installation.validateUserID(id)
        let passphrase = try Passphrase.read(prompt: "passphrase for the new key: ")
        let key = Curve25519.Signing.PrivateKey()
        let sealed = try SealedKeyFile.seal(key, user: id, role: nil, passphrase: passphrase, parameters: .standard)
        try sealed.write(to: URL(fileURLWithPath: out), replacing: false)
        print("sealed key for \(id) written to \(out); public key:")
        print(key.publicKey.rawRepresentation.base64EncodedString())
      }
    }
  }
}

/// `lrj user add|disable`: enrolment, by an administrator.
struct User: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Enrol and disable users (administrators).", subcommands: [Add.self, Disable.self, List.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enrol a user with a role and their public key.")

    @Argument(help: "The user id.")
    var id: String

    @Option(help: "investigator, magistrate, controller or administrator.")
    var role: String

    @Option(help: "The user's public key, as lrj key generate printed it.")
    var publicKey: String

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        guard let role = Role(rawValue: role) else {
          throw ValidationError("unknown role \"\(role)\"; valid: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let installation = try Installation.open(home: Installation.defaultHome)
        let admin = try key.authenticate(installation)
        try installation.addUser(id, role: role, publicKey: publicKey, by: admin)
        print("user \(id) enrolled as \(role.rawValue)")
      }
    }
  }

  struct Disable: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disable a user: every later command of theirs is refused.")

    @Argument(help: "The user id.")
    var id: String

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let installation = try Installation.open(home: Installation.defaultHome)
        let admin = try key.authenticate(installation)
        try installation.disableUser(id, by: admin)
        print("user \(id) disabled")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List enrolled users.")

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let installation = try Installation.open(home: Installation.defaultHome)
        _ = try key.authenticate(installation)
        for user in try installation.users() {
          print("\(user.id)\t\(user.role.rawValue)\t\(user.enabled ? "enabled" : "disabled")\t\(user.publicKey)")
        }
      }
    }
  }
}
