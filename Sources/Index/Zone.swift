/// The shape of a zone drawn on one camera's image, in normalised coordinates (0…1, x right, y down).
public enum ZoneShape: Sendable, Hashable, Codable {
  /// A simple polygon (at least 3 corners, not crossing itself, non-zero area), closed: its edges belong to it.
  case polygon([Point])
  /// A line segment from `a` to `b`; its direction defines its left and right sides.
  case line(Point, Point)

  /// Checks the shape: finite coordinates in 0…1; a polygon with ≥ 3 corners, no self-intersection and a
  /// non-zero area; a line of non-zero length.
  /// - Throws: ``QueryError`` naming the defect.
  public func validate() throws {
    switch self {
    case .polygon(let points):
      guard points.count >= 3 else {
        throw QueryError.wrongPointCount(shape: "polygon", count: points.count, expected: "at least 3")
      }
      guard points.count <= ZoneShape.maximumCorners else {
        throw QueryError.wrongPointCount(
          shape: "polygon", count: points.count, expected: "at most \(ZoneShape.maximumCorners)")
      }
      try points.forEach(Self.check)
      for i in points.indices where points[i] == points[(i + 1) % points.count] {
        throw QueryError.degenerateShape("the polygon repeats the point \(points[i])")
      }
      if points.allSatisfy({ Geometry.sign(Geometry.orient(points[0], points[1], $0)) == 0 }) {
        throw QueryError.degenerateShape("the polygon has no area")
      }
      if Geometry.isSelfIntersecting(points) { throw QueryError.selfIntersecting }
      if abs(Geometry.area(points)) < 1e-9 { throw QueryError.degenerateShape("the polygon has no area") }
    case .line(let a, let b):
      try Self.check(a)
      try Self.check(b)
      if a == b { throw QueryError.degenerateShape("the line's two ends are the same point") }
    }
  }

  /// The largest number of polygon corners accepted (bounds the work done on untrusted input).
  public static let maximumCorners = 256

  static func check(_ p: Point) throws {
    for value in [p.x, p.y] {
      guard value.isFinite else { throw QueryError.notFinite("\(value)") }
      guard (0...1).contains(value) else { throw QueryError.coordinateOutOfRange(value) }
    }
  }

  var points: [Point] {
    switch self {
    case .polygon(let points): return points
    case .line(let a, let b): return [a, b]
    }
  }

  var bounds: BoundingRect { BoundingRect(points: points) }
}

/// A zone of one camera: drawn at search time, or saved under a name and reused as `@name`.
public struct Zone: Sendable, Hashable, Codable {
  /// The camera whose image the coordinates refer to.
  public var camera: String
  /// The polygon or line.
  public var shape: ZoneShape
  /// The saved name, when the zone was saved or loaded by name.
  public var name: String?

  public init(camera: String, shape: ZoneShape, name: String? = nil) {
    self.camera = camera
    self.shape = shape
    self.name = name
  }
}

/// Which way a crossing of a line A→B must go. Left and right are as seen on the image when looking
/// from A towards B (with y pointing down, the right of a line drawn left-to-right is below it).
public enum CrossingDirection: String, Sendable, Hashable, Codable, CaseIterable {
  case leftToRight = "left-to-right"
  case rightToLeft = "right-to-left"
  case either
}

/// A rule that a track's path must satisfy with respect to a zone.
///
/// Paths are the stored samples of the track's ground position (bottom-centre of its box, normalised by
/// the frame size), joined by straight lines: the rules see what happens between samples too. Paths stored
/// denser than 5 samples a second (every frame, for exports) are thinned to one sample per 0.2 s, keeping
/// the first and the last. A zone polygon is closed: a position on an edge is inside.
///
/// - ``enters``: the track is outside, then inside. A track whose first position is inside has not
///   entered, unless it leaves and comes back. Reported: the first and the last entry instants.
/// - ``exits``: the track is inside, then outside. A track whose last position is inside has not exited
///   at its end. Reported: the first and the last exit instants.
/// - ``inside``: inside at some moment (touching the edge counts). Reported: the first and last instants
///   inside.
/// - ``dwell(seconds:)``: continuously inside for at least that long; a stay interrupted by an exit starts
///   again from zero. Reported: the start of the first long-enough stay and the end of the last one.
/// - ``crosses(_:)``: the path goes from one side of the line segment to the other through the segment
///   (touching it and turning back is not a crossing). Reported: the first and last crossing instants in
///   the requested direction.
/// - ``from(_:)``: inside the given zone, and afterwards arriving in the search zone (a stay in the search
///   zone that begins after the first instant in the given zone). Reported: the first instant in the
///   given zone and the end of the last such stay in the search zone.
public enum ZoneRule: Sendable, Hashable, Codable {
  case enters
  case exits
  case inside
  case dwell(seconds: Double)
  case crosses(CrossingDirection)
  case from(Zone)

  /// The rule's name as written in queries.
  public var name: String {
    switch self {
    case .enters: return "enters"
    case .exits: return "exits"
    case .inside: return "inside"
    case .dwell: return "dwell"
    case .crosses: return "crosses"
    case .from: return "from"
    }
  }
}

/// A zone and the rule tracks must satisfy in it.
public struct ZoneQuery: Sendable, Hashable, Codable {
  public var zone: Zone
  public var rule: ZoneRule

