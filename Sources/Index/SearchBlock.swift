import Foundation
import Store

/// The search blocks: per complete exhibit, its tracks' filter attributes packed in fixed-size records,
/// sorted by start time, in blocks of up to ``capacity`` tracks (table `search_block`), with the tracks'
/// ground paths packed alongside for zone rules.
///
/// Record format (version 1), 104 bytes, little-endian:
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | Int64 | track row id |
/// | 8 | Float64 | start, UTC seconds since 1970 (``TrackDetail``) |
/// | 16 | Float64 | end, UTC |
/// | 24 | Float64 | duration (end offset − start offset) |
/// | 32 | Float64 | speed |
/// | 40 | Float64 | largest box area fraction |
/// | 48 | UInt64 | occupancy cells of the ground path: bit 8 × row + column of an 8×8 grid over the image is set when a segment's bounding box meets that cell |
/// | 56 | UInt8 | class, index in `ObjectClass.allCases` |
/// | 57 | UInt8 | direction, index in `Direction.allCases` |
/// | 58 | 11 × UInt8 | per colour of `Colour.allCases`: 0 when absent, else 1 + the largest k in 0…100 with fraction ≥ k/100 |
/// | 69 | 3 bytes | zero |
/// | 72 | Float64 | start offset in the exhibit (`track.start_offset`) |
/// | 80 | UInt32 | byte offset of the track's ground path in the block's `paths` |
/// | 84 | UInt32 | number of samples of the ground path |
/// | 88 | 4 × Float32 | bounding box of the ground path: min x, max x, min y, max y |
///
/// `paths` (version 1): one byte `1`, then per track and sample 12 bytes: `Float32` seconds since the track's
/// first sample, `Float32` x and y of the ground position (bottom-centre of the box over the frame size), from
/// the stored boxes of the track's path, thinned to one sample per ``zoneSampleInterval`` at most. Zone rules are
/// evaluated on these positions.
///
/// Numbers are the very values of the track's detail (``TrackDetail``). A colour threshold that is a whole
/// percentage is decided by the colour byte alone; any other threshold is decided by it except within one
/// percentage point, where the track's detail is consulted. Records and paths are sealed at rest, each
/// block on its own; its time span (`min_start_utc`, `max_start_utc`, `max_end_utc`) stays clear to route
/// time-bounded searches.
enum SearchBlock {
  static let version: UInt8 = 1
  static let recordSize = 104
  static let pathSampleSize = 12
  static let capacity = 4096
  /// Zone rules see a path sampled at most every 0.2 s (5 Hz): denser stored paths are thinned, keeping the
  /// first and last samples, so that storing every frame for exports does not slow zone searches down.
  static let zoneSampleInterval = 0.2

