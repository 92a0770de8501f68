import Foundation
import Store
import StorePostgres
import TestSupport
import Testing

@testable import Index

/// A ground path in normalised coordinates: (time, x, y) per sample.
func groundPath(_ samples: [(Double, Double, Double)]) -> [PathPoint] {
  samples.map { PathPoint(time: $0.0, position: Point(x: $0.1, y: $0.2)) }
}

func polygon(_ text: String) -> ZoneShape { .polygon(try! QueryParser.polygon(text)) }

func evaluate(_ rule: ZoneRule, _ shape: ZoneShape, _ samples: [(Double, Double, Double)]) -> (
  first: Double, last: Double
)? {
  ZoneQuery(zone: Zone(camera: "c", shape: shape), rule: rule).evaluate(groundPath(samples))
}

func approx(_ a: (first: Double, last: Double)?, _ b: (Double, Double)?, tolerance: Double = 1e-6) -> Bool {
  switch (a, b) {
  case (nil, nil): return true
  case (let a?, let b?): return abs(a.first - b.0) < tolerance && abs(a.last - b.1) < tolerance
  default: return false
  }
}

let frameWidth = 640
let frameHeight = 480

/// A path whose ground positions (bottom-centre of a 20x40 box) are the given normalised points, in a
/// 640x480 frame at 25 fps.
func pixelPath(_ samples: [(Double, Double, Double)]) -> [PathSample] {
  samples.map { t, x, y in
    PathSample(
      time: t, frameIndex: Int((t * 25).rounded()),
      box: Box(x: x * Double(frameWidth) - 10, y: y * Double(frameHeight) - 40, width: 20, height: 40))
  }
}

func makeTrack(
  _ objectClass: ObjectClass = .car, colours: [ColourFraction] = [ColourFraction(.red, 0.6)],
  direction: Direction = .right, speed: Double = 0.1, from start: Double = 0, to end: Double = 10,
  path: [(Double, Double, Double)]? = nil, area: Double? = nil
) -> NewTrack {
  NewTrack(
    objectClass: objectClass, classConfidence: 0.8, colours: colours, direction: direction, speed: speed,
    path: pixelPath(path ?? [(start, 0.2, 0.9), (end, 0.8, 0.9)]), maxBoxAreaFraction: area)
}

func metadata(
  sha: Character = "a", camera: String = "north", start: String = "2026-03-01T10:00:00+01:00"
) -> ExhibitMetadata {
  ExhibitMetadata(
    fileName: "cam-\(sha).mp4", sha256: String(repeating: sha, count: 64), sizeBytes: 1_000_000,
    container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "h264", width: frameWidth, height: frameHeight, fps: 25,
    camera: camera, start: try! WallClockTime(iso8601: start))
}

let completion = ExhibitCompletion(duration: 600, framesDecoded: 15000, skippedPackets: 0)

func date(_ text: String) -> Date { try! WallClockTime(iso8601: text).date }

/// The engines every store test runs on.
enum TestEngine: String, CaseIterable, CustomTestStringConvertible {
  case sqlite
  case postgres

  var testDescription: String { rawValue }

  /// The one PostgreSQL database of this test process (each store gets a schema of its own in it).
  nonisolated(unsafe) static let database: PostgresLocation? = {
    guard let server = TestPostgres.shared, let url = try? server.database("index") else { return nil }
    return try? PostgresLocation(url: url)
  }()

  /// Opens a new empty store on this engine; each call of the returned function opens that same store
  /// again (a new connection, as a new process would). Nil when PostgreSQL is not installed.
  func newStore(sealing: any IndexSealing = NoSealing()) throws -> (() throws -> IndexStore)? {
    switch self {
    case .sqlite:
      let folder = try TestPaths.temporaryFolder("lrj-index")
      let path = folder.appendingPathComponent("index.sqlite").path
      return { try IndexStore(path: path, sealing: sealing) }
    case .postgres:
      guard let location = Self.database else {
        print("PostgreSQL is not installed: the PostgreSQL index is not tested")
        return nil
      }
      let schema = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
      let main = try PostgresEngine(location: location)
      try main.write { try $0.execute(try PostgresEngine.createSchema(schema)) }
      try main.close()
      return { try IndexStore(engine: try PostgresEngine(location: location, schema: schema), sealing: sealing) }
    }
  }

  /// A new empty store, or nil when PostgreSQL is not installed.
  func store(sealing: any IndexSealing = NoSealing()) throws -> IndexStore? {
    try newStore(sealing: sealing).map { try $0() }
  }
}

extension IndexStore {
  /// The number of rows of each table, in order.
  func counts(_ tables: [String]) throws -> [Int] {
    try read { tx in try tables.map { try tx.value(Int.self, "SELECT count(*) FROM \($0)") ?? -1 } }
  }
}

/// Keeps data as it is, but fails to seal the object `failAt` names (an error half way through a write).
struct FailingSealing: IndexSealing {
  let failAt: String
  struct Failure: Error {}
  func seal(_ data: Data, context: String) throws -> Data {
    if context == failAt { throw Failure() }
    return data
  }
  func open(_ data: Data, context: String) throws -> Data { data }
}

/// Seals by prefixing 48 random bytes (as a real sealing's random key does) and counts what it opens.
final class CountingSealing: IndexSealing, @unchecked Sendable {  // `opened` is only touched under `lock`
  private let lock = NSLock()
  private var opened: [String] = []
  var blocksOpened: Int { lock.withLock { opened.filter { $0.hasPrefix("search block") }.count } }
  var marksEachSealing: Bool { true }
  func seal(_ data: Data, context: String) throws -> Data { Data((0..<48).map { _ in UInt8.random(in: 0...255) }) + data }
  func open(_ data: Data, context: String) throws -> Data {
    lock.withLock { opened.append(context) }
    return data.dropFirst(48)
  }
}