  public init(zone: Zone, rule: ZoneRule) {
    self.zone = zone
    self.rule = rule
  }

  /// Checks the shapes and that the rule fits the shape.
  /// - Throws: ``QueryError``.
  public func validate() throws {
    try zone.shape.validate()
    switch (rule, zone.shape) {
    case (.crosses, .line): break
    case (.crosses, .polygon): throw QueryError.ruleShapeMismatch(rule: "crosses", needs: "a line of two points")
    case (_, .line): throw QueryError.ruleShapeMismatch(rule: rule.name, needs: "a polygon of at least 3 points")
    case (.dwell(let seconds), .polygon):
      guard seconds.isFinite, seconds >= 0 else {
        throw QueryError.invalidNumber(what: "dwell duration", value: "\(seconds)")
      }
    case (.from(let origin), .polygon):
      guard case .polygon = origin.shape else {
        throw QueryError.ruleShapeMismatch(rule: "from", needs: "an origin zone that is a polygon")
      }
      try origin.shape.validate()
      guard origin.camera == zone.camera else {
        throw QueryError.invalidRule(
          "from", reason: "the origin zone is on camera \"\(origin.camera)\", the search zone on \"\(zone.camera)\"")
      }
    default: break
    }
  }

  /// Evaluates the rule on a path.
  /// - Returns: the first and last instants the rule held (seconds from the exhibit's first frame),
  ///   or nil when it never held.
  func evaluate(_ path: [PathPoint], grids: ZoneGrids? = nil, scanFromEnds: Bool = true) -> (
    first: Double, last: Double
  )? {
    switch (rule, zone.shape) {
    case (.crosses(let direction), .line(let a, let b)):
      let times = Geometry.crossings(path, a: a, b: b, grid: grids?.zone).filter {
        switch direction {
        case .either: return true
        case .leftToRight: return $0.sense > 0
        case .rightToLeft: return $0.sense < 0
        }
      }.map(\.time)
      guard let first = times.first, let last = times.last else { return nil }
      return (first, last)
    case (.enters, .polygon(let polygon)) where scanFromEnds:
      guard let first = Geometry.entry(path, polygon: polygon, grid: grids?.zone, last: false),
        let last = Geometry.entry(path, polygon: polygon, grid: grids?.zone, last: true)
      else { return nil }
      return (first, last)
    case (.exits, .polygon(let polygon)) where scanFromEnds:
      guard let first = Geometry.exit(path, polygon: polygon, grid: grids?.zone, last: false),
        let last = Geometry.exit(path, polygon: polygon, grid: grids?.zone, last: true)
      else { return nil }
      return (first, last)
    case (.inside, .polygon(let polygon)) where scanFromEnds:
      // Only the first and the last instants inside are needed: scan from each end.
      guard let first = Geometry.firstInside(path, polygon: polygon, grid: grids?.zone),
        let last = Geometry.firstInside(path, polygon: polygon, grid: grids?.zone, last: true)
      else { return nil }
      return (first, last)
    case (.from(let origin), .polygon) where scanFromEnds:
      // Not in the origin zone at all: nothing else to compute.
      guard case .polygon(let originPolygon) = origin.shape,
        Geometry.firstInside(path, polygon: originPolygon, grid: grids?.origin) != nil
      else { return nil }
      return evaluate(path, grids: grids, scanFromEnds: false)
    case (_, .polygon(let polygon)):
      let intervals = Geometry.insideIntervals(path, polygon: polygon, grid: grids?.zone)
      guard let start = path.first?.time, let end = path.last?.time else { return nil }
      switch rule {
      case .inside:
        guard let first = intervals.first, let last = intervals.last else { return nil }
        return (first.start, last.end)
      case .enters:
        let entries = intervals.map(\.start).filter { $0 > start + 1e-9 }
        guard let first = entries.first, let last = entries.last else { return nil }
        return (first, last)
      case .exits:
        let exits = intervals.map(\.end).filter { $0 < end - 1e-9 }
        guard let first = exits.first, let last = exits.last else { return nil }
        return (first, last)
      case .dwell(let seconds):
        let stays = intervals.filter { $0.end - $0.start >= seconds - 1e-9 }
        guard let first = stays.first, let last = stays.last else { return nil }
        return (first.start, last.end)
      case .from(let origin):
        guard case .polygon(let originPolygon) = origin.shape,
          let firstInOrigin = Geometry.firstInside(path, polygon: originPolygon, grid: grids?.origin)
        else { return nil }
        guard let last = intervals.last(where: { $0.start > firstInOrigin + 1e-9 }) else { return nil }
        return (firstInOrigin, last.end)
      case .crosses: return nil
      }
    default:
      return nil
    }
  }
}

/// The classification grids of a zone query's shapes, built once per search.
struct ZoneGrids: Sendable {
  var zone: ZoneGrid
  var origin: ZoneGrid?

  init(_ query: ZoneQuery) {
    zone = ZoneGrid(query.zone.shape)
    if case .from(let origin) = query.rule { self.origin = ZoneGrid(origin.shape) }
  }
}

/// A saved zone's shape as stored (sealed) in `zone.shape`.
struct StoredZoneShape: Codable {
  var kind: String
  var points: [Point]
}
