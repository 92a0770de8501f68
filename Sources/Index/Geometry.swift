/// A point in normalised image coordinates: `x` from 0 (left) to 1 (right), `y` from 0 (top) to 1 (bottom).
///
/// Encoded in JSON as `[x, y]`.
public struct Point: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Double
  public var y: Double

  public init(x: Double, y: Double) {
    self.x = x
    self.y = y
  }

  public init(from decoder: any Decoder) throws {
    var container = try decoder.unkeyedContainer()
    x = try container.decode(Double.self)
    y = try container.decode(Double.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.unkeyedContainer()
    try container.encode(x)
    try container.encode(y)
  }

  public var description: String { "\(x),\(y)" }
}

/// An axis-aligned rectangle in normalised coordinates, used for spatial prefiltering.
struct BoundingRect: Sendable, Hashable {
  var minX: Double
  var minY: Double
  var maxX: Double
  var maxY: Double

  init(points: [Point]) {
    minX = .infinity
    minY = .infinity
    maxX = -.infinity
    maxY = -.infinity
    for p in points {
      minX = min(minX, p.x)
      maxX = max(maxX, p.x)
      minY = min(minY, p.y)
      maxY = max(maxY, p.y)
    }
  }

  func intersects(_ a: Point, _ b: Point) -> Bool {
    !(max(a.x, b.x) < minX || min(a.x, b.x) > maxX || max(a.y, b.y) < minY || min(a.y, b.y) > maxY)
  }
}

/// Plane geometry on normalised image coordinates: orientation, segment intersection, point in polygon,
/// and the time intervals a piecewise-linear path spends inside a polygon.
enum Geometry {
  /// Tolerance for "on the line" decisions, in normalised units (far below one pixel of any real frame).
  static let epsilon = 1e-12

  /// Twice the signed area of the triangle a, b, c. Positive when c lies to the right of a→b as seen on
  /// the image (y points down).
  static func orient(_ a: Point, _ b: Point, _ c: Point) -> Double {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
  }

  static func sign(_ value: Double) -> Int {
    value > epsilon ? 1 : (value < -epsilon ? -1 : 0)
  }

  /// True when p lies on the closed segment a–b.
  static func onSegment(_ p: Point, _ a: Point, _ b: Point) -> Bool {
    sign(orient(a, b, p)) == 0
      && p.x >= min(a.x, b.x) - epsilon && p.x <= max(a.x, b.x) + epsilon
      && p.y >= min(a.y, b.y) - epsilon && p.y <= max(a.y, b.y) + epsilon
  }

  /// True when the closed segments p1–p2 and q1–q2 share at least one point.
  static func segmentsIntersect(_ p1: Point, _ p2: Point, _ q1: Point, _ q2: Point) -> Bool {
    let d1 = sign(orient(q1, q2, p1))
    let d2 = sign(orient(q1, q2, p2))
    let d3 = sign(orient(p1, p2, q1))
    let d4 = sign(orient(p1, p2, q2))
    if d1 * d2 < 0 && d3 * d4 < 0 { return true }
    if d1 == 0 && onSegment(p1, q1, q2) { return true }
    if d2 == 0 && onSegment(p2, q1, q2) { return true }
    if d3 == 0 && onSegment(q1, p1, p2) { return true }
    if d4 == 0 && onSegment(q2, p1, p2) { return true }
    return false
  }

  /// Signed area of a polygon (shoelace formula).
  static func area(_ polygon: [Point]) -> Double {
    var sum = 0.0
    for i in polygon.indices {
      let a = polygon[i]
      let b = polygon[(i + 1) % polygon.count]
      sum += a.x * b.y - b.x * a.y
    }
    return sum / 2
  }

