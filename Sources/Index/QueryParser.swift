import Foundation

/// Turns untrusted text (command-line arguments, scripts) into query values, with precise errors.
///
/// Vocabulary words are matched case-insensitively, with `_` or a space accepted for `-`. Accepted
/// spellings besides the canonical names (DESIGN.md §5):
/// - classes: plurals (`persons`, `people`, `cars`…), `pedestrian` → person; `bicycle`, `bike`, `cycle`,
///   `motorbike`, `motorcycle`, `scooter`, `moped` → two-wheeler; `bus`, `truck`, `lorry`, `van` → bus-truck.
/// - colours: `gray` → grey, `violet` → purple, `tan` → brown; the word `color` is never needed.
/// - directions: `still`, `static`, `stopped`, `none` → stationary; `upright`, `up/right`… → up-right.
///
/// Refused: biometric or person-attribute terms (face, gender, age, skin, hair, beard, ethnicity, height, gait,
/// "similar appearance"…) are refused with ``QueryError/refusedBiometricTerm(_:)``: lrj has no biometric
/// capability by design (DESIGN.md L7).
public enum QueryParser {
  // MARK: Vocabulary

  /// Parses a class name. - Throws: ``QueryError``.
  public static func objectClass(_ text: String) throws -> ObjectClass {
    try vocabulary(text, kind: "class", synonyms: classSynonyms, valid: ObjectClass.allCases.map(\.rawValue))
      .flatMap(ObjectClass.init(rawValue:))!
  }

  /// Parses a colour name. - Throws: ``QueryError``.
  public static func colour(_ text: String) throws -> Colour {
    try vocabulary(text, kind: "colour", synonyms: colourSynonyms, valid: Colour.allCases.map(\.rawValue))
      .flatMap(Colour.init(rawValue:))!
  }

  /// Parses a direction name. - Throws: ``QueryError``.
  public static func direction(_ text: String) throws -> Direction {
    try vocabulary(text, kind: "direction", synonyms: directionSynonyms, valid: Direction.allCases.map(\.rawValue))
      .flatMap(Direction.init(rawValue:))!
  }

  /// Parses a comma-separated list of classes, e.g. `car,bus-truck`. - Throws: ``QueryError``.
  public static func objectClasses(_ text: String) throws -> Set<ObjectClass> { Set(try list(text).map(objectClass)) }
  /// Parses a comma-separated list of colours. - Throws: ``QueryError``.
  public static func colours(_ text: String) throws -> Set<Colour> { Set(try list(text).map(colour)) }
  /// Parses a comma-separated list of directions. - Throws: ``QueryError``.
  public static func directions(_ text: String) throws -> Set<Direction> { Set(try list(text).map(direction)) }

  /// Refuses (rejects) a biometric or person-attribute term; use it on any free-text attribute first.
  /// - Throws: ``QueryError/refusedBiometricTerm(_:)`` when the text names one.
  public static func rejectBiometric(_ text: String) throws {
    let normalised = normalise(text)
    if refusedBiometricPhrases.contains(where: { normalised.contains($0) }) { throw QueryError.refusedBiometricTerm(text) }
    let words = normalised.split(whereSeparator: { !$0.isLetter }).map(String.init)
    if words.contains(where: refusedBiometricWords.contains) { throw QueryError.refusedBiometricTerm(text) }
  }

  // MARK: Shapes and rules

  /// Parses a point `x,y` (two finite numbers in 0…1). - Throws: ``QueryError``.
  public static func point(_ text: String) throws -> Point {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 2 else { throw QueryError.malformedPoint(text) }
    var values: [Double] = []
    for part in parts {
      let token = part.trimmingCharacters(in: .whitespaces)
      guard !token.isEmpty, token.count <= 32, let value = Double(token) else { throw QueryError.malformedPoint(text) }
      guard value.isFinite else { throw QueryError.notFinite(token) }
      guard (0...1).contains(value) else { throw QueryError.coordinateOutOfRange(value) }
      values.append(value)
    }
    return Point(x: values[0], y: values[1])
  }

  /// Parses a polygon `"x,y x,y x,y …"`: at least 3 corners, in order around the outline, not crossing
  /// itself, with a non-zero area. Repeating the first corner at the end is allowed. - Throws: ``QueryError``.
  public static func polygon(_ text: String) throws -> [Point] {
    var points = try points(text)
    if points.count > 3, points.first == points.last { points.removeLast() }
    let shape = ZoneShape.polygon(points)
    try shape.validate()
    return points
  }

  /// Parses a line segment `"x,y x,y"` (from A to B). - Throws: ``QueryError``.
  public static func line(_ text: String) throws -> (Point, Point) {
    let points = try points(text)
    guard points.count == 2 else { throw QueryError.wrongPointCount(shape: "line", count: points.count, expected: "2") }
    try ZoneShape.line(points[0], points[1]).validate()
    return (points[0], points[1])
  }

