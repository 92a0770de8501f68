import Foundation

/// One throw-away PostgreSQL 15 server for the whole test process (`scripts/throwaway-postgres.sh`),
/// started on first use in a temporary folder on a loopback port, stopped when the process exits.
/// Each test takes a database of its own with ``database(_:)``. Nil when PostgreSQL is not installed
/// (tests then say so and skip the PostgreSQL engine).
public final class TestPostgres: @unchecked Sendable {  // immutable after init
  public let folder: URL
  public let port: Int
  public let url: String

  /// The process's server, started on first use; nil when it cannot start.
  public static let shared: TestPostgres? = {
    guard let server = try? TestPostgres() else { return nil }
    atexit { TestPostgres.shared?.stop() }
    return server
  }()

  static var script: String { TestPaths.repository.appendingPathComponent("scripts/throwaway-postgres.sh").path }

  /// A server of its own (for a test that stops and restarts it); stop it with ``stop()``.
  public static func dedicated() throws -> TestPostgres? {
    guard shared != nil else { return nil }
    return try TestPostgres()
  }

  private init() throws {
    folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("lrj-pg-\(UUID().uuidString.prefix(8))")
    port = Int.random(in: 20_000...29_999)
    let started = try Run.program(Self.script, ["start", folder.path, String(port)])
    guard started.status == 0 else { throw TestSetupError("PostgreSQL did not start: \(started.standardError)") }
    url = started.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A new empty database; returns its URL.
  public func database(_ name: String = "t") throws -> String {
    let unique = "\(name)_\(UUID().uuidString.prefix(8))".lowercased().replacingOccurrences(of: "-", with: "_")
    let made = try Run.program(Self.script, ["createdb", folder.path, String(port), unique])
    guard made.status == 0 else { throw TestSetupError("createdb: \(made.standardError)") }
    return made.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The name of a database in one of this server's URLs.
  public static func databaseName(_ url: String) -> String {
    String(URLComponents(string: url)?.path.dropFirst() ?? "")
  }

  /// A plain-SQL `pg_dump` of the database at `url`, written to `file`.
  public func dump(_ url: String, to file: URL) throws {
    let dumped = try Run.program(Self.script, ["dump", folder.path, String(port), Self.databaseName(url), file.path])
    guard dumped.status == 0 else { throw TestSetupError("pg_dump: \(dumped.standardError)") }
  }

  /// A new database restored from a plain-SQL dump; returns its URL.
  public func restore(_ file: URL, as name: String = "restored") throws -> String {
    let unique = "\(name)_\(UUID().uuidString.prefix(8))".lowercased().replacingOccurrences(of: "-", with: "_")
    let restored = try Run.program(Self.script, ["restore", folder.path, String(port), unique, file.path])
    guard restored.status == 0 else { throw TestSetupError("restore: \(restored.standardError)") }
    return restored.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Stops the server at once (as a crash or a lost network would), keeping its files.
  public func halt() {
    _ = try? Run.program(Self.script, ["stop", folder.path])
  }

  /// Starts a halted server again.
  public func restart() throws {
    let started = try Run.program(Self.script, ["restart", folder.path, String(port)])
    guard started.status == 0 else { throw TestSetupError("PostgreSQL did not restart: \(started.standardError)") }
  }

  /// Stops the server and removes its files.
  public func stop() {
    halt()
    try? FileManager.default.removeItem(at: folder)
  }
}