  /// True when two edges of the polygon share a point other than the corner joining neighbours,
  /// or when neighbouring edges fold back onto each other.
  static func isSelfIntersecting(_ polygon: [Point]) -> Bool {
    let n = polygon.count
    for i in 0..<n {
      let a1 = polygon[i]
      let a2 = polygon[(i + 1) % n]
      for j in (i + 1)..<n {
        let b1 = polygon[j]
        let b2 = polygon[(j + 1) % n]
        let adjacent = j == i + 1 || (i == 0 && j == n - 1)
        if adjacent {
          // Neighbours share one corner; they must not overlap along a line (a fold back).
          let shared = j == i + 1 ? a2 : a1
          let otherA = j == i + 1 ? a1 : a2
          let otherB = j == i + 1 ? b2 : b1
          if sign(orient(otherA, shared, otherB)) == 0 {
            let u = Point(x: otherA.x - shared.x, y: otherA.y - shared.y)
            let v = Point(x: otherB.x - shared.x, y: otherB.y - shared.y)
            if u.x * v.x + u.y * v.y > 0 { return true }
          }
          continue
        }
        if segmentsIntersect(a1, a2, b1, b2) { return true }
      }
    }
    return false
  }

  /// Point in a closed polygon: points on an edge or a corner count as inside.
  static func contains(_ polygon: [Point], _ p: Point) -> Bool {
    let n = polygon.count
    var inside = false
    var j = n - 1
    for i in 0..<n {
      let a = polygon[i]
      let b = polygon[j]
      if onSegment(p, a, b) { return true }
      if (a.y > p.y) != (b.y > p.y) {
        let xCross = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x)
        if p.x < xCross { inside.toggle() }
      }
      j = i
    }
    return inside
  }

  /// The parameters s in [0, 1] where the segment p0 + s (p1 − p0) meets the polygon's boundary.
  /// Where the segment runs along an edge, both ends of the shared part are returned.
  static func boundaryParameters(_ polygon: [Point], _ p0: Point, _ p1: Point) -> [Double] {
    var result: [Double] = []
    boundaryParameters(polygon, p0, p1, into: &result)
    return result
  }

  /// As ``boundaryParameters(_:_:_:)``, appending to `result`.
  static func boundaryParameters(_ polygon: [Point], _ p0: Point, _ p1: Point, into result: inout [Double]) {
    let dx = p1.x - p0.x
    let dy = p1.y - p0.y
    let lengthSquared = dx * dx + dy * dy
    let n = polygon.count
    for i in 0..<n {
      let a = polygon[i]
      let b = polygon[(i + 1) % n]
      let ex = b.x - a.x
      let ey = b.y - a.y
      let denominator = dx * ey - dy * ex
      let wx = a.x - p0.x
      let wy = a.y - p0.y
      if abs(denominator) > epsilon * max(1, lengthSquared) {
        let s = (wx * ey - wy * ex) / denominator
        let u = (wx * dy - wy * dx) / denominator
        if s >= -epsilon && s <= 1 + epsilon && u >= -epsilon && u <= 1 + epsilon {
          result.append(min(1, max(0, s)))
        }
      } else if sign(orient(a, b, p0)) == 0 && sign(orient(a, b, p1)) == 0 {
        // Collinear: the shared part, if any.
        let sa = (wx * dx + wy * dy) / lengthSquared
        let sb = ((b.x - p0.x) * dx + (b.y - p0.y) * dy) / lengthSquared
        let low = max(0, min(sa, sb))
        let high = min(1, max(sa, sb))
        if low <= high + epsilon {
          result.append(low)
          result.append(min(1, max(low, high)))
        }
      }
    }
  }
}

/// A closed time interval [start, end], in seconds from the exhibit's first frame.
struct InsideInterval: Sendable, Hashable {
  var start: Double
  var end: Double
}

/// A sample of a path reduced to what zone rules need: time and ground position (bottom-centre of the box),
/// both normalised by the frame size.
struct PathPoint: Sendable, Hashable {
  var time: Double
  var position: Point
}

extension Geometry {
  /// The closed time intervals during which the path, interpolated linearly between its samples, is inside
  /// the closed polygon. Intervals are sorted, disjoint and do not touch; a path that only touches the
  /// boundary yields zero-length intervals.
  static func insideIntervals(_ path: [PathPoint], polygon: [Point], grid: ZoneGrid? = nil) -> [InsideInterval] {
    var intervals: [InsideInterval] = []
    InsideScan.run(path, polygon: polygon, grid: grid, reverse: false) { start, end in
      if let last = intervals.last, start <= last.end + 1e-9 {
        intervals[intervals.count - 1].end = max(last.end, end)
      } else {
        intervals.append(InsideInterval(start: start, end: end))
      }
      return true
    }
    return intervals
  }

