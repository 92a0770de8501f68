import Foundation
import GRDB

/// The search blocks: per complete exhibit, its tracks' filter attributes packed in fixed-size records,
/// sorted by start time, in blocks of up to ``capacity`` tracks (table `search_block`).
///
/// Record format (version 1), 72 bytes, little-endian:
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | Int64 | track row id |
/// | 8 | Float64 | start, UTC seconds since 1970 (`track.start_utc`) |
/// | 16 | Float64 | end (`track.end_utc`) |
/// | 24 | Float64 | duration (`track.duration`) |
/// | 32 | Float64 | speed |
/// | 40 | Float64 | largest box area fraction |
/// | 48 | UInt64 | occupancy cells (`track.cells`) |
/// | 56 | UInt8 | class, index in `ObjectClass.allCases` |
/// | 57 | UInt8 | direction, index in `Direction.allCases` |
/// | 58 | 11 × UInt8 | per colour of `Colour.allCases`: 0 when absent, else 1 + the largest k in 0…100 with fraction ≥ k/100 |
/// | 69 | 3 bytes | zero |
///
/// Numbers are the very values of the `track` row, so filters compare exactly what SQL would. A colour
/// threshold that is a whole percentage is decided by the colour byte alone; any other threshold is decided by
/// it except within one percentage point, where `track_colour` is consulted.
enum SearchBlock {
  static let version: UInt8 = 1
  static let recordSize = 72
  static let capacity = 4096

  /// Rewrites the blocks of an exhibit from its tracks (after its commit, or after a deletion).
  static func rebuild(_ db: Database, exhibitRow: Int64) throws {
    try db.execute(sql: "DELETE FROM search_block WHERE exhibit_id = ?", arguments: [exhibitRow])
    var colours: [Int64: [UInt8]] = [:]
    let colourIndex = Dictionary(uniqueKeysWithValues: Colour.allCases.enumerated().map { ($1.rawValue, $0) })
    let colourRows = try Row.fetchCursor(
      db,
      sql: """
        SELECT c.track_id, c.colour, c.fraction FROM track_colour c JOIN track t ON t.id = c.track_id
        WHERE t.exhibit_id = ?
        """,
      arguments: [exhibitRow])
    while let row = try colourRows.next() {
      guard let index = colourIndex[row[1]] else { throw IndexError.corruptData("colour \(row[1] as String)") }
      colours[row[0], default: [UInt8](repeating: 0, count: 11)][index] = 1 + level(row[2])
    }
    let classIndex = Dictionary(uniqueKeysWithValues: ObjectClass.allCases.enumerated().map { ($1.rawValue, UInt8($0)) })
    let directionIndex = Dictionary(uniqueKeysWithValues: Direction.allCases.enumerated().map { ($1.rawValue, UInt8($0)) })
    let insert = try db.cachedStatement(
      sql: """
        INSERT INTO search_block (exhibit_id, block, track_count, min_start_utc, max_start_utc, max_end_utc, data)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """)
    var bytes: [UInt8] = []
    var count = 0
    var block = 0
    var minStart = 0.0
    var maxStart = 0.0
    var maxEnd = -Double.infinity
    func flush() throws {
      guard count > 0 else { return }
      insert.setUncheckedArguments([exhibitRow, block, count, minStart, maxStart, maxEnd, Data(bytes)])
      try insert.execute()
      block += 1
      count = 0
      maxEnd = -.infinity
    }
    let tracks = try Row.fetchCursor(
      db,
      sql: """
        SELECT id, start_utc, end_utc, duration, speed, max_area, cells, class, direction FROM track
        WHERE exhibit_id = ? ORDER BY start_utc, id
        """,
      arguments: [exhibitRow])
    while let row = try tracks.next() {
      if count == 0 {
        bytes = [version]
        bytes.reserveCapacity(1 + recordSize * capacity)
        minStart = row[1]
      }
      let id: Int64 = row[0]
      guard let objectClass = classIndex[row[7]], let direction = directionIndex[row[8]] else {
        throw IndexError.corruptData("class or direction of \(Identifier.track(id))")
      }
      let start: Double = row[1]
      let end: Double = row[2]
      var record = [UInt8](repeating: 0, count: recordSize)
      record.withUnsafeMutableBytes { raw in
        raw.storeBytes(of: id.littleEndian, toByteOffset: 0, as: Int64.self)
        raw.storeBytes(of: start.bitPattern.littleEndian, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: end.bitPattern.littleEndian, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: (row[3] as Double).bitPattern.littleEndian, toByteOffset: 24, as: UInt64.self)
        raw.storeBytes(of: (row[4] as Double).bitPattern.littleEndian, toByteOffset: 32, as: UInt64.self)
        raw.storeBytes(of: (row[5] as Double).bitPattern.littleEndian, toByteOffset: 40, as: UInt64.self)
        raw.storeBytes(of: UInt64(bitPattern: row[6] as Int64).littleEndian, toByteOffset: 48, as: UInt64.self)
        raw[56] = objectClass
        raw[57] = direction
        if let levels = colours[id] { for k in 0..<11 { raw[58 + k] = levels[k] } }
      }
      bytes.append(contentsOf: record)
      maxStart = start
      maxEnd = max(maxEnd, end)
      count += 1
      if count == capacity { try flush() }
    }
    try flush()
  }

