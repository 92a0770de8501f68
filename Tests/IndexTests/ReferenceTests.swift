import Foundation
import Testing

@testable import Index

/// Random tracks and queries: the store's answers must equal a plain evaluation of the definitions.
@Suite struct ReferenceTests {
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  @Test func gridAcceleratedZonesEqualExactGeometry() {
    var random = Generator(state: 7)
    let shapes: [ZoneShape] = [
      polygon("0.2,0.2 0.4,0.2 0.4,0.6 0.6,0.6 0.6,0.2 0.8,0.2 0.8,0.8 0.2,0.8"),
      polygon("0.1,0.5 0.5,0.1 0.9,0.5 0.5,0.9"),
      polygon("0.25,0.25 0.75,0.25 0.75,0.75 0.25,0.75"),
    ]
    for shape in shapes {
      guard case .polygon(let points) = shape else { continue }
      let grid = ZoneGrid(shape)
      let origin = Zone(camera: "c", shape: polygon("0.0,0.0 0.5,0.0 0.5,0.5 0.0,0.5"))
      let queries = [ZoneRule.inside, .enters, .exits, .dwell(seconds: 1), .from(origin)].map {
        let query = ZoneQuery(zone: Zone(camera: "c", shape: shape), rule: $0)
        return (query, ZoneGrids(query))
      }
      for _ in 0..<300 {
        var t = 0.0
        var p = Point(x: Double.random(in: 0...1, using: &random), y: Double.random(in: 0...1, using: &random))
        var path: [PathPoint] = []
        for _ in 0..<Int.random(in: 1...40, using: &random) {
          path.append(PathPoint(time: t, position: p))
          t += Double.random(in: 0.05...1, using: &random)
          p.x = min(1, max(0, p.x + Double.random(in: -0.08...0.08, using: &random)))
          p.y = min(1, max(0, p.y + Double.random(in: -0.08...0.08, using: &random)))
        }
        #expect(
          Geometry.insideIntervals(path, polygon: points, grid: grid) == Geometry.insideIntervals(path, polygon: points)
        )
        // Scanning from the ends gives the rules' answers that the full interval list gives.
        for (query, grids) in queries {
          let fast = query.evaluate(path, grids: grids)
          let slow = query.evaluate(path, scanFromEnds: false)
          #expect(fast?.first == slow?.first && fast?.last == slow?.last, "\(query.rule)")
        }
      }
    }
    let line = ZoneShape.line(Point(x: 0.1, y: 0.3), Point(x: 0.9, y: 0.6))
    let grid = ZoneGrid(line)
    for _ in 0..<300 {
      let path = (0..<20).map {
        PathPoint(
          time: Double($0),
          position: Point(x: Double.random(in: 0...1, using: &random), y: Double.random(in: 0...1, using: &random)))
      }
      let exact = Geometry.crossings(path, a: line.points[0], b: line.points[1])
      let fast = Geometry.crossings(path, a: line.points[0], b: line.points[1], grid: grid)
      #expect(exact.map(\.time) == fast.map(\.time) && exact.map(\.sense) == fast.map(\.sense))
    }
  }

  @Test(arguments: TestEngine.allCases) func searchEqualsAPlainFilter(_ engine: TestEngine) throws {
    var random = Generator(state: 42)
    guard let store = try engine.store() else { return }
    var all: [(id: String, track: NewTrack, start: Double, camera: String)] = []
    for (index, camera) in ["north", "south", "east"].enumerated() {
      let meta = metadata(sha: ["a", "b", "c"][index], camera: camera, start: "2026-03-01T1\(index):00:00+01:00")
      var tracks: [NewTrack] = []
      for _ in 0..<400 {
        let start = (Double.random(in: 0...600, using: &random) * 4).rounded() / 4
        let duration = Double.random(in: 2.5...40, using: &random)  // samples ≥ 0.2 s apart: none thinned
        var colours: [ColourFraction] = []
        var left = 1.0
        for colour in Colour.allCases.shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)) {
          let fraction = (left * Double.random(in: 0.1...0.9, using: &random) * 1000).rounded() / 1000
          colours.append(ColourFraction(colour, fraction))
          left -= fraction
        }
        let steps = Int.random(in: 1...12, using: &random)
        var points: [(Double, Double, Double)] = []
        var x = Double.random(in: 0.05...0.95, using: &random)
        var y = Double.random(in: 0.15...0.95, using: &random)
        for k in 0...steps {
          points.append((start + duration * Double(k) / Double(steps), x, y))
          x = min(0.95, max(0.05, x + Double.random(in: -0.2...0.2, using: &random)))
          y = min(0.95, max(0.15, y + Double.random(in: -0.2...0.2, using: &random)))
        }
        tracks.append(
          makeTrack(
            ObjectClass.allCases.randomElement(using: &random)!, colours: colours,
            direction: Direction.allCases.randomElement(using: &random)!,
            speed: (Double.random(in: 0...0.5, using: &random) * 100).rounded() / 100, path: points,
            area: Double.random(in: 0...0.2, using: &random)))
      }
      let (_, ids) = try store.ingest(meta, tracks: tracks, completion: completion)
      for (id, track) in zip(ids, tracks) { all.append((id, track, meta.start.date.timeIntervalSince1970, camera)) }
    }
    let zones: [ZoneShape] = [
      polygon("0.2,0.2 0.4,0.2 0.4,0.6 0.6,0.6 0.6,0.2 0.8,0.2 0.8,0.8 0.2,0.8"),
      .line(Point(x: 0.5, y: 0.1), Point(x: 0.5, y: 0.9)),
    ]
    let origin = Zone(camera: "north", shape: polygon("0.05,0.1 0.5,0.1 0.5,0.5 0.05,0.5"))
    var nonEmpty = 0
    var zoneHits = 0
    for round in 0..<60 {
      var query = TrackQuery(
        limit: Int.random(in: 1...30, using: &random), offset: Int.random(in: 0...20, using: &random))
      if Bool.random(using: &random) { query.classes = Set(ObjectClass.allCases.shuffled(using: &random).prefix(2)) }
      if Bool.random(using: &random) { query.colours = Set(Colour.allCases.shuffled(using: &random).prefix(3)) }
      query.minColourFraction = [0.2, 0.1, 0.25, 0.123, 0.3337][round % 5]
      if Bool.random(using: &random) { query.directions = Set(Direction.allCases.shuffled(using: &random).prefix(4)) }
      if round % 4 == 0 { query.cameras = ["south", "east"] }
      let base = date("2026-03-01T10:00:00+01:00")
      if Bool.random(using: &random) {
        query.from = base.addingTimeInterval(Double.random(in: 0...7000, using: &random))
      }
      if Bool.random(using: &random) {
        query.to = (query.from ?? base).addingTimeInterval(Double.random(in: 1...4000, using: &random))
      }
      if round % 3 == 0 { query.minDuration = Double.random(in: 0...20, using: &random) }
      if round % 5 == 1 { query.minSpeed = 0.1; query.maxSpeed = 0.3 }
      if round % 7 == 2 { query.minSize = 0.1 }
      if round % 2 == 1 {
        let shape = zones[round % 4 == 1 ? 0 : 1]
        let rules: [ZoneRule] =
          if case .line = shape { [.crosses(.either), .crosses(.leftToRight)] } else {
            [.enters, .exits, .inside, .dwell(seconds: 2), .from(origin)]
          }
        query.zone = ZoneQuery(zone: Zone(camera: "north", shape: shape), rule: rules[round % rules.count])
        query.cameras = []
      }
      var expected: [(id: String, start: Double, first: Double?, last: Double?)] = []
      for item in all {
        let t = item.track
        let start = item.start + t.path.first!.time
        let end = item.start + t.path.last!.time
        if !query.classes.isEmpty && !query.classes.contains(t.objectClass) { continue }
        if !query.directions.isEmpty && !query.directions.contains(t.direction) { continue }
        if !query.colours.isEmpty
          && !t.colours.contains(where: { query.colours.contains($0.colour) && $0.fraction >= query.minColourFraction })
        {
          continue
        }
        if !query.cameras.isEmpty && !query.cameras.contains(item.camera) { continue }
        if let from = query.from, !(end > from.timeIntervalSince1970) { continue }
        if let to = query.to, !(start < to.timeIntervalSince1970) { continue }
        if let minimum = query.minDuration, !(t.path.last!.time - t.path.first!.time >= minimum) { continue }
        if let minimum = query.minSpeed, !(t.speed >= minimum) { continue }
        if let maximum = query.maxSpeed, !(t.speed <= maximum) { continue }
        if let minimum = query.minSize, !(t.maxBoxAreaFraction! >= minimum) { continue }
        var held: (first: Double, last: Double)?
        if let zone = query.zone {
          guard item.camera == zone.zone.camera else { continue }
          // Ground positions from the same Float32 boxes the store keeps.
          let path = t.path.map { sample in
            PathPoint(
              time: sample.time,
              position: Point(
                x: (Double(Float(sample.box.x)) + Double(Float(sample.box.width)) / 2) / Double(frameWidth),
                y: (Double(Float(sample.box.y)) + Double(Float(sample.box.height))) / Double(frameHeight)))
          }
          guard let result = zone.evaluate(path) else { continue }
          held = result
        }
        expected.append((item.id, start, held?.first, held?.last))
      }
      expected.sort { ($0.start, Int($0.id.dropFirst())!) < ($1.start, Int($1.id.dropFirst())!) }
      let result = try store.search(query)
      if result.total > 0 { nonEmpty += 1 }
      if query.zone != nil { zoneHits += result.total }
      #expect(result.total == expected.count, "round \(round): \(query)")
      let page = Array(expected.dropFirst(query.offset).prefix(query.limit))
      #expect(result.results.map(\.track) == page.map(\.id), "round \(round)")
      if query.zone != nil {
        for (got, want) in zip(result.results, page) {
          #expect(
            abs((got.zoneFirst ?? -1) - (want.first ?? -1)) < 1e-4
              && abs((got.zoneLast ?? -1) - (want.last ?? -1)) < 1e-4)
        }
      }
    }
    #expect(nonEmpty >= 30 && zoneHits >= 50, "the random queries must exercise matches (\(nonEmpty), \(zoneHits))")
  }
}