  /// The first instant the path is inside the polygon (or, with `last`, the last one), without computing
  /// the rest of the path.
  static func firstInside(_ path: [PathPoint], polygon: [Point], grid: ZoneGrid? = nil, last: Bool = false) -> Double? {
    var found: Double?
    InsideScan.run(path, polygon: polygon, grid: grid, reverse: last) { start, end in
      found = last ? end : start
      return false
    }
    return found
  }

  /// The first (or last) entry into the polygon: the start of an inside interval after the path's first
  /// instant. Scans only as far as needed from the chosen end.
  static func entry(_ path: [PathPoint], polygon: [Point], grid: ZoneGrid?, last: Bool) -> Double? {
    guard let t0 = path.first?.time else { return nil }
    var found: Double?
    if !last {
      var lastEnd: Double?
      InsideScan.run(path, polygon: polygon, grid: grid, reverse: false) { start, end in
        if let previous = lastEnd, start <= previous + 1e-9 {
          lastEnd = max(previous, end)
          return true
        }
        if start > t0 + 1e-9 {
          found = start
          return false
        }
        lastEnd = end
        return true
      }
      return found
    }
    // Backwards: an interval's start is known once a gap precedes it, or at the path's beginning.
    var currentStart: Double?
    InsideScan.run(path, polygon: polygon, grid: grid, reverse: true) { start, end in
      if let current = currentStart, end < current - 1e-9 {
        found = current
        return false
      }
      currentStart = min(currentStart ?? start, start)
      return true
    }
    if found == nil, let current = currentStart, current > t0 + 1e-9 { found = current }
    return found
  }

  /// The first (or last) exit from the polygon: the end of an inside interval before the path's last instant.
  static func exit(_ path: [PathPoint], polygon: [Point], grid: ZoneGrid?, last: Bool) -> Double? {
    guard let t1 = path.last?.time else { return nil }
    var found: Double?
    if last {
      var currentStart: Double?
      var first = true
      InsideScan.run(path, polygon: polygon, grid: grid, reverse: true) { start, end in
        if first {
          first = false
          if end < t1 - 1e-9 {
            found = end
            return false
          }
          currentStart = start
          return true
        }
        if let current = currentStart, end < current - 1e-9 {
          found = end
          return false
        }
        currentStart = min(currentStart ?? start, start)
        return true
      }
      return found
    }
    var intervalEnd: Double?
    InsideScan.run(path, polygon: polygon, grid: grid, reverse: false) { start, end in
      if let previous = intervalEnd, start > previous + 1e-9 {
        found = previous
        return false
      }
      intervalEnd = max(intervalEnd ?? end, end)
      return true
    }
    if found == nil, let end = intervalEnd, end < t1 - 1e-9 { found = end }
    return found
  }

  /// The instants at which the interpolated path crosses the segment a→b, with the crossing's sense:
  /// `+1` from the left of a→b to its right (as seen on the image), `-1` the other way. Touching the line
  /// and turning back is not a crossing.
  static func crossings(_ path: [PathPoint], a: Point, b: Point, grid: ZoneGrid? = nil) -> [(time: Double, sense: Int)]
  {
    var result: [(time: Double, sense: Int)] = []
    let dx = b.x - a.x
    let dy = b.y - a.y
    let lengthSquared = dx * dx + dy * dy
    func along(_ p: Point) -> Double { ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared }
    let box = BoundingRect(points: [a, b])
    var lastSide = 0
    var lastIndex = -1
    for (index, sample) in path.enumerated() {
      let side = sign(orient(a, b, sample.position))
      if side == 0 { continue }
      defer {
        lastSide = side
        lastIndex = index
      }
      guard lastSide != 0, side != lastSide else { continue }
      let previous = path[lastIndex]
      if lastIndex == index - 1 {
        if !box.intersects(previous.position, sample.position) { continue }
        if let grid, grid.classify(previous.position, sample.position) == .outside { continue }
        let o0 = orient(a, b, previous.position)
        let o1 = orient(a, b, sample.position)
        let s = o0 / (o0 - o1)
        let q = Point(
          x: previous.position.x + s * (sample.position.x - previous.position.x),
          y: previous.position.y + s * (sample.position.y - previous.position.y))
        let u = along(q)
        if u >= -1e-9 && u <= 1 + 1e-9 {
          result.append((previous.time + s * (sample.time - previous.time), side > 0 ? 1 : -1))
        }
      } else {
        // The path ran along the line between the two sides: it crossed through the segment if that
        // stretch overlaps it; the crossing instant is when the path reached the line.
        let onLine = path[(lastIndex + 1)..<index].map { along($0.position) }
        if let low = onLine.min(), let high = onLine.max(), low <= 1 + 1e-9, high >= -1e-9 {
          result.append((path[lastIndex + 1].time, side > 0 ? 1 : -1))
        }
      }
    }
    return result
  }
}

