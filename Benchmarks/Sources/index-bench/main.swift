// index-bench: generates a synthetic procedure store with realistic distributions and measures search
// latency (attribute and zone queries) and bytes per track. See Benchmarks/index-bench.sh.
import Consultation
import Foundation
import Index
import Logging
import Store
import StorePostgres

// MARK: Options

struct Options {
  var tracks = 1_000_000
  var runs = 20
  var out = "bench-out"
  var reuse = false
  var chunk = 5_000
  var only: String?
  /// Measure the store unsealed (as before "sealed at rest"), for comparison.
  var clear = false
  /// A PostgreSQL database: the store is its schema `index_bench` (as a procedure's index on the service).
  var database: String?
}

var options = Options()
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--tracks": options.tracks = Int(arguments.popFirst() ?? "") ?? options.tracks
  case "--runs": options.runs = Int(arguments.popFirst() ?? "") ?? options.runs
  case "--out": options.out = arguments.popFirst() ?? options.out
  case "--reuse": options.reuse = true
  case "--only": options.only = arguments.popFirst()
  case "--clear": options.clear = true
  case "--database": options.database = arguments.popFirst()
  default:
    print("usage: index-bench [--tracks N] [--runs N] [--out DIR] [--reuse] [--only TEXT] [--clear] [--database postgres://…]")
    exit(2)
  }
}

// MARK: Deterministic randomness

struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

var random = SplitMix64(state: 20_260_301)
@MainActor func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &random) }
@MainActor func pick<T>(_ weighted: [(T, Double)]) -> T {
  let total = weighted.reduce(0) { $0 + $1.1 }
  var x = uniform(0...total)
  for (value, weight) in weighted {
    x -= weight
    if x <= 0 { return value }
  }
  return weighted[weighted.count - 1].0
}

// MARK: Synthetic footage description

let cameraCount = 8
let hoursPerCamera = 24
let width = 1280
let height = 720
let exhibitCount = cameraCount * hoursPerCamera
let tracksPerExhibit = (options.tracks + exhibitCount - 1) / exhibitCount
let firstStart = try WallClockTime(iso8601: "2026-03-01T00:00:00+01:00")

let classMix: [(ObjectClass, Double)] = [
  (.person, 0.55), (.car, 0.30), (.twoWheeler, 0.08), (.busTruck, 0.04), (.other, 0.03),
]
let colourMix: [(Colour, Double)] = [
  (.black, 0.22), (.grey, 0.18), (.white, 0.16), (.blue, 0.12), (.red, 0.07), (.brown, 0.06), (.green, 0.05),
  (.yellow, 0.04), (.orange, 0.04), (.purple, 0.03), (.pink, 0.03),
]
/// Unit vectors of the eight directions, in image coordinates (y down).
let directionVectors: [Direction: (Double, Double)] = [
  .up: (0, -1), .upRight: (0.707, -0.707), .right: (1, 0), .downRight: (0.707, 0.707), .down: (0, 1),
  .downLeft: (-0.707, 0.707), .left: (-1, 0), .upLeft: (-0.707, -0.707), .stationary: (0, 0),
]
/// A street crossing the image left–right: most traffic goes left or right, some diagonally or up/down.
let directionMix: [(Direction, Double)] = [
  (.right, 0.3), (.left, 0.3), (.upRight, 0.06), (.downRight, 0.06), (.upLeft, 0.06), (.downLeft, 0.06),
  (.up, 0.05), (.down, 0.05), (.stationary, 0.06),
]