  /// Parses a zone for a camera: `@name` (a zone saved for that camera, looked up with `lookup`), two points
  /// (a line) or three or more points (a polygon). - Throws: ``QueryError``.
  public static func zone(
    _ text: String, camera: String, lookup: (_ name: String, _ camera: String) throws -> Zone?
  ) throws -> Zone {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasPrefix("@") {
      let name = String(trimmed.dropFirst())
      guard let zone = try lookup(name, camera) else { throw QueryError.unknownZone(name: name, camera: camera) }
      return zone
    }
    let points = try points(trimmed)
    if points.count == 2 {
      let (a, b) = try line(trimmed)
      return Zone(camera: camera, shape: .line(a, b))
    }
    return Zone(camera: camera, shape: .polygon(try polygon(trimmed)))
  }

  /// Parses a zone rule:
  /// - `enters`, `exits`, `inside`
  /// - `dwell:SECONDS` (for example `dwell:5` or `dwell:2.5`)
  /// - `crosses` (either way), `crosses:left-to-right`, `crosses:right-to-left` (sides as seen from A towards B)
  /// - `from:@NAME` (a saved zone of the same camera) or `from:x,y x,y x,y` (a polygon)
  /// - Throws: ``QueryError``.
  public static func zoneRule(
    _ text: String, camera: String, lookup: (_ name: String, _ camera: String) throws -> Zone?
  ) throws -> ZoneRule {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let (head, argument): (String, String?) =
      if let colon = trimmed.firstIndex(of: ":") {
        (String(trimmed[..<colon]).lowercased(), String(trimmed[trimmed.index(after: colon)...]))
      } else { (trimmed.lowercased(), nil) }
    let rules = "enters, exits, inside, dwell:SECONDS, crosses[:left-to-right|:right-to-left], from:@ZONE"
    switch (head, argument) {
    case ("enters", nil), ("enter", nil): return .enters
    case ("exits", nil), ("exit", nil), ("leaves", nil): return .exits
    case ("inside", nil), ("in", nil): return .inside
    case ("dwell", let value?), ("dwells", let value?):
      guard let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0,
        seconds <= 86400 * 366
      else { throw QueryError.invalidRule(text, reason: "dwell needs a number of seconds ≥ 0, e.g. dwell:5") }
      return .dwell(seconds: seconds)
    case ("crosses", nil), ("cross", nil): return .crosses(.either)
    case ("crosses", let value?), ("cross", let value?):
      let word = normalise(value)
      guard let direction = CrossingDirection(rawValue: word) else {
        throw QueryError.invalidRule(text, reason: "the side is left-to-right, right-to-left or either")
      }
      return .crosses(direction)
    case ("from", let value?):
      let origin = try zone(value, camera: camera, lookup: lookup)
      guard case .polygon = origin.shape else {
        throw QueryError.ruleShapeMismatch(rule: "from", needs: "an origin zone that is a polygon")
      }
      return .from(origin)
    case ("dwell", nil), ("dwells", nil), ("from", nil):
      throw QueryError.invalidRule(text, reason: "\(head) needs an argument after ':'")
    default:
      try rejectBiometric(text)
      throw QueryError.invalidRule(text, reason: "valid rules: \(rules)")
    }
  }

  // MARK: Times and numbers

  /// Parses an ISO 8601 time with its UTC offset. - Throws: ``QueryError/invalidTime(_:reason:)``.
  public static func time(_ text: String) throws -> WallClockTime {
    try WallClockTime.parse(text.trimmingCharacters(in: .whitespaces))
  }

  /// Parses a `[from, to)` pair of optional times and checks that from is before to. - Throws: ``QueryError``.
  public static func timeRange(from: String?, to: String?) throws -> (from: WallClockTime?, to: WallClockTime?) {
    let start = try from.map(time)
    let end = try to.map(time)
    if let start, let end, !(start.date < end.date) {
      throw QueryError.emptyTimeRange(from: start.iso8601(), to: end.iso8601())
    }
    return (start, end)
  }

