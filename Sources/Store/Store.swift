import Foundation

/// A value as a store keeps it: the types both engines (SQLite, PostgreSQL) hold alike.
public enum StoreValue: Sendable, Hashable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob(Data)
}

/// A Swift value that goes into a store and comes back out.
public protocol StoreValueConvertible {
  var storeValue: StoreValue { get }
  init?(storeValue: StoreValue)
}

extension Int64: StoreValueConvertible {
  public var storeValue: StoreValue { .integer(self) }
  public init?(storeValue: StoreValue) {
    switch storeValue {
    case .integer(let v): self = v
    case .real(let v) where v == v.rounded() && abs(v) < 9e18: self = Int64(v)
    default: return nil
    }
  }
}

extension Int: StoreValueConvertible {
  public var storeValue: StoreValue { .integer(Int64(self)) }
  public init?(storeValue: StoreValue) {
    guard let v = Int64(storeValue: storeValue) else { return nil }
    self = Int(v)
  }
}

extension Double: StoreValueConvertible {
  public var storeValue: StoreValue { .real(self) }
  public init?(storeValue: StoreValue) {
    switch storeValue {
    case .real(let v): self = v
    case .integer(let v): self = Double(v)
    default: return nil
    }
  }
}

extension String: StoreValueConvertible {
  public var storeValue: StoreValue { .text(self) }
  public init?(storeValue: StoreValue) {
    guard case .text(let v) = storeValue else { return nil }
    self = v
  }
}

extension Data: StoreValueConvertible {
  public var storeValue: StoreValue { .blob(self) }
  public init?(storeValue: StoreValue) {
    guard case .blob(let v) = storeValue else { return nil }
    self = v
  }
}

extension Bool: StoreValueConvertible {
  public var storeValue: StoreValue { .integer(self ? 1 : 0) }
  public init?(storeValue: StoreValue) {
    guard let v = Int64(storeValue: storeValue) else { return nil }
    self = v != 0
  }
}

extension Optional: StoreValueConvertible where Wrapped: StoreValueConvertible {
  public var storeValue: StoreValue { self?.storeValue ?? .null }
  public init?(storeValue: StoreValue) {
    if case .null = storeValue { self = .none } else if let v = Wrapped(storeValue: storeValue) { self = .some(v) } else { return nil }
  }
}

/// One row of a query's result, by column name (lower case) or position.
public struct StoreRow: Sendable {
  public let columns: [String]
  public let values: [StoreValue]

  public init(columns: [String], values: [StoreValue]) {
    self.columns = columns.map { $0.lowercased() }
    self.values = values
  }

  /// A row whose column names are lower case already (engines building many rows of one query).
  public init(lowercasedColumns columns: [String], values: [StoreValue]) {
    self.columns = columns
    self.values = values
  }

  /// The value of `column`; `.null` when there is no such column.
  public func value(_ column: String) -> StoreValue {
    guard let index = columns.firstIndex(of: column.lowercased()) else { return .null }
    return values[index]
  }

  /// The value of `column` as `T` (`try row["id"]`).
  /// - Throws: `StoreError` when it is missing or of another type.
  public subscript<T: StoreValueConvertible>(_ column: String) -> T {
    get throws { try get(column) }
  }

  /// The value of `column` as `T`.
  /// - Throws: `StoreError` when it is missing or of another type.
  public func get<T: StoreValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
    guard let value = T(storeValue: value(column)) else {
      throw StoreError("column \(column) holds \(value(column)), not \(T.self)")
    }
    return value
  }

  /// The value at `index` as `T`.
  public func get<T: StoreValueConvertible>(_ index: Int, as type: T.Type = T.self) throws -> T {
    guard index < values.count, let value = T(storeValue: values[index]) else {
      throw StoreError("column \(index) holds \(index < values.count ? "\(values[index])" : "nothing"), not \(T.self)")
    }
    return value
  }
}

/// Which engine: SQL that differs between them (types, DDL) asks.
public enum StoreDialect: String, Sendable {
  case sqlite
  case postgres
}