@MainActor func makeTrack(startOffset: Double) -> NewTrack {
  let objectClass = pick(classMix)
  let direction = pick(directionMix)
  // Durations from 1 to 60 s, log-uniform (many short tracks, a few long ones); 4 Hz samples.
  let duration = exp(uniform(0...log(60)))
  var speed: Double =
    switch objectClass {
    case .person: uniform(0.02...0.08)
    case .car, .busTruck: uniform(0.08...0.4)
    case .twoWheeler: uniform(0.06...0.3)
    case .other: uniform(0.01...0.2)
    }
  if direction == .stationary { speed = 0 }
  let (baseW, baseH): (Double, Double) =
    switch objectClass {
    case .person: (0.035, 0.16)
    case .car: (0.14, 0.12)
    case .twoWheeler: (0.06, 0.12)
    case .busTruck: (0.3, 0.3)
    case .other: (0.05, 0.05)
    }
  let (dx, dy) = directionVectors[direction]!
  var x = uniform(0.05...0.95)
  var y = uniform(0.35...0.98)
  // Objects travel in a straight line and the track ends where they leave the image, so a long track is a
  // slow object (loitering, queueing, parked): the speed is capped by the room left ahead in the image.
  let aspect = Double(width) / Double(height)
  let roomX = dx > 0 ? (0.98 - x) / dx : dx < 0 ? (x - 0.02) / -dx : .infinity
  let roomY = dy > 0 ? (0.99 - y) / (dy * aspect) : dy < 0 ? (y - 0.3) / (-dy * aspect) : .infinity
  speed = min(speed, min(roomX, roomY) / duration)
  let vx = dx * speed
  let vy = dy * speed * aspect
  var samples: [PathSample] = []
  let count = max(2, Int(duration * 4) + 1)
  samples.reserveCapacity(count)
  for k in 0..<count {
    let t = k == count - 1 ? duration : Double(k) / 4
    if k > 0 {
      let step = t - samples[k - 1].time + startOffset
      x = min(0.98, max(0.02, x + vx * step + uniform(-0.002...0.002)))
      y = min(0.99, max(0.3, y + vy * step + uniform(-0.002...0.002)))
    }
    let scale = 0.4 + y  // nearer the bottom, bigger
    let w = min(0.5, baseW * scale) * Double(width)
    let h = min(y - 0.01, baseH * scale) * Double(height)
    let left = min(Double(width) - w, max(0, x * Double(width) - w / 2))
    let top = max(0, y * Double(height) - h)
    samples.append(
      PathSample(
        time: startOffset + t, frameIndex: Int(((startOffset + t) * 25).rounded()),
        box: Box(x: left.rounded(), y: top.rounded(), width: max(1, w.rounded()), height: max(1, h.rounded()))))
  }
  // 1 to 3 colours with decreasing fractions.
  var colours: [ColourFraction] = []
  var remaining = 1.0
  for _ in 0..<Int.random(in: 1...3, using: &random) {
    let colour = pick(colourMix)
    if colours.contains(where: { $0.colour == colour }) { continue }
    let fraction = (remaining * uniform(0.35...0.8) * 100).rounded() / 100
    colours.append(ColourFraction(colour, fraction))
    remaining -= fraction
  }
  return NewTrack(
    objectClass: objectClass, classConfidence: (uniform(0.4...0.99) * 100).rounded() / 100, colours: colours,
    direction: direction, speed: (speed * 1000).rounded() / 1000, path: samples)
}

// MARK: Generation

@MainActor func fileSize(_ path: String) -> Int64 {
  ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

try FileManager.default.createDirectory(atPath: options.out, withIntermediateDirectories: true)
let databasePath = options.out + "/index.sqlite"
var logger = Logger(label: "index-bench")
logger.logLevel = ProcessInfo.processInfo.environment["INDEX_BENCH_DEBUG"] == nil ? .warning : .debug
let keyPath = options.out + "/bench.key"
let service = try options.database.map { try PostgresLocation(url: $0) }
let schema = "index_bench"
if !options.reuse {
  for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
  try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: keyPath))
  if let service {
    let main = try PostgresEngine(location: service)
    try main.write { tx in
      try tx.execute(try PostgresEngine.dropSchema(schema))
      try tx.execute(try PostgresEngine.createSchema(schema))
    }
    try main.close()
  }
}
// Sealed at rest as a procedure's vault (X25519 + AES-256-GCM), unless --clear.
let sealing: any IndexSealing =
  options.clear
  ? NoSealing() : try ProcedureSealing.forBenchmark(procedure: "BENCH", privateKey: Data(contentsOf: URL(fileURLWithPath: keyPath)))