  /// Parses a non-negative finite number of seconds. - Throws: ``QueryError/invalidNumber(what:value:)``.
  public static func seconds(_ text: String, what: String = "duration") throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
      throw QueryError.invalidNumber(what: what, value: text)
    }
    return value
  }

  /// Parses a fraction in 0…1 (a colour fraction, a box area). - Throws: ``QueryError/invalidNumber(what:value:)``.
  public static func fraction(_ text: String, what: String = "fraction") throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, (0...1).contains(value) else {
      throw QueryError.invalidNumber(what: "\(what) (a number in 0..1)", value: text)
    }
    return value
  }

  /// Parses a track id `T17`. - Throws: ``QueryError/invalidIdentifier(_:)``.
  public static func trackID(_ text: String) throws -> String {
    guard let row = Identifier.row(of: text.trimmingCharacters(in: .whitespaces), prefix: "T") else {
      throw QueryError.invalidIdentifier(text)
    }
    return Identifier.track(row)
  }

  /// Parses an exhibit id `E1`. - Throws: ``QueryError/invalidIdentifier(_:)``.
  public static func exhibitID(_ text: String) throws -> String {
    guard let row = Identifier.row(of: text.trimmingCharacters(in: .whitespaces), prefix: "E") else {
      throw QueryError.invalidIdentifier(text)
    }
    return Identifier.exhibit(row)
  }

  // MARK: Internals

  /// The longest zone text read, in bytes (UTF-8): far more than 256 corners need.
  static let maximumZoneText = 16_384

  static func points(_ text: String) throws -> [Point] {
    guard text.utf8.count <= maximumZoneText else {
      throw QueryError.textTooLong(
        what: "zone text", length: text.utf8.count, maximum: maximumZoneText,
        hint: "a zone has at most \(ZoneShape.maximumCorners) corners, written x,y with spaces between them")
    }
    let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" })
    let result = try tokens.map { try point(String($0)) }
    if result.isEmpty {
      throw QueryError.wrongPointCount(shape: "zone", count: 0, expected: "2 (a line) or ≥ 3 (a polygon)")
    }
    return result
  }

  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  static func normalise(_ text: String) -> String {
    text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
      .replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: " ", with: "-")
      .replacingOccurrences(of: "/", with: "-")
  }

  /// Returns the canonical raw value, or throws listing the valid values.
  static func vocabulary(_ text: String, kind: String, synonyms: [String: String], valid: [String]) throws -> String? {
    let word = normalise(text)
    if valid.contains(word) { return word }
    if let canonical = synonyms[word] { return canonical }
    try rejectBiometric(text)
    throw QueryError.unknownValue(kind: kind, value: text, valid: valid)
  }

  static let classSynonyms: [String: String] = [
    "persons": "person", "people": "person", "pedestrian": "person", "pedestrians": "person",
    "cars": "car", "automobile": "car",
    "twowheeler": "two-wheeler", "two-wheelers": "two-wheeler", "bicycle": "two-wheeler", "bicycles": "two-wheeler",
    "bike": "two-wheeler", "bikes": "two-wheeler", "cycle": "two-wheeler", "motorbike": "two-wheeler",
    "motorcycle": "two-wheeler", "scooter": "two-wheeler", "moped": "two-wheeler",
    "bustruck": "bus-truck", "bus": "bus-truck", "buses": "bus-truck", "truck": "bus-truck", "trucks": "bus-truck",
    "lorry": "bus-truck", "lorries": "bus-truck", "van": "bus-truck", "vans": "bus-truck",
    "others": "other", "unknown": "other",
  ]

  static let colourSynonyms: [String: String] = [
    "gray": "grey", "violet": "purple", "tan": "brown",
  ]

  static let directionSynonyms: [String: String] = [
    "upright": "up-right", "upleft": "up-left", "downright": "down-right", "downleft": "down-left",
    "right-up": "up-right", "left-up": "up-left", "right-down": "down-right", "left-down": "down-left",
    "still": "stationary", "static": "stationary", "stopped": "stationary",
  ]

  /// Words that name a biometric trait or a personal attribute. lrj refuses them everywhere a vocabulary
  /// value is expected (DESIGN.md L7).
  static let refusedBiometricWords: Set<String> = [
    "face", "faces", "facial", "biometric", "biometrics", "recognition", "reidentification", "reid",  // refused terms (L7)
    "gender", "sex", "male", "female", "man", "men", "woman", "women", "boy", "boys", "girl", "girls",  // refused terms (L7)
    "age", "aged", "old", "young", "child", "children", "kid", "kids", "adult", "adults", "elderly", "teen",
    "teenager", "minor",
    "skin", "complexion", "hair", "haired", "hairstyle", "bald", "beard", "bearded", "moustache", "mustache",  // refused terms (L7)
    "ethnicity", "ethnic", "race", "racial", "origin", "nationality", "religion",  // refused terms (L7)
    "height", "tall", "weight", "fat", "thin", "build", "gait", "walk", "posture",
    "tattoo", "tattoos", "iris", "fingerprint", "fingerprints", "voice", "emotion", "expression",
    "appearance", "similar", "similarity", "lookalike", "identity",
  ]

  static let refusedBiometricPhrases: [String] = ["look-alike", "looks-like", "re-identification", "re-id"]
}
