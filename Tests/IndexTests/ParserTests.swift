import Foundation
import Testing

@testable import Index

/// Untrusted text: every bad input gets a precise error.
@Suite struct ParserTests {
  func noZones(_ name: String, _ camera: String) -> Zone? { nil }

  @Test func polygonsAndLines() throws {
    #expect(try QueryParser.polygon("0,0 1,0 1,1") == [Point(x: 0, y: 0), Point(x: 1, y: 0), Point(x: 1, y: 1)])
    #expect(try QueryParser.polygon(" 0.1,0.1  0.9,0.1 0.5,0.9 0.1,0.1 ").count == 3, "closing point dropped")
    let (a, b) = try QueryParser.line("0.2,0.5 0.8,0.5")
    #expect(a == Point(x: 0.2, y: 0.5) && b == Point(x: 0.8, y: 0.5))
  }

  @Test(arguments: [
    ("0.1,0.1 0.2,0.2", QueryError.wrongPointCount(shape: "polygon", count: 2, expected: "at least 3")),
    ("0.1,0.1 0.2 0.3,0.3", .malformedPoint("0.2")),
    ("0.1,0.1 0.2,0.2,0.3 0.3,0.3", .malformedPoint("0.2,0.2,0.3")),
    ("a,b 0.2,0.2 0.3,0.3", .malformedPoint("a,b")),
    ("0.1,0.1 1.5,0.2 0.3,0.3", .coordinateOutOfRange(1.5)),
    ("0.1,-0.1 0.5,0.2 0.3,0.3", .coordinateOutOfRange(-0.1)),
    ("0.1,nan 0.5,0.2 0.3,0.3", .notFinite("nan")),
    ("0.1,0.1 inf,0.2 0.3,0.3", .notFinite("inf")),
    ("0,0 1,1 1,0 0,1", .selfIntersecting),
    ("0.1,0.1 0.2,0.2 0.3,0.3", .degenerateShape("the polygon has no area")),
    ("0.1,0.1 0.1,0.1 0.3,0.3 0.1,0.5", .degenerateShape("the polygon repeats the point 0.1,0.1")),
    ("", .wrongPointCount(shape: "zone", count: 0, expected: "2 (a line) or ≥ 3 (a polygon)")),
  ])
  func badPolygons(text: String, error: QueryError) {
    #expect(throws: error) { try QueryParser.polygon(text) }
  }

