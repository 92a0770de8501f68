import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Store

/// Where a PostgreSQL database is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
public struct PostgresLocation: Sendable, Equatable {
  public var user: String
  public var password: String?
  public var host: String
  public var port: Int
  public var database: String
  public var sslMode: String

  /// Parses a URL.
  /// - Throws: `StoreError` naming what is wrong with it.
  public init(url text: String) throws {
    guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
      throw StoreError("\(Self.redacted(text)) is not a postgres://USER@HOST:PORT/DATABASE URL")
    }
    guard let user = components.user, !user.isEmpty else { throw StoreError("\(Self.redacted(text)): no user") }
    guard let host = components.host, !host.isEmpty else { throw StoreError("\(Self.redacted(text)): no host") }
    let database = String(components.path.drop { $0 == "/" })
    guard !database.isEmpty, !database.contains("/") else { throw StoreError("\(Self.redacted(text)): no database name") }
    let port = components.port ?? 5432
    guard (1...65535).contains(port) else { throw StoreError("\(Self.redacted(text)): port \(port)") }
    let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
    guard ["disable", "prefer", "require"].contains(mode) else {
      throw StoreError("\(Self.redacted(text)): sslmode must be disable, prefer or require")
    }
    self.user = user
    password = components.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
    self.host = host
    self.port = port
    self.database = database
    sslMode = mode
  }

  /// The URL without its password (for messages and installation.json).
  public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode)" }

  static func redacted(_ text: String) -> String {
    guard var components = URLComponents(string: text) else { return "the database URL" }
    if components.password != nil { components.password = "***" }
    return components.string ?? "the database URL"
  }
}

/// The service engine: one PostgreSQL database reached with postgres-nio, used synchronously (each
/// call waits for its answer). Write transactions are serialised inside the database by a
/// transaction-level advisory lock, so the consultation log's chain stays one chain whatever the
/// number of writers, on every machine.
///
/// An engine bound to a schema (a procedure's index) sees that schema's tables first and takes its
/// own advisory lock, so its writers queue only behind writers of the same schema: a registry write
/// that opens a procedure's index does not wait for itself.
public final class PostgresEngine: StoreEngine, @unchecked Sendable {  // `connection` is only used under `lock`
  public let dialect = StoreDialect.postgres
  public let name: String
  private let lock = NSLock()
  private var connection: PostgresConnection?
  private let logger = Logger(label: "lrj.store.postgres")
  /// The advisory lock every write transaction of the database's public schema takes first.
  static let writeLock: Int64 = 0x6C726A_5752  // "lrj" "WR"
  /// The advisory lock this engine's write transactions take.
  private let lockKey: Int64
  /// The schema the engine works in; nil for the database's `public` schema.
  public let schema: String?

  /// Connects.
  /// - Parameters:
  ///   - schema: the schema whose tables the engine's statements name (it must exist; see
  ///     ``createSchema(_:)``); nil for `public`. Names are 1 to 63 lower-case ASCII letters, digits or '_'.
  /// - Throws: `StoreError` naming the database and the cause (server down, wrong password, no such database).
  public init(location: PostgresLocation, schema: String? = nil, connectTimeout: TimeAmount = .seconds(10)) throws {
    if let schema { try Self.validateSchema(schema) }
    self.schema = schema
    lockKey = schema.map(Self.lockKey(schema:)) ?? Self.writeLock
    name = location.redacted + (schema.map { " (schema \($0))" } ?? "")
    let tls: PostgresConnection.Configuration.TLS
    switch location.sslMode {
    case "disable": tls = .disable
    default:
      var configuration = TLSConfiguration.makeClientConfiguration()
      if location.sslMode == "prefer" { configuration.certificateVerification = .none }
      do {
        let context = try NIOSSLContext(configuration: configuration)
        tls = location.sslMode == "require" ? .require(context) : .prefer(context)
      } catch {
        throw StoreError("\(location.redacted): TLS: \(error)")
      }
    }
    var configuration = PostgresConnection.Configuration(
      host: location.host, port: location.port, username: location.user, password: location.password,
      database: location.database, tls: tls)
    configuration.options.connectTimeout = connectTimeout
    do {
      connection = try PostgresConnection.connect(
        on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
      ).wait()
    } catch {
      throw StoreError("cannot reach the database \(location.redacted): \(Self.describe(error))")
    }
    if let schema {
      // Unqualified names are the schema's (pg_catalog is still searched first, implicitly).
      _ = try lock.withLock {
        try PostgresTransaction(connection: connection!, logger: logger, name: name)
          .execute("SET search_path TO \"\(schema)\"", [])
      }
    }
  }

  /// Schema names the engine accepts: they are spliced into SQL, so only these characters.
  public static func validateSchema(_ schema: String) throws {
    guard (1...63).contains(schema.utf8.count), schema.first.map({ !$0.isNumber }) == true,
      schema.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
    else { throw StoreError("invalid schema name \"\(schema)\"") }
  }

  /// The SQL that creates `schema` (run it in a write transaction of any engine of the database).
  public static func createSchema(_ schema: String) throws -> String {
    try validateSchema(schema)
    return "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""
  }

  /// The SQL that drops `schema` with everything in it.
  public static func dropSchema(_ schema: String) throws -> String {
    try validateSchema(schema)
    return "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"
  }