/// Opens the store: the SQLite file, or the schema of the PostgreSQL database.
@MainActor func openStore() throws -> IndexStore {
  guard let service else { return try IndexStore(path: databasePath, sealing: sealing, logger: logger) }
  return try IndexStore(engine: try PostgresEngine(location: service, schema: schema), sealing: sealing, logger: logger)
}
/// The bytes the store takes: the SQLite file and its WAL, or the schema's tables, indexes and TOAST.
@MainActor func storeBytes() throws -> Int64 {
  guard let service else { return fileSize(databasePath) + fileSize(databasePath + "-wal") }
  let main = try PostgresEngine(location: service)
  defer { try? main.close() }
  let sql = """
    SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ? AND c.relkind = 'r'
    """
  return try main.read { try $0.value(Int64.self, sql, schema) } ?? 0
}
print(options.clear ? "store unsealed (--clear)" : "store sealed at rest (X25519 + AES-256-GCM)")
// As the console does: opened blocks kept between searches (the first run of each query fills it).
IndexStore.keepOpenedBlocks(upTo: (ProcessInfo.processInfo.environment["INDEX_BENCH_CACHE_MB"].flatMap(Int.init) ?? 1024) << 20)
print(service.map { "engine: PostgreSQL \($0.redacted), schema \(schema)" } ?? "engine: SQLite \(databasePath)")
var store: IndexStore? = try openStore()
let existing = try store!.search(TrackQuery(limit: 0)).total
if existing == 0 {
  print(
    "generating \(exhibitCount) exhibits × \(tracksPerExhibit) tracks (\(cameraCount) cameras × \(hoursPerCamera) h)")
  let clock = ContinuousClock()
  let began = clock.now
  var written = 0
  var samples = 0
  for camera in 1...cameraCount {
    for hour in 0..<hoursPerCamera {
      let start = WallClockTime(
        date: firstStart.date.addingTimeInterval(Double(hour) * 3600), utcOffsetSeconds: firstStart.utcOffsetSeconds)
      let exhibit = try store!.beginExhibit(
        ExhibitMetadata(
          fileName: "cam\(camera)-\(hour).mp4", sha256: String(format: "%064x", camera * 1000 + hour),
          sizeBytes: 1_500_000_000, container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "h264", width: width,
          height: height, fps: 25, camera: "cam-\(camera)", start: start))
      let count = min(tracksPerExhibit, options.tracks - written)
      var offsets = (0..<count).map { _ in uniform(0...3540) }
      offsets.sort()
      var index = 0
      while index < count {
        let chunk = offsets[index..<min(count, index + options.chunk)].map { makeTrack(startOffset: $0) }
        samples += chunk.reduce(0) { $0 + $1.path.count }
        _ = try store!.addTracks(chunk, toExhibit: exhibit)
        index += chunk.count
      }
      try store!.commitExhibit(
        exhibit, completion: ExhibitCompletion(duration: 3600, framesDecoded: 90_000, skippedPackets: 0))
      written += count
    }
    let elapsed = clock.now - began
    print(
      "  camera \(camera): \(written) tracks, \(samples) path samples, \(elapsed.formatted(.units(allowed: [.seconds])))"
    )
  }
  print(
    "generated \(written) tracks (\(samples) samples, \(String(format: "%.1f", Double(samples) / Double(written))) per track) in \((clock.now - began).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))"
  )
}
// Reopen so the WAL is checkpointed into the main file before measuring its size.
store = nil
store = try openStore()
let total = try store!.search(TrackQuery(limit: 0)).total
let bytes = try storeBytes()
print("store: \(total) tracks, \(bytes / 1_000_000) MB on disk, \(bytes / Int64(max(1, total))) bytes per track")

// MARK: Queries