/// A failure of a store: what failed, and which database.
public struct StoreError: Error, CustomStringConvertible, Sendable {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// The statements of one transaction. SQL uses `?` placeholders (the PostgreSQL engine numbers them);
/// SQL text written for both engines keeps to what both understand.
public protocol StoreTransaction {
  var dialect: StoreDialect { get }
  /// Runs a statement; returns the number of rows it changed.
  @discardableResult
  func execute(_ sql: String, _ arguments: [StoreValue]) throws -> Int
  /// Runs a query and returns every row.
  func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow]
  /// Runs a query and hands its rows to `body` one at a time, without holding them all in memory
  /// (for scans of many large rows).
  func forEachRow(_ sql: String, _ arguments: [StoreValue], _ body: (StoreRow) throws -> Void) throws
}

extension StoreTransaction {
  @discardableResult
  public func execute(_ sql: String, _ arguments: any StoreValueConvertible...) throws -> Int {
    try execute(sql, arguments.map(\.storeValue))
  }

  public func rows(_ sql: String, _ arguments: any StoreValueConvertible...) throws -> [StoreRow] {
    try rows(sql, arguments.map(\.storeValue))
  }

  /// The first row, or nil.
  public func row(_ sql: String, _ arguments: any StoreValueConvertible...) throws -> StoreRow? {
    try rows(sql, arguments.map(\.storeValue)).first
  }

  /// The first column of the first row as `T`, or nil when there is no row or it is NULL.
  public func value<T: StoreValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: any StoreValueConvertible...) throws -> T? {
    guard let first = try rows(sql, arguments.map(\.storeValue)).first, !first.values.isEmpty else { return nil }
    if case .null = first.values[0] { return nil }
    return try first.get(0, as: T.self)
  }

  /// The first column of every row as `T`.
  public func values<T: StoreValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: any StoreValueConvertible...) throws -> [T] {
    try rows(sql, arguments.map(\.storeValue)).map { try $0.get(0, as: T.self) }
  }
}

/// A database engine: serialisable write transactions (one writer at a time, as SQLite; PostgreSQL
/// takes a transaction-level lock), and read transactions that see one committed state.
public protocol StoreEngine: Sendable {
  var dialect: StoreDialect { get }
  /// Names the database in errors (a path, or a URL without its password).
  var name: String { get }
  /// Runs `body` in a write transaction: committed when it returns, rolled back when it throws.
  func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
  /// Runs `body` in a read transaction.
  func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
  /// Closes the engine's connections; later use fails.
  func close() throws
  /// Makes freed bytes unrecoverable from the database's own files where the engine can (SQLite:
  /// truncate the write-ahead log; PostgreSQL: nothing, its storage is the server's).
  func purgeFreedPages() throws
}

/// Schema migrations applied once each, in order, on either engine: each runs in a write
/// transaction with its record in `store_migrations`. A migration is never edited once shipped.
public struct StoreMigrator: Sendable {
  public typealias Migration = @Sendable (any StoreTransaction) throws -> Void
  private var migrations: [(id: String, migrate: Migration)] = []

  public init() {}

  /// Adds a migration (its id must be unique).
  public mutating func register(_ id: String, _ migrate: @escaping Migration) {
    migrations.append((id, migrate))
  }

  /// The ids already applied to `engine`.
  public func applied(_ engine: any StoreEngine) throws -> Set<String> {
    try engine.write { tx in
      try Self.prepare(tx)
      return Set(try tx.values(String.self, "SELECT id FROM store_migrations"))
    }
  }

  /// Applies every migration not applied yet; returns the ids applied now.
  @discardableResult
  public func migrate(_ engine: any StoreEngine) throws -> [String] {
    var done: [String] = []
    for (id, migrate) in migrations {
      let ran = try engine.write { tx -> Bool in
        try Self.prepare(tx)
        guard try tx.value(String.self, "SELECT id FROM store_migrations WHERE id = ?", id) == nil else { return false }
        try migrate(tx)
        try tx.execute("INSERT INTO store_migrations(id) VALUES (?)", id)
        return true
      }
      if ran { done.append(id) }
    }
    return done
  }

  /// The migrations table; on SQLite, a database migrated by GRDB's migrator has its ids taken over.
  static func prepare(_ tx: any StoreTransaction) throws {
    try tx.execute("CREATE TABLE IF NOT EXISTS store_migrations(id TEXT PRIMARY KEY)")
    if tx.dialect == .sqlite,
      try tx.value(String.self, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") != nil
    {
      try tx.execute("INSERT OR IGNORE INTO store_migrations(id) SELECT identifier FROM grdb_migrations")
    }
  }
}
