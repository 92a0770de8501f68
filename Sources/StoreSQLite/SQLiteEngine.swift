import Foundation
import GRDB
import Store

/// The embedded engine: a SQLite file through GRDB (WAL, one writer at a time, readers alongside).
public final class SQLiteEngine: StoreEngine, @unchecked Sendable {  // GRDB's pool is thread-safe; `pool` never changes
  public let dialect = StoreDialect.sqlite
  public let name: String
  /// The GRDB writer, for code that needs SQLite itself (migrations, erasure hygiene).
  public let pool: any DatabaseWriter

  /// Opens (creating) the database at `path`. `prepare` runs on every new connection (pragmas).
  public init(
    path: String, busyTimeout: TimeInterval = 30, label: String? = nil, prepare: (@Sendable (Database) throws -> Void)? = nil
  ) throws {
    name = path
    var configuration = Configuration()
    configuration.label = label
    configuration.busyMode = .timeout(busyTimeout)
    configuration.foreignKeysEnabled = true
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA secure_delete = ON")
      try prepare?(db)
    }
    do {
      pool = try DatabasePool(path: path, configuration: configuration)
    } catch {
      throw StoreError("cannot open \(path): \(Self.describe(error))")
    }
  }

  /// An engine in memory (tests).
  public init(inMemoryNamed name: String = "memory") throws {
    self.name = name
    var configuration = Configuration()
    configuration.foreignKeysEnabled = true
    pool = try DatabaseQueue(configuration: configuration)
  }

  public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try run { try pool.write { db in try body(SQLiteTransaction(db: db)) } }
  }

  public func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
    try run { try pool.read { db in try body(SQLiteTransaction(db: db)) } }
  }

  public func close() throws {
    try run { try pool.close() }
  }

  public func purgeFreedPages() throws {
    try run { try pool.writeWithoutTransaction { db in _ = try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") } }
  }

  private func run<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as DatabaseError {
      throw StoreError("\(name): \(Self.describe(error))")
    }
  }

  static func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError { return error.message.map { "\($0) (\(error.resultCode))" } ?? "\(error.resultCode)" }
    return String(describing: error)
  }
}

/// A GRDB database connection inside a transaction.
public struct SQLiteTransaction: StoreTransaction {
  public let db: Database
  public var dialect: StoreDialect { .sqlite }

  /// Statements on `db`, which must be inside a transaction (a GRDB migration's, for instance).
  public init(db: Database) {
    self.db = db
  }

  public func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int {
    try db.execute(sql: sql, arguments: StatementArguments(arguments.map(\.databaseValue)))
    return db.changesCount
  }

  public func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
    var rows: [StoreRow] = []
    try forEachRow(sql, arguments) { rows.append($0) }
    return rows
  }

  public func forEachRow(_ sql: String, _ arguments: [StoreValue], _ body: (StoreRow) throws -> Void) throws {
    let statement = try db.cachedStatement(sql: sql)
    let columns = statement.columnNames.map { $0.lowercased() }
    let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments.map(\.databaseValue)))
    while let row = try cursor.next() {
      try body(StoreRow(lowercasedColumns: columns, values: (0..<row.count).map { StoreValue(row[$0] as DatabaseValue) }))
    }
  }
}

extension StoreValue {
  var databaseValue: DatabaseValue {
    switch self {
    case .null: .null
    case .integer(let v): v.databaseValue
    case .real(let v): v.databaseValue
    case .text(let v): v.databaseValue
    case .blob(let v): v.databaseValue
    }
  }

  init(_ value: DatabaseValue) {
    switch value.storage {
    case .null: self = .null
    case .int64(let v): self = .integer(v)
    case .double(let v): self = .real(v)
    case .string(let v): self = .text(v)
    case .blob(let v): self = .blob(v)
    }
  }
}