  /// The largest k in 0…100 such that fraction ≥ k/100 (with k/100 computed as a Double, like a literal).
  static func level(_ fraction: Double) -> UInt8 {
    var k = min(100, max(0, Int((fraction * 100).rounded(.down))))
    while k < 100 && fraction >= Double(k + 1) / 100 { k += 1 }
    while k > 0 && fraction < Double(k) / 100 { k -= 1 }
    return UInt8(k)
  }

  // MARK: Occupancy cells

  static func cell(_ value: Double) -> Int { min(7, max(0, Int((value * 8).rounded(.down)))) }

  /// The cells of the 8×8 grid covering a rectangle of normalised coordinates.
  static func cells(minX: Double, maxX: Double, minY: Double, maxY: Double) -> UInt64 {
    var mask: UInt64 = 0
    for row in cell(minY)...cell(maxY) {
      for column in cell(minX)...cell(maxX) { mask |= 1 << UInt64(row * 8 + column) }
    }
    return mask
  }

  /// The cells a path may pass through: each segment's bounding box (a superset of the segment).
  static func cells(of path: [Point]) -> UInt64 {
    guard var previous = path.first else { return 0 }
    var mask = cells(minX: previous.x, maxX: previous.x, minY: previous.y, maxY: previous.y)
    for p in path.dropFirst() {
      mask |= cells(minX: min(p.x, previous.x), maxX: max(p.x, previous.x), minY: min(p.y, previous.y), maxY: max(p.y, previous.y))
      previous = p
    }
    return mask
  }

  /// The cells whose closed square meets the shape: a path that touches the shape has a cell in this set.
  static func cells(of shape: ZoneShape) -> UInt64 {
    var mask: UInt64 = 0
    let e = 1e-9
    for row in 0..<8 {
      for column in 0..<8 {
        let x0 = Double(column) / 8 - e
        let x1 = Double(column + 1) / 8 + e
        let y0 = Double(row) / 8 - e
        let y1 = Double(row + 1) / 8 + e
        let corners = [Point(x: x0, y: y0), Point(x: x1, y: y0), Point(x: x1, y: y1), Point(x: x0, y: y1)]
        func inRect(_ p: Point) -> Bool { p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1 }
        let points = shape.points
        var meets = points.contains(where: inRect)
        if !meets, case .polygon(let polygon) = shape { meets = corners.contains { Geometry.contains(polygon, $0) } }
        if !meets {
          let edges = points.count == 2 ? [(points[0], points[1])] : points.indices.map { (points[$0], points[($0 + 1) % points.count]) }
          meets = edges.contains { a, b in
            (0..<4).contains { Geometry.segmentsIntersect(a, b, corners[$0], corners[($0 + 1) % 4]) }
          }
        }
        if meets { mask |= 1 << UInt64(row * 8 + column) }
      }
    }
    return mask
  }