/// A 32×32 classification of the image's cells against a zone: cells wholly inside a polygon, cells that do
/// not meet the shape, and cells its boundary passes through. A path segment whose bounding box lies in cells
/// of one of the first two kinds is decided without geometry; others get the exact computation. The answer
/// is the same either way; the grid only saves work.
struct ZoneGrid: Sendable {
  enum State: UInt8 {
    case outside, inside, boundary
  }

  static let size = 32
  private(set) var states: [State]

  init(_ shape: ZoneShape) {
    let n = Self.size
    states = Array(repeating: .outside, count: n * n)
    let polygon: [Point]? = if case .polygon(let points) = shape { points } else { nil }
    for row in 0..<n {
      for column in 0..<n {
        let rect = Self.rect(row: row, column: column, cells: n)
        if Self.boundaryMeets(shape, rect) {
          states[row * n + column] = .boundary
        } else if let polygon, Geometry.contains(polygon, Point(x: rect.minX, y: rect.minY)) {
          // The boundary does not enter the cell, so the cell is wholly on the side of its corner.
          states[row * n + column] = .inside
        }
      }
    }
  }

  /// The closed square of a grid cell, widened by a hair so that a boundary on its edge counts as meeting it.
  static func rect(row: Int, column: Int, cells n: Int) -> BoundingRect {
    let e = 1e-9
    var rect = BoundingRect(points: [])
    rect.minX = Double(column) / Double(n) - e
    rect.maxX = Double(column + 1) / Double(n) + e
    rect.minY = Double(row) / Double(n) - e
    rect.maxY = Double(row + 1) / Double(n) + e
    return rect
  }

  /// True when the shape's outline (a polygon's edges, or the line) has a point in the rectangle.
  static func boundaryMeets(_ shape: ZoneShape, _ r: BoundingRect) -> Bool {
    let points = shape.points
    let corners = (
      Point(x: r.minX, y: r.minY), Point(x: r.maxX, y: r.minY), Point(x: r.maxX, y: r.maxY), Point(x: r.minX, y: r.maxY)
    )
    let edgeCount = points.count == 2 ? 1 : points.count
    for i in 0..<edgeCount {
      let a = points[i]
      let b = points[(i + 1) % points.count]
      if a.x >= r.minX && a.x <= r.maxX && a.y >= r.minY && a.y <= r.maxY { return true }
      if !r.intersects(a, b) { continue }
      if Geometry.segmentsIntersect(a, b, corners.0, corners.1)
        || Geometry.segmentsIntersect(a, b, corners.1, corners.2)
        || Geometry.segmentsIntersect(a, b, corners.2, corners.3)
        || Geometry.segmentsIntersect(a, b, corners.3, corners.0)
      {
        return true
      }
    }
    return false
  }

  /// How the segment a–b relates to the zone, judged on the cells of its bounding box.
  func classify(_ a: Point, _ b: Point) -> State {
    states.withUnsafeBufferPointer { Self.classify($0, a, b) }
  }

  /// How the segment a–b relates to the zone, judged on the cells of its bounding box, given the states.
  @inline(__always)
  static func classify(_ states: UnsafeBufferPointer<State>, _ a: Point, _ b: Point) -> State {
    // Positions outside the image (a box overhanging the frame) are decided exactly.
    guard a.x >= 0, a.x <= 1, a.y >= 0, a.y <= 1, b.x >= 0, b.x <= 1, b.y >= 0, b.y <= 1 else { return .boundary }
    let scale = Double(size)
    let c0 = min(size - 1, Int(min(a.x, b.x) * scale))
    let c1 = min(size - 1, Int(max(a.x, b.x) * scale))
    let r0 = min(size - 1, Int(min(a.y, b.y) * scale))
    let r1 = min(size - 1, Int(max(a.y, b.y) * scale))
    let first = states[r0 * size + c0]
    if first == .boundary || (c0 == c1 && r0 == r1) { return first }
    for row in r0...r1 {
      for column in c0...c1 where states[row * size + column] != first { return .boundary }
    }
    return first
  }
}