  /// A stable advisory lock key per schema (FNV-1a of its name), never the public schema's.
  static func lockKey(schema: String) -> Int64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in schema.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    let key = Int64(bitPattern: hash)
    return key == writeLock ? key &+ 1 : key
  }

  deinit { try? connection?.close().wait() }

  public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED", serialise: true, body)
  }

  public func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", serialise: false, body)
  }

  public func purgeFreedPages() throws {}

  public func close() throws {
    try lock.withLock {
      defer { connection = nil }
      try connection?.close().wait()
    }
  }

  private func transaction<T>(begin: String, serialise: Bool, _ body: (any StoreTransaction) throws -> T) throws -> T {
    try lock.withLock {
      guard let connection else { throw StoreError("\(name): the connection is closed") }
      let transaction = PostgresTransaction(connection: connection, logger: logger, name: name)
      _ = try transaction.execute(begin, [])
      do {
        if serialise { _ = try transaction.rows("SELECT pg_advisory_xact_lock(?)", [.integer(lockKey)]) }
        let value = try body(transaction)
        _ = try transaction.execute("COMMIT", [])
        return value
      } catch {
        _ = try? transaction.execute("ROLLBACK", [])
        throw error
      }
    }
  }

  static func describe(_ error: any Error) -> String {
    if let error = error as? PSQLError {
      if let message = error.serverInfo?[.message] { return message }
      if let underlying = error.underlying {
        let text = String(describing: underlying)
        if text.contains("Connection refused") { return "connection refused (is the server running, on that host and port?)" }
        if text.contains("timed out") || text.contains("Timeout") { return "no answer (timed out)" }
        return text
      }
      return "\(error.code)"
    }
    return String(describing: error)
  }
}

/// The connection closed before the query's answer came.
struct ConnectionLost: Error {}

/// Statements on the engine's connection, inside its transaction.
struct PostgresTransaction: StoreTransaction {
  let connection: PostgresConnection
  let logger: Logger
  let name: String
  var dialect: StoreDialect { .postgres }

  func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int {
    let result = try run(sql, arguments)
    return result.metadata.rows ?? 0
  }

  func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
    try run(sql, arguments).rows.map { row in
      var columns: [String] = []
      var values: [StoreValue] = []
      for cell in row {
        columns.append(cell.columnName)
        values.append(try Self.value(cell))
      }
      return StoreRow(columns: columns, values: values)
    }
  }

  /// Through a server-side cursor, fetched a batch at a time (the statement runs inside a transaction).
  func forEachRow(_ sql: String, _ arguments: [StoreValue], _ body: (StoreRow) throws -> Void) throws {
    let cursor = "lrj_rows_\(UInt32.random(in: 0...UInt32.max))"  // its own name: scans may nest
    _ = try run("DECLARE \(cursor) NO SCROLL CURSOR FOR " + sql, arguments)
    do {
      // Batches of about a megabyte: many small rows per round trip, few large ones (sealed blocks) in memory.
      var size = 16
      while true {
        let batch = try rows("FETCH FORWARD \(size) FROM \(cursor)", [])
        if batch.isEmpty { break }
        var bytes = 0
        for row in batch {
          for value in row.values {
            switch value {
            case .blob(let data): bytes += data.count
            case .text(let text): bytes += text.utf8.count
            default: bytes += 8
            }
          }
          try body(row)
        }
        if bytes < 1 << 20 { size = min(size * 2, 1024) } else if bytes > 4 << 20 { size = max(size / 2, 1) }
      }
    } catch {
      _ = try? run("CLOSE \(cursor)", [])
      throw error
    }
    _ = try run("CLOSE \(cursor)", [])
  }

  private func run(_ sql: String, _ arguments: [StoreValue]) throws -> PostgresQueryResult {
    var binds = PostgresBindings(capacity: arguments.count)
    for argument in arguments {
      switch argument {
      case .null: binds.appendNull()
      case .integer(let v): binds.append(v)
      case .real(let v): binds.append(v)
      case .text(let v): binds.append(v)
      case .blob(let v): binds.append(ByteBuffer(bytes: v))
      }
    }
    // The answer, or the connection's end: a query sent on a connection the server dropped (a crash, a
    // lost network) must not wait for ever.
    let answer = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
    connection.closeFuture.whenComplete { _ in answer.fail(ConnectionLost()) }
    connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds), logger: logger).cascade(to: answer)
    do {
      return try answer.futureResult.wait()
    } catch is ConnectionLost {
      throw StoreError("\(name): the connection to the database was lost")
    } catch {
      throw StoreError("\(name): \(PostgresEngine.describe(error))")
    }
  }

  /// `?` placeholders as `$1`, `$2`…, outside quoted text.
  static func numbered(_ sql: String) -> String {
    var out = ""
    var n = 0
    var quoted = false
    for character in sql {
      if character == "'" { quoted.toggle() }
      if character == "?" && !quoted {
        n += 1
        out += "$\(n)"
      } else {
        out.append(character)
      }
    }
    return out
  }

  static func value(_ cell: PostgresCell) throws -> StoreValue {
    guard cell.bytes != nil else { return .null }
    switch cell.dataType {
    case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
    case .float8, .float4, .numeric: return .real(try cell.decode(Double.self))
    case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
    case .bytea:
      var buffer = try cell.decode(ByteBuffer.self)
      return .blob(Data(buffer.readBytes(length: buffer.readableBytes) ?? []))
    default: return .text(try cell.decode(String.self))
    }
  }
}
