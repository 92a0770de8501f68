import Foundation
import Store
import StorePostgres
import StoreSQLite
import TestSupport
import Testing

/// The same checks on both engines: values round trip, a failed transaction leaves nothing, and
/// concurrent writers are serialised (each reads the last row and appends the next, as the
/// consultation log does).
@Suite(.serialized)
struct EngineTests {
  /// Both engines, each on a new empty database; the PostgreSQL one only when PostgreSQL is installed.
  static func engines() throws -> [any StoreEngine] {
    let folder = try TestPaths.temporaryFolder("lrj-store")
    var engines: [any StoreEngine] = [try SQLiteEngine(path: folder.appendingPathComponent("db.sqlite").path)]
    if let server = TestPostgres.shared {
      engines.append(try PostgresEngine(location: PostgresLocation(url: try server.database("engine"))))
    } else {
      print("PostgreSQL is not installed: the PostgreSQL engine is not tested")
    }
    return engines
  }

  static func table(_ dialect: StoreDialect) -> String {
    switch dialect {
    case .sqlite: "CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB)"
    case .postgres: "CREATE TABLE t(id BIGINT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA)"
    }
  }

  @Test func valuesRoundTripAndFailedTransactionsLeaveNothing() throws {
    for engine in try Self.engines() {
      try engine.write { try $0.execute(Self.table(engine.dialect)) }
      let blob = Data((0..<300).map { UInt8($0 % 256) })
      try engine.write { tx in
        try tx.execute("INSERT INTO t(id, i, r, s, b) VALUES (?, ?, ?, ?, ?)", 1, Int64.max, 0.1, "été 'quoted' ?", blob)
        try tx.execute("INSERT INTO t(id, i, r, s, b) VALUES (?, ?, ?, ?, ?)", 2, Optional<Int>.none, -1.5e300, "", Data())
      }
      let rows = try engine.read { try $0.rows("SELECT id, i, r, s, b FROM t ORDER BY id") }
      #expect(rows.count == 2, "\(engine.name)")
      #expect(try rows[0].get("i", as: Int64.self) == Int64.max && rows[0].value("r") == .real(0.1))
      #expect(try rows[0].get("s", as: String.self) == "été 'quoted' ?" && rows[0].value("b") == .blob(blob))
      #expect(rows[1].value("i") == .null && rows[1].value("r") == .real(-1.5e300) && rows[1].value("b") == .blob(Data()))
      struct Failure: Error {}
      #expect(throws: Failure.self) {
        try engine.write { tx in
          try tx.execute("INSERT INTO t(id, i) VALUES (?, ?)", 3, 3)
          throw Failure()
        }
      }
      #expect(try engine.read { try $0.value(Int.self, "SELECT count(*) FROM t") } == 2, "\(engine.name): rolled back")
      #expect(throws: StoreError.self) { try engine.write { try $0.execute("INSERT INTO t(id) VALUES (?)", 1) } }
      try engine.close()
    }
  }

  @Test func scansStreamRowsAndMayNest() throws {
    for engine in try Self.engines() {
      try engine.write { try $0.execute(Self.table(engine.dialect)) }
      try engine.write { tx in
        for id in 1...300 { try tx.execute("INSERT INTO t(id, i, b) VALUES (?, ?, ?)", id, id * 2, Data(repeating: UInt8(id % 256), count: 100)) }
      }
      var seen: [Int64] = []
      var inner = 0
      try engine.read { tx in
        try tx.forEachRow("SELECT id, i, b FROM t WHERE i > ? ORDER BY id", [.integer(10)]) { row in
          seen.append(try row.get("id"))
          #expect(try row.get("b", as: Data.self) == Data(repeating: UInt8(seen.last! % 256), count: 100))
          if seen.count % 100 == 0 {
            try tx.forEachRow("SELECT id FROM t WHERE id <= ?", [.integer(3)]) { _ in inner += 1 }
          }
        }
      }
      #expect(seen == Array(6...300), "\(engine.name)")
      #expect(inner == 6, "\(engine.name): nested scans")
      struct Stop: Error {}
      #expect(throws: Stop.self) { try engine.read { tx in try tx.forEachRow("SELECT id FROM t", []) { _ in throw Stop() } } }
      #expect(try engine.read { try $0.value(Int.self, "SELECT count(*) FROM t") } == 300, "\(engine.name): usable after a stopped scan")
      try engine.close()
    }
  }

  /// Two engines on two schemas of one database: each sees its own tables, and a write of one waits
  /// for nothing the other holds (a registry write may open a procedure's index inside it).
  @Test func schemasSeparateTablesAndLocks() throws {
    guard let server = TestPostgres.shared else { return print("PostgreSQL is not installed: schemas are not tested") }
    let location = try PostgresLocation(url: try server.database("schemas"))
    let main = try PostgresEngine(location: location)
    try main.write { tx in
      try tx.execute(try PostgresEngine.createSchema("p_one"))
      try tx.execute(try PostgresEngine.createSchema("p_two"))
    }
    let one = try PostgresEngine(location: location, schema: "p_one")
    let two = try PostgresEngine(location: location, schema: "p_two")
    for engine in [one, two] { try engine.write { try $0.execute(Self.table(.postgres)) } }
    try main.write { _ in
      try one.write { try $0.execute("INSERT INTO t(id, s) VALUES (1, 'one')") }
      try two.write { try $0.execute("INSERT INTO t(id, s) VALUES (1, 'two')") }
    }
    #expect(try one.read { try $0.value(String.self, "SELECT s FROM t") } == "one")
    #expect(try two.read { try $0.value(String.self, "SELECT s FROM t") } == "two")
    try main.write { try $0.execute(try PostgresEngine.dropSchema("p_one")) }
    #expect(throws: StoreError.self) { try one.read { try $0.rows("SELECT s FROM t") } }
    #expect(try main.read { try $0.value(Int.self, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('p_one', 'p_two')") } == 1)
    for name in ["", "P_upper", "a;drop", "1abc", String(repeating: "a", count: 64)] {
      #expect(throws: StoreError.self) { try PostgresEngine(location: location, schema: name) }
    }
  }

  @Test func concurrentWritersAreSerialised() throws {
    for engine in try Self.engines() {
      try engine.write { try $0.execute(Self.table(engine.dialect)) }
      // 8 writers, each its own engine (its own connection), 25 appends each.
      let url = engine.dialect == .postgres ? engine.name : nil
      var writers: [any StoreEngine] = []
      for _ in 0..<8 {
        if let url {
          writers.append(try PostgresEngine(location: PostgresLocation(url: url)))
        } else {
          writers.append(engine)
        }
      }
      let pool = writers
      let failures = LockedCount()
      DispatchQueue.concurrentPerform(iterations: 8) { index in
        for _ in 0..<25 {
          do {
            try pool[index].write { tx in
              let next = (try tx.value(Int64.self, "SELECT max(id) FROM t") ?? 0) + 1
              try tx.execute("INSERT INTO t(id, i) VALUES (?, ?)", next, index)
            }
          } catch {
            failures.add()
          }
        }
      }
      #expect(failures.value == 0, "\(engine.name): \(failures.value) appends failed")
      #expect(try engine.read { try $0.value(Int.self, "SELECT count(*) FROM t") } == 200, "\(engine.name)")
      #expect(try engine.read { try $0.value(Int.self, "SELECT max(id) FROM t") } == 200, "\(engine.name): no gap, no fork")
    }
  }
}

final class LockedCount: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  var value: Int { lock.withLock { count } }
  func add() { lock.withLock { count += 1 } }
}