  @Test func moreSelfIntersections() {
    // A bow-tie through a shared corner, and an edge folding back on its neighbour.
    #expect(throws: QueryError.selfIntersecting) {
      try QueryParser.polygon("0.1,0.1 0.5,0.5 0.9,0.1 0.9,0.9 0.5,0.5 0.1,0.9")
    }
    #expect(throws: QueryError.selfIntersecting) { try QueryParser.polygon("0.1,0.1 0.9,0.1 0.5,0.1 0.5,0.9") }
  }

  @Test func badLines() {
    #expect(throws: QueryError.degenerateShape("the line's two ends are the same point")) {
      try QueryParser.line("0.5,0.5 0.5,0.5")
    }
    #expect(throws: QueryError.wrongPointCount(shape: "line", count: 3, expected: "2")) {
      try QueryParser.line("0.1,0.1 0.2,0.2 0.3,0.1")
    }
  }

  @Test func zoneRules() throws {
    #expect(try QueryParser.zoneRule("enters", camera: "c", lookup: noZones) == .enters)
    #expect(try QueryParser.zoneRule("EXITS", camera: "c", lookup: noZones) == .exits)
    #expect(try QueryParser.zoneRule("inside", camera: "c", lookup: noZones) == .inside)
    #expect(try QueryParser.zoneRule("dwell:5", camera: "c", lookup: noZones) == .dwell(seconds: 5))
    #expect(try QueryParser.zoneRule("crosses", camera: "c", lookup: noZones) == .crosses(.either))
    #expect(try QueryParser.zoneRule("crosses:left-to-right", camera: "c", lookup: noZones) == .crosses(.leftToRight))
    let door = Zone(
      camera: "c", shape: .polygon([Point(x: 0, y: 0), Point(x: 0.1, y: 0), Point(x: 0, y: 0.1)]), name: "door")
    #expect(
      try QueryParser.zoneRule("from:@door", camera: "c", lookup: { name, _ in name == "door" ? door : nil })
        == .from(door))
    #expect(throws: QueryError.self) { try QueryParser.zoneRule("dwell:-1", camera: "c", lookup: noZones) }
    #expect(throws: QueryError.self) { try QueryParser.zoneRule("dwell:nan", camera: "c", lookup: noZones) }
    #expect(throws: QueryError.self) { try QueryParser.zoneRule("dwell", camera: "c", lookup: noZones) }
    #expect(throws: QueryError.self) { try QueryParser.zoneRule("crosses:up", camera: "c", lookup: noZones) }
    #expect(throws: QueryError.self) { try QueryParser.zoneRule("loiters", camera: "c", lookup: noZones) }
    #expect(throws: QueryError.unknownZone(name: "door", camera: "c")) {
      try QueryParser.zoneRule("from:@door", camera: "c", lookup: noZones)
    }
    #expect(throws: QueryError.ruleShapeMismatch(rule: "from", needs: "an origin zone that is a polygon")) {
      try QueryParser.zoneRule("from:0.1,0.1 0.2,0.2", camera: "c", lookup: noZones)
    }
  }

  @Test func rulesMustFitTheirShape() {
    let line = Zone(camera: "c", shape: .line(Point(x: 0.1, y: 0.1), Point(x: 0.9, y: 0.1)))
    let square = Zone(camera: "c", shape: polygon("0.1,0.1 0.2,0.1 0.2,0.2"))
    #expect(throws: QueryError.ruleShapeMismatch(rule: "enters", needs: "a polygon of at least 3 points")) {
      try ZoneQuery(zone: line, rule: .enters).validate()
    }
    #expect(throws: QueryError.ruleShapeMismatch(rule: "crosses", needs: "a line of two points")) {
      try ZoneQuery(zone: square, rule: .crosses(.either)).validate()
    }
  }

  @Test func vocabularyAndSpellings() throws {
    #expect(try QueryParser.objectClass("Car") == .car)
    #expect(try QueryParser.objectClass("two_wheeler") == .twoWheeler)
    #expect(try QueryParser.objectClass("bicycle") == .twoWheeler)
    #expect(try QueryParser.objectClass("lorry") == .busTruck)
    #expect(try QueryParser.colour("gray") == .grey)
    #expect(try QueryParser.direction("Up Right") == .upRight)
    #expect(try QueryParser.directions("left, right") == [.left, .right])
    #expect(try QueryParser.objectClasses("car,bus-truck") == [.car, .busTruck])
  }

  @Test func unknownValuesListTheValidOnes() {
    #expect(
      throws: QueryError.unknownValue(
        kind: "class", value: "boat", valid: ["person", "car", "two-wheeler", "bus-truck", "other"])
    ) { try QueryParser.objectClass("boat") }
    #expect(throws: QueryError.self) { try QueryParser.colour("turquoise") }
    #expect(throws: QueryError.self) { try QueryParser.direction("north") }
    let message = "\(QueryError.unknownValue(kind: "colour", value: "teal", valid: Colour.allCases.map(\.rawValue)))"
    #expect(message.contains("black, white, grey, red"))
  }

  @Test(arguments: [
    "face", "Faces", "facial", "gender", "sex", "age", "skin", "skin colour", "hair", "blonde hair", "beard",
    "ethnicity", "race", "height", "similar appearance", "female", "child", "gait",
  ])
  func biometricTermsAreRefused(term: String) {
    #expect(throws: QueryError.refusedBiometricTerm(term)) { try QueryParser.objectClass(term) }
    #expect(throws: QueryError.refusedBiometricTerm(term)) { try QueryParser.colour(term) }
    #expect(throws: QueryError.refusedBiometricTerm(term)) { try QueryParser.rejectBiometric(term) }
    #expect("\(QueryError.refusedBiometricTerm(term))".contains("no biometric capability by design"))
  }

  @Test func biometricCheckLetsTheVocabularyThrough() throws {
    for word in ObjectClass.allCases.map(\.rawValue) + Colour.allCases.map(\.rawValue)
      + Direction.allCases.map(\.rawValue)
    {
      try QueryParser.rejectBiometric(word)
    }
  }

  @Test func times() throws {
    #expect(try QueryParser.time("2026-03-01T10:00:00+01:00").date == Date(timeIntervalSince1970: 1_772_355_600))
    #expect(try QueryParser.time("2026-03-01 09:00:00Z").date == Date(timeIntervalSince1970: 1_772_355_600))
    #expect(try QueryParser.time("2026-03-01T10:00+0100").utcOffsetSeconds == 3600)
    for bad in [
      "2026-03-01T10:00:00", "2026-03-01", "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "2026-03-01T24:00:00Z",
      "2026-03-01T10:00:00+19:00", "2026-03-01T10:00:00Zjunk", "yesterday", "2026-03-01T10:00:00.+01:00",
    ] {
      #expect(throws: QueryError.self, "\(bad)") { try QueryParser.time(bad) }
    }
    #expect(
      throws: QueryError.emptyTimeRange(from: "2026-03-01T10:00:00.000+01:00", to: "2026-03-01T09:00:00.000+01:00")
    ) {
      try QueryParser.timeRange(from: "2026-03-01T10:00:00+01:00", to: "2026-03-01T09:00:00+01:00")
    }
    #expect(throws: QueryError.self) {
      try QueryParser.timeRange(from: "2026-03-01T10:00:00+01:00", to: "2026-03-01T09:00:00Z")
    }
  }

  @Test func badQueries() throws {
    let t = Date(timeIntervalSince1970: 1_772_355_600)
    #expect(throws: QueryError.self) { try TrackQuery(from: t, to: t).validate() }
    #expect(throws: QueryError.self) { try TrackQuery(minColourFraction: 1.5).validate() }
    #expect(throws: QueryError.self) { try TrackQuery(minDuration: .nan).validate() }
    #expect(throws: QueryError.self) { try TrackQuery(minSpeed: 0.5, maxSpeed: 0.1).validate() }
    #expect(throws: QueryError.self) { try TrackQuery(limit: -1).validate() }
    #expect(throws: QueryError.invalidIdentifier("X1")) { try TrackQuery(exhibits: ["X1"]).validate() }
    #expect(throws: QueryError.invalidIdentifier("T01")) { try QueryParser.trackID("T01") }
    #expect(try QueryParser.trackID("t17") == "T17")
    let nanZone = Zone(camera: "c", shape: .polygon([Point(x: .nan, y: 0), Point(x: 1, y: 0), Point(x: 1, y: 1)]))
    #expect(throws: QueryError.notFinite("nan")) {
      try TrackQuery(zone: ZoneQuery(zone: nanZone, rule: .inside)).validate()
    }
  }
}