  // MARK: Scanning

  /// A query's attribute filters, compiled for the record scan.
  struct Filter {
    var classes: UInt8 = 0xFF
    var directions: UInt16 = 0xFFFF
    /// Colour byte offsets and the level a colour byte must reach (1 + k).
    var colours: [(offset: Int, sure: UInt8, ambiguous: UInt8?)] = []
    var from = -Double.infinity
    var to = Double.infinity
    var minDuration = -Double.infinity
    var minSpeed = -Double.infinity
    var maxSpeed = Double.infinity
    var minSize = -Double.infinity
    var cells: UInt64 = ~0

    init(_ query: TrackQuery, cells: UInt64?) {
      if !query.classes.isEmpty {
        classes = 0
        for (i, c) in ObjectClass.allCases.enumerated() where query.classes.contains(c) { classes |= 1 << UInt8(i) }
      }
      if !query.directions.isEmpty {
        directions = 0
        for (i, d) in Direction.allCases.enumerated() where query.directions.contains(d) { directions |= 1 << UInt16(i) }
      }
      let f = query.minColourFraction
      let k = Int(SearchBlock.level(f))
      let exact = Double(k) / 100 == f
      for (i, c) in Colour.allCases.enumerated() where query.colours.contains(c) {
        // Byte b = 1 + q. Exact threshold: q ≥ k. Otherwise q ≥ k + 1 is sure, q == k must be checked.
        colours.append(exact ? (58 + i, UInt8(1 + k), nil) : (58 + i, UInt8(min(101, 2 + k)), UInt8(1 + k)))
      }
      if let value = query.from?.timeIntervalSince1970 { from = value }
      if let value = query.to?.timeIntervalSince1970 { to = value }
      if let value = query.minDuration { minDuration = value }
      if let value = query.minSpeed { minSpeed = value }
      if let value = query.maxSpeed { maxSpeed = value }
      if let value = query.minSize { minSize = value }
      if let cells { self.cells = cells }
    }
  }

  struct Match {
    var start: Double
    var id: Int64
    /// The colour test needs `track_colour` to decide.
    var needsColourCheck: Bool
  }

  /// Appends the records of a block that pass the filter.
  static func scan(_ data: UnsafeRawBufferPointer, filter: Filter, into matches: inout [Match]) throws {
    guard data.count >= 1, data[0] == version, (data.count - 1) % recordSize == 0 else {
      throw IndexError.corruptData("a search block of \(data.count) bytes")
    }
    let count = (data.count - 1) / recordSize
    func double(_ base: Int, _ offset: Int) -> Double {
      Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: base + offset, as: UInt64.self)))
    }
    for index in 0..<count {
      let base = 1 + index * recordSize
      guard filter.classes & (1 << data[base + 56]) != 0, filter.directions & (1 << UInt16(data[base + 57])) != 0
      else { continue }
      let start = double(base, 8)
      guard start < filter.to, double(base, 16) > filter.from, double(base, 24) >= filter.minDuration else { continue }
      let speed = double(base, 32)
      guard speed >= filter.minSpeed, speed <= filter.maxSpeed, double(base, 40) >= filter.minSize else { continue }
      guard UInt64(littleEndian: data.loadUnaligned(fromByteOffset: base + 48, as: UInt64.self)) & filter.cells != 0
      else { continue }
      var needsCheck = false
      if !filter.colours.isEmpty {
        var sure = false
        for colour in filter.colours {
          let level = data[base + colour.offset]
          if level >= colour.sure {
            sure = true
            break
          }
          if let ambiguous = colour.ambiguous, level == ambiguous { needsCheck = true }
        }
        if sure { needsCheck = false } else if !needsCheck { continue }
      }
      let id = Int64(littleEndian: data.loadUnaligned(fromByteOffset: base, as: Int64.self))
      matches.append(Match(start: start, id: id, needsColourCheck: needsCheck))
    }
  }
}