  /// Rewrites the blocks of an exhibit from its tracks (after its commit, or after a deletion): opens each
  /// track's detail, packs the records in start order and seals each block's records and paths.
  static func rebuild(_ tx: any StoreTransaction, exhibitRow: Int64, sealing: any IndexSealing) throws {
    try tx.execute("DELETE FROM search_block WHERE exhibit_id = ?", exhibitRow)
    var tracks: [(id: Int64, detail: TrackDetail)] = []
    try tx.forEachRow("SELECT id, detail FROM track WHERE exhibit_id = ?", [.integer(exhibitRow)]) { row in
      let id: Int64 = try row.get(0)
      tracks.append((id, try sealing.detail(row: id, sealed: try row.get(1))))
    }
    tracks.sort { ($0.detail.startUTC, $0.id) < ($1.detail.startUTC, $1.id) }
    let colourIndex = Dictionary(uniqueKeysWithValues: Colour.allCases.enumerated().map { ($1, $0) })
    let classIndex = Dictionary(uniqueKeysWithValues: ObjectClass.allCases.enumerated().map { ($1, UInt8($0)) })
    let directionIndex = Dictionary(uniqueKeysWithValues: Direction.allCases.enumerated().map { ($1, UInt8($0)) })
    var bytes: [UInt8] = []
    var paths: [UInt8] = []
    var ground: [(Float, Float, Float)] = []
    var kept: [Point] = []
    var count = 0
    var block: Int64 = 0
    var minStart = 0.0
    var maxStart = 0.0
    var maxEnd = -Double.infinity
    func flush() throws {
      guard count > 0 else { return }
      let data = try sealing.sealed(Data(bytes), context: SealContext.blockData(exhibit: exhibitRow, block: block))
      let sealedPaths = try sealing.sealed(Data(paths), context: SealContext.blockPaths(exhibit: exhibitRow, block: block))
      try tx.execute(
        """
        INSERT INTO search_block (exhibit_id, block, track_count, min_start_utc, max_start_utc, max_end_utc, data,
          paths)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """, exhibitRow, block, count, minStart, maxStart, maxEnd, data, sealedPaths)
      block += 1
      count = 0
      maxEnd = -.infinity
    }
    for (id, detail) in tracks {
      if count == 0 {
        bytes = [version]
        bytes.reserveCapacity(1 + recordSize * capacity)
        paths = [version]
        minStart = detail.startUTC
      }
      let frameWidth = Double(detail.frameWidth)
      let frameHeight = Double(detail.frameHeight)
      let pathOffset = paths.count
      var sampleCount = 0
      var minX = Float.infinity
      var maxX = -Float.infinity
      var minY = Float.infinity
      var maxY = -Float.infinity
      ground.removeAll(keepingCapacity: true)
      try PathCodec.forEach(detail.path, startOffset: 0) { _, time, box in
        let p = box.groundPoint(frameWidth: frameWidth, frameHeight: frameHeight)
        ground.append((Float(time), Float(p.x), Float(p.y)))
      }
      // Thin paths stored denser than the zone sampling rate (every frame's box, kept for exports).
      var lastKept = -Float.infinity
      kept.removeAll(keepingCapacity: true)
      for (index, sample) in ground.enumerated()
      where index == ground.count - 1 || sample.0 >= lastKept + Float(zoneSampleInterval) - 1e-6 {
        kept.append(Point(x: Double(sample.1), y: Double(sample.2)))
        lastKept = sample.0
        func put(_ value: Float) {
          let bits = value.bitPattern.littleEndian
          paths.append(UInt8(truncatingIfNeeded: bits))
          paths.append(UInt8(truncatingIfNeeded: bits >> 8))
          paths.append(UInt8(truncatingIfNeeded: bits >> 16))
          paths.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        put(sample.0)
        put(sample.1)
        put(sample.2)
        minX = min(minX, sample.1)
        maxX = max(maxX, sample.1)
        minY = min(minY, sample.2)
        maxY = max(maxY, sample.2)
        sampleCount += 1
      }
      let cells = Self.cells(of: kept)
      var levels = [UInt8](repeating: 0, count: 11)
      for colour in detail.colours { levels[colourIndex[colour.colour]!] = 1 + level(colour.fraction) }
      var record = [UInt8](repeating: 0, count: recordSize)
      record.withUnsafeMutableBytes { raw in
        raw.storeBytes(of: id.littleEndian, toByteOffset: 0, as: Int64.self)
        raw.storeBytes(of: detail.startUTC.bitPattern.littleEndian, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: detail.endUTC.bitPattern.littleEndian, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: detail.duration.bitPattern.littleEndian, toByteOffset: 24, as: UInt64.self)
        raw.storeBytes(of: detail.speed.bitPattern.littleEndian, toByteOffset: 32, as: UInt64.self)
        raw.storeBytes(of: detail.maxArea.bitPattern.littleEndian, toByteOffset: 40, as: UInt64.self)
        raw.storeBytes(of: cells.littleEndian, toByteOffset: 48, as: UInt64.self)
        raw[56] = classIndex[detail.objectClass]!
        raw[57] = directionIndex[detail.direction]!
        for k in 0..<11 { raw[58 + k] = levels[k] }
        raw.storeBytes(of: detail.startOffset.bitPattern.littleEndian, toByteOffset: 72, as: UInt64.self)
        raw.storeBytes(of: UInt32(pathOffset).littleEndian, toByteOffset: 80, as: UInt32.self)
        raw.storeBytes(of: UInt32(sampleCount).littleEndian, toByteOffset: 84, as: UInt32.self)
        raw.storeBytes(of: minX.bitPattern.littleEndian, toByteOffset: 88, as: UInt32.self)
        raw.storeBytes(of: maxX.bitPattern.littleEndian, toByteOffset: 92, as: UInt32.self)
        raw.storeBytes(of: minY.bitPattern.littleEndian, toByteOffset: 96, as: UInt32.self)
        raw.storeBytes(of: maxY.bitPattern.littleEndian, toByteOffset: 100, as: UInt32.self)
      }
      bytes.append(contentsOf: record)
      maxStart = detail.startUTC
      maxEnd = max(maxEnd, detail.endUTC)
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
      mask |= cells(
        minX: min(p.x, previous.x), maxX: max(p.x, previous.x), minY: min(p.y, previous.y), maxY: max(p.y, previous.y))
      previous = p
    }
    return mask
  }

  /// The cells whose closed square meets the shape: a path that touches the shape has a cell in this set.
  static func cells(of shape: ZoneShape) -> UInt64 {
    var mask: UInt64 = 0
    let polygon: [Point]? = if case .polygon(let points) = shape { points } else { nil }
    for row in 0..<8 {
      for column in 0..<8 {
        let rect = ZoneGrid.rect(row: row, column: column, cells: 8)
        // The cell meets the shape when the outline enters it, or when it lies inside the polygon.
        let meets =
          ZoneGrid.boundaryMeets(shape, rect)
          || (polygon.map { Geometry.contains($0, Point(x: rect.minX, y: rect.minY)) } ?? false)
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
    /// The zone's bounding box (min x, max x, min y, max y): the ground path's box must meet it.
    var box: (Float, Float, Float, Float) = (-.infinity, .infinity, -.infinity, .infinity)

    init(_ query: TrackQuery, cells: UInt64?) {
      if !query.classes.isEmpty {
        classes = 0
        for (i, c) in ObjectClass.allCases.enumerated() where query.classes.contains(c) { classes |= 1 << UInt8(i) }
      }
      if !query.directions.isEmpty {
        directions = 0
        for (i, d) in Direction.allCases.enumerated() where query.directions.contains(d) {
          directions |= 1 << UInt16(i)
        }
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
      if let zone = query.zone {
        // Float rounding of the stored boxes: widen by a hair so that a box that touches still passes.
        let bounds = zone.zone.shape.bounds
        box = (
          Float(bounds.minX).nextDown.nextDown, Float(bounds.maxX).nextUp.nextUp, Float(bounds.minY).nextDown.nextDown,
          Float(bounds.maxY).nextUp.nextUp
        )
      }
    }
  }

  struct Match {
    var start: Double
    var id: Int64
    /// The colour test needs the track's detail to decide.
    var needsColourCheck: Bool
  }

  /// Appends the records of a block that pass the filter.
  static func scan(_ data: UnsafeRawBufferPointer, filter: Filter, into matches: inout [Match]) throws {
    try visit(data, filter: filter) { base, needsCheck in
      matches.append(
        Match(
          start: double(data, base + 8),
          id: Int64(littleEndian: data.loadUnaligned(fromByteOffset: base, as: Int64.self)),
          needsColourCheck: needsCheck))
    }
  }

  @inline(__always) static func double(_ data: UnsafeRawBufferPointer, _ offset: Int) -> Double {
    Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
  }

  @inline(__always) static func float(_ data: UnsafeRawBufferPointer, _ offset: Int) -> Float {
    Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
  }

  /// Calls `body` with the byte offset of each record of a block that passes the filter, and whether its
  /// colour test needs the track's detail to decide.
  @inline(__always)
  static func visit(_ data: UnsafeRawBufferPointer, filter: Filter, _ body: (Int, Bool) throws -> Void) throws {
    guard data.count >= 1, data[0] == version, (data.count - 1) % recordSize == 0 else {
      throw IndexError.corruptData("a search block of \(data.count) bytes")
    }
    let count = (data.count - 1) / recordSize
    for index in 0..<count {
      let base = 1 + index * recordSize
      guard filter.classes & (1 << data[base + 56]) != 0, filter.directions & (1 << UInt16(data[base + 57])) != 0
      else { continue }
      let start = double(data, base + 8)
      guard start < filter.to, double(data, base + 16) > filter.from, double(data, base + 24) >= filter.minDuration
      else { continue }
      let speed = double(data, base + 32)
      guard speed >= filter.minSpeed, speed <= filter.maxSpeed, double(data, base + 40) >= filter.minSize else {
        continue
      }
      guard UInt64(littleEndian: data.loadUnaligned(fromByteOffset: base + 48, as: UInt64.self)) & filter.cells != 0,
        float(data, base + 92) >= filter.box.0, float(data, base + 88) <= filter.box.1,
        float(data, base + 100) >= filter.box.2, float(data, base + 96) <= filter.box.3
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
      try body(base, needsCheck)
    }
  }

  /// The ground path of the record at `base`, decoded from the block's `paths` into `result`.
  static func groundPath(
    record data: UnsafeRawBufferPointer, base: Int, paths: UnsafeRawBufferPointer, into result: inout [PathPoint]
  ) throws {
    result.removeAll(keepingCapacity: true)
    let startOffset = double(data, base + 72)
    let offset = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: base + 80, as: UInt32.self)))
    let count = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: base + 84, as: UInt32.self)))
    guard paths.count >= 1, paths[0] == version, offset >= 1, offset + count * pathSampleSize <= paths.count else {
      throw IndexError.corruptData("a search block's paths")
    }
    for k in 0..<count {
      let at = offset + k * pathSampleSize
      result.append(
        PathPoint(
          time: startOffset + Double(float(paths, at)),
          position: Point(x: Double(float(paths, at + 4)), y: Double(float(paths, at + 8)))))
    }
  }
}
