import Foundation

/// An installation made through the `lrj` binary, as users make one: an administrator, a
/// magistrate (`judge`), an investigator (`opj`) and, when asked, a procedure the magistrate
/// authorised and the investigator opened.
public struct TestInstallation: Sendable {
  /// The folder holding the home, the key files and the tokens.
  public let folder: URL
  public var home: URL { homeOverride ?? folder.appendingPathComponent("home") }
  /// LRJ_HOME elsewhere than in `folder` (on a file system of its own, for example).
  var homeOverride: URL? = nil
  /// The PostgreSQL database the installation lives in; nil for the embedded files.
  public var database: String? = nil
  public static let passphrase = "correct horse battery staple"

  /// The key file of `user`.
  public func key(_ user: String) -> String { folder.appendingPathComponent("\(user).key").path }

  /// The environment acting as `user` (default: the investigator).
  public func env(as user: String = "opj") -> [String: String] {
    ["LRJ_HOME": home.path, "LRJ_PASSPHRASE": Self.passphrase, "LRJ_KEY": key(user), "LRJ_MODEL": "",
     "LRJ_CACHE": cache(user).path]
  }

  /// The user's own cache (where lrj keeps the latest checkpoint they saw).
  public func cache(_ user: String) -> URL { folder.appendingPathComponent("cache-\(user)") }

  /// Makes the installation and its users; with `procedure`, authorises and opens it too.
  /// With `database` (a PostgreSQL URL), the installation's registry and log live there.
  public static func make(
    _ name: String = "lrj-installation", procedure: String? = "P1", home: URL? = nil, database: String? = nil
  ) throws -> TestInstallation {
    let installation = TestInstallation(folder: try TestPaths.temporaryFolder(name), homeOverride: home, database: database)
    let base = ["LRJ_HOME": installation.home.path, "LRJ_PASSPHRASE": passphrase, "LRJ_CACHE": installation.cache("admin").path]
    try installation.expect(["init", "--admin-key", installation.key("admin")] + (database.map { ["--database", $0] } ?? []), base)
    for (user, role) in [("judge", "magistrate"), ("opj", "investigator"), ("controller", "controller")] {
      let generated = try installation.expect(["key", "generate", "--id", user, "--out", installation.key(user)], base)
      let publicKey = String(generated.standardOutput.split(separator: "\n").last ?? "")
      try installation.expect(["user", "add", user, "--role", role, "--public-key", publicKey], installation.env(as: "admin"))
    }
    if let procedure { try installation.openProcedure(procedure) }
    return installation
  }

  /// The magistrate authorises `procedure` for `investigators` until `until`; returns the token file.
  @discardableResult
  public func authorise(
    _ procedure: String, investigators: [String] = ["opj"], kind: String = "preliminary", until: String = "2099-12-31",
    from: String? = nil
  ) throws -> String {
    let token = folder.appendingPathComponent("\(procedure)-\(UUID().uuidString.prefix(6)).token").path
    try expect(["authorise", "--procedure", procedure, "--kind", kind, "--until", until, "--out", token]
                 + investigators.flatMap { ["--investigator", $0] } + (from.map { ["--from", $0] } ?? []),
               env(as: "judge"))
    return token
  }

  /// Authorises and opens `procedure` (as the investigator).
  public func openProcedure(_ procedure: String) throws {
    let token = try authorise(procedure)
    try expect(["procedure", "open", "--token", token], env(as: "opj"))
  }

  /// Enrols another user through the binary (their key file beside the others).
  public func enrol(_ user: String, role: String) throws {
    let generated = try expect(["key", "generate", "--id", user, "--out", key(user)],
                               ["LRJ_HOME": home.path, "LRJ_PASSPHRASE": Self.passphrase])
    let publicKey = String(generated.standardOutput.split(separator: "\n").last ?? "")
    try expect(["user", "add", user, "--role", role, "--public-key", publicKey], env(as: "admin"))
  }

  /// Runs lrj and throws unless it succeeded.
  @discardableResult
  public func expect(_ arguments: [String], _ environment: [String: String]) throws -> ProcessResult {
    let result = try Run.lrj(arguments, environment: environment)
    guard result.status == 0 else {
      throw TestSetupError("lrj \(arguments.joined(separator: " ")) failed: \(result.standardError)")
    }
    return result
  }

  /// Removes the folder.
  public func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// A test's set-up step failed.
public struct TestSetupError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
