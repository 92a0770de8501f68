import Foundation

/// A search over the tracks of a procedure. Every filter is optional; filters of different kinds combine with
/// AND, the values within one kind with OR (an empty set means "any").
///
/// Results are ordered by start time, then track id; ``limit`` and ``offset`` page through them and the
/// result carries the total number of hits.
public struct TrackQuery: Sendable, Hashable {
  /// Any of these classes.
  public var classes: Set<ObjectClass> = []
  /// A track matches when one of these colours covers at least ``minColourFraction`` of it.
  public var colours: Set<Colour> = []
  /// Default 0.2.
  public var minColourFraction: Double = 0.2
  /// Any of these directions.
  public var directions: Set<Direction> = []
  /// Any of these camera names; an unknown name is an error (a typo must not look like "nothing seen").
  public var cameras: Set<String> = []
  /// Any of these exhibit ids (`E1`…); an unknown id is an error.
  public var exhibits: Set<String> = []
  /// Wall-clock range [from, to): a track matches when its span [start, end] overlaps it.
  public var from: Date?
  public var to: Date?
  /// Seconds from the first to the last observation, at least.
  public var minDuration: Double?
  /// Mean speed in image widths per second, inclusive bounds.
  public var minSpeed: Double?
  public var maxSpeed: Double?
  /// Largest box area as a fraction of the frame, at least.
  public var minSize: Double?
  /// A zone and a rule; restricts the search to the zone's camera.
  public var zone: ZoneQuery?
  /// Page size (0…10,000; default 100) and number of hits skipped.
  public var limit: Int = 100
  public var offset: Int = 0

  public init(
    classes: Set<ObjectClass> = [], colours: Set<Colour> = [], minColourFraction: Double = 0.2,
    directions: Set<Direction> = [], cameras: Set<String> = [], exhibits: Set<String> = [], from: Date? = nil,
    to: Date? = nil, minDuration: Double? = nil, minSpeed: Double? = nil, maxSpeed: Double? = nil,
    minSize: Double? = nil, zone: ZoneQuery? = nil, limit: Int = 100, offset: Int = 0
  ) {
    self.classes = classes
    self.colours = colours
    self.minColourFraction = minColourFraction
    self.directions = directions
    self.cameras = cameras
    self.exhibits = exhibits
    self.from = from
    self.to = to
    self.minDuration = minDuration
    self.minSpeed = minSpeed
    self.maxSpeed = maxSpeed
    self.minSize = minSize
    self.zone = zone
    self.limit = limit
    self.offset = offset
  }

  /// The largest page.
  public static let maximumLimit = 10_000
  /// The largest offset (far beyond any index, small enough that offset + limit cannot overflow).
  public static let maximumOffset = 1_000_000_000_000

  /// Checks every value. - Throws: ``QueryError`` naming the first bad one.
  public func validate() throws {
    guard minColourFraction.isFinite, (0...1).contains(minColourFraction) else {
      throw QueryError.invalidNumber(what: "minimum colour fraction (0..1)", value: "\(minColourFraction)")
    }
    if let from, let to, !(from < to) {
      throw QueryError.emptyTimeRange(
        from: WallClockTime(date: from, utcOffsetSeconds: 0).iso8601(),
        to: WallClockTime(date: to, utcOffsetSeconds: 0).iso8601())
    }
    for date in [from, to].compactMap({ $0 }) where !date.timeIntervalSince1970.isFinite {
      throw QueryError.invalidTime("\(date)", reason: "not a finite time")
    }
    if let minDuration, !(minDuration.isFinite && minDuration >= 0) {
      throw QueryError.invalidNumber(what: "minimum duration", value: "\(minDuration)")
    }
    for speed in [minSpeed, maxSpeed].compactMap({ $0 }) where !(speed.isFinite && speed >= 0) {
      throw QueryError.invalidNumber(what: "speed", value: "\(speed)")
    }
    if let minSpeed, let maxSpeed, minSpeed > maxSpeed {
      throw QueryError.invalidNumber(what: "speed range (minimum above maximum)", value: "\(minSpeed)..\(maxSpeed)")
    }
    if let minSize, !(minSize.isFinite && (0...1).contains(minSize)) {
      throw QueryError.invalidNumber(what: "minimum size (a fraction of the frame, 0..1)", value: "\(minSize)")
    }
    guard (0...Self.maximumLimit).contains(limit) else {
      throw QueryError.invalidPaging("limit must be 0 to \(Self.maximumLimit), got \(limit)")
    }
    guard (0...Self.maximumOffset).contains(offset) else {
      throw QueryError.invalidPaging("offset must be 0 to \(Self.maximumOffset), got \(offset)")
    }
    for exhibit in exhibits where Identifier.row(of: exhibit, prefix: "E") == nil {
      throw QueryError.invalidIdentifier(exhibit)
    }
    try zone?.validate()
  }
}