@MainActor func percentile(_ values: [Double], _ p: Double) -> Double {
  let sorted = values.sorted()
  return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

@MainActor func hourWindow(_ run: Int, hours: Double) -> (Date, Date) {
  let from = firstStart.date.addingTimeInterval(
    Double((run * 7) % (hoursPerCamera - Int(hours.rounded(.up)))) * 3600 + 600)
  return (from, from.addingTimeInterval(hours * 3600))
}

@MainActor func camera(_ run: Int) -> String { "cam-\(run % cameraCount + 1)" }

@MainActor func zone(_ run: Int, _ text: String) -> Zone {
  Zone(camera: camera(run), shape: .polygon(try! QueryParser.polygon(text)))
}

let door = "0.05,0.55 0.25,0.55 0.25,0.95 0.05,0.95"
let counter = "0.7,0.45 0.95,0.45 0.95,0.8 0.7,0.8"
let plaza = "0.1,0.4 0.5,0.35 0.9,0.4 0.9,0.95 0.1,0.95"
let benchmarks: [(kind: String, name: String, query: @MainActor (Int) -> TrackQuery)] = [
  (
    "attribute", "red car going right (all cameras, all time)",
    { _ in
      TrackQuery(classes: [.car], colours: [.red], directions: [.right], limit: 50)
    }
  ),
  (
    "attribute", "person on one camera in a 1 h window",
    { run in
      let (from, to) = hourWindow(run, hours: 1)
      return TrackQuery(classes: [.person], cameras: [camera(run)], from: from, to: to, limit: 50)
    }
  ),
  (
    "attribute", "blue or green, at least 20 s",
    { _ in TrackQuery(colours: [.blue, .green], minDuration: 20, limit: 50) }
  ),
  (
    "attribute", "anything in a 10 min window",
    { run in
      let (from, _) = hourWindow(run, hours: 1)
      return TrackQuery(from: from, to: from.addingTimeInterval(600), limit: 50)
    }
  ),
  (
    "attribute", "two-wheeler or bus-truck, speed 0.2–0.5, size ≥ 2 %",
    { _ in
      TrackQuery(classes: [.twoWheeler, .busTruck], minSpeed: 0.2, maxSpeed: 0.5, minSize: 0.02, limit: 50)
    }
  ),
  (
    "attribute", "person going left, page 21 (offset 1000)",
    { _ in
      TrackQuery(classes: [.person], directions: [.left], limit: 50, offset: 1000)
    }
  ),
  (
    "attribute", "black car, one camera, 6 h",
    { run in
      let (from, to) = hourWindow(run, hours: 6)
      return TrackQuery(classes: [.car], colours: [.black], cameras: [camera(run)], from: from, to: to, limit: 50)
    }
  ),
  ("attribute", "no filter (count all)", { _ in TrackQuery(limit: 50) }),
  (
    "zone", "enters the door zone (one camera, all time)",
    { run in
      TrackQuery(zone: ZoneQuery(zone: zone(run, door), rule: .enters), limit: 50)
    }
  ),
  (
    "zone", "car crosses a line left to right (one camera)",
    { run in
      let line = Zone(camera: camera(run), shape: .line(Point(x: 0.5, y: 0.4), Point(x: 0.5, y: 0.95)))
      return TrackQuery(classes: [.car], zone: ZoneQuery(zone: line, rule: .crosses(.leftToRight)), limit: 50)
    }
  ),
  (
    "zone", "person dwells ≥ 10 s in the counter zone, 6 h",
    { run in
      let (from, to) = hourWindow(run, hours: 6)
      return TrackQuery(
        classes: [.person], from: from, to: to, zone: ZoneQuery(zone: zone(run, counter), rule: .dwell(seconds: 10)),
        limit: 50)
    }
  ),
  (
    "zone", "from the door zone to the counter zone",
    { run in
      TrackQuery(zone: ZoneQuery(zone: zone(run, counter), rule: .from(zone(run, door))), limit: 50)
    }
  ),
  (
    "zone", "inside a large zone (half the image, one camera)",
    { run in
      TrackQuery(zone: ZoneQuery(zone: zone(run, plaza), rule: .inside), limit: 50)
    }
  ),
  (
    "zone", "red car enters the door zone, 1 h",
    { run in
      let (from, to) = hourWindow(run, hours: 1)
      return TrackQuery(
        classes: [.car], colours: [.red], from: from, to: to, zone: ZoneQuery(zone: zone(run, door), rule: .enters),
        limit: 50)
    }
  ),
]

@MainActor func milliseconds(_ elapsed: Duration) -> Double {
  Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
}
// Cold: the first searches of the process, nothing opened yet (a one-off `lrj search`).
print("")
for (name, query) in [("attribute, no filter (count all)", TrackQuery(limit: 50)),
                      ("zone, inside a large zone", benchmarks.first { $0.name.hasPrefix("inside") }!.query(0))] {
  let start = ContinuousClock().now
  _ = try store!.search(query)
  print(String(format: "cold (first search of the process): %@ %.1f ms", name, milliseconds(ContinuousClock().now - start)))
}
// Warm: every query once per run, so that the blocks they read are opened and kept (the console's case).
for benchmark in benchmarks where options.only.map({ benchmark.name.contains($0) }) ?? true {
  for run in 0..<options.runs { _ = try store!.search(benchmark.query(run)) }
}
print("")
print("query latency over \(options.runs) runs (after a warm-up pass), milliseconds")
print("kind       p50      p95      max   hits (last run)  query")
var worst: [String: Double] = [:]
let clock = ContinuousClock()
for benchmark in benchmarks where options.only.map({ benchmark.name.contains($0) }) ?? true {
  _ = try store!.search(benchmark.query(0))
  var times: [Double] = []
  var hits = 0
  for run in 0..<options.runs {
    let query = benchmark.query(run)
    let start = clock.now
    let result = try store!.search(query)
    let elapsed = clock.now - start
    times.append(milliseconds(elapsed))
    hits = result.total
  }
  let p95 = percentile(times, 0.95)
  worst[benchmark.kind] = max(worst[benchmark.kind] ?? 0, p95)
  print(
    benchmark.kind.padding(toLength: 9, withPad: " ", startingAt: 0)
      + String(format: "%7.1f  %7.1f  %7.1f  %9d        ", percentile(times, 0.5), p95, times.max() ?? 0, hits)
      + benchmark.name)
}
print("")
print(
  String(
    format: "worst p95: attribute %.1f ms (target ≤ 100), zone %.1f ms (target ≤ 300)", worst["attribute"] ?? 0,
    worst["zone"] ?? 0))