/// The per-segment work of the inside computations: for each segment of the path (in time order, or reversed),
/// the closed sub-intervals of time it spends inside the polygon, in that order within the segment.
enum InsideScan {
  /// Calls `emit(start, end)` for each inside piece; stops when `emit` returns false.
  static func run(
    _ path: [PathPoint], polygon: [Point], grid: ZoneGrid?, reverse: Bool, emit: (Double, Double) -> Bool
  ) {
    guard let first = path.first else { return }
    if path.count == 1 {
      if Geometry.contains(polygon, first.position) { _ = emit(first.time, first.time) }
      return
    }
    let box = BoundingRect(points: polygon)
    let states = grid?.states ?? []
    states.withUnsafeBufferPointer { states in
      path.withUnsafeBufferPointer { path in
        let n = path.count - 1
        var pieces: [(Double, Double)] = []
        var scratch = Scratch()
        for step in 0..<n {
          let k = reverse ? n - 1 - step : step
          let a = path[k]
          let b = path[k + 1]
          // Far from the polygon: outside throughout.
          if b.position.x < box.minX && a.position.x < box.minX || b.position.x > box.maxX && a.position.x > box.maxX
            || b.position.y < box.minY && a.position.y < box.minY || b.position.y > box.maxY && a.position.y > box.maxY
          {
            continue
          }
          if !states.isEmpty {
            switch ZoneGrid.classify(states, a.position, b.position) {
            case .outside: continue
            case .inside:
              if !emit(a.time, b.time) { return }
              continue
            case .boundary: break
            }
          }
          pieces.removeAll(keepingCapacity: true)
          exact(a, b, polygon, scratch: &scratch) { pieces.append(($0, $1)) }
          if reverse { pieces.reverse() }
          for piece in pieces where !emit(piece.0, piece.1) { return }
        }
      }
    }
  }

  /// Buffers reused from one segment to the next.
  struct Scratch {
    var crossings: [Double] = []
    var breaks: [(s: Double, onBoundary: Bool)] = []
  }

  /// The inside pieces of one segment, by exact geometry, in time order.
  static func exact(
    _ a: PathPoint, _ b: PathPoint, _ polygon: [Point], scratch: inout Scratch, emit: (Double, Double) -> Void
  ) {
    let duration = b.time - a.time
    if a.position == b.position {
      if Geometry.contains(polygon, a.position) { emit(a.time, b.time) }
      return
    }
    // Break the segment where it meets the boundary; each piece is wholly inside or wholly outside,
    // and the break points themselves lie on the (closed) boundary.
    scratch.crossings.removeAll(keepingCapacity: true)
    Geometry.boundaryParameters(polygon, a.position, b.position, into: &scratch.crossings)
    if scratch.crossings.count > 1 { scratch.crossings.sort() }
    scratch.breaks.removeAll(keepingCapacity: true)
    scratch.breaks.append((0, false))
    for s in scratch.crossings {
      if s > scratch.breaks[scratch.breaks.count - 1].s + Geometry.epsilon {
        scratch.breaks.append((s, true))
      } else {
        scratch.breaks[scratch.breaks.count - 1].onBoundary = true
      }
    }
    if scratch.breaks[scratch.breaks.count - 1].s < 1 - Geometry.epsilon { scratch.breaks.append((1, false)) }
    let breaks = scratch.breaks
    func point(_ s: Double) -> Point {
      Point(x: a.position.x + s * (b.position.x - a.position.x), y: a.position.y + s * (b.position.y - a.position.y))
    }
    for index in breaks.indices {
      let s = breaks[index].s
      if breaks[index].onBoundary || Geometry.contains(polygon, point(s)) {
        emit(a.time + s * duration, a.time + s * duration)
      }
      if index + 1 < breaks.count {
        let next = breaks[index + 1].s
        if Geometry.contains(polygon, point((s + next) / 2)) { emit(a.time + s * duration, a.time + next * duration) }
      }
    }
  }
}
