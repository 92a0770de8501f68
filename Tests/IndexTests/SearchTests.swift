import Foundation
import Store
import Testing

@testable import Index

/// Attribute filters, zones through the store, paging and the JSON contract.
@Suite struct SearchTests {
  /// E1 on camera "north" from 10:00 (+01:00), E2 on camera "south" from 12:00 (+01:00).
  /// T1 red car right 0–10 s; T2 blue person left 5–25 s; T3 grey/red (0.15) bus-truck down 30–32 s, fast;
  /// T4 (E2) white two-wheeler up-right 0–4 s, big; T5 (E2) green/blue person stationary 100–160 s.
  func fixture(_ engine: TestEngine) throws -> IndexStore? {
    guard let store = try engine.store() else { return nil }
    _ = try store.ingest(
      metadata(sha: "a", camera: "north"),
      tracks: [
        makeTrack(.car, colours: [ColourFraction(.red, 0.6)], direction: .right, speed: 0.1, from: 0, to: 10),
        makeTrack(.person, colours: [ColourFraction(.blue, 0.5)], direction: .left, speed: 0.05, from: 5, to: 25),
        makeTrack(
          .busTruck, colours: [ColourFraction(.grey, 0.7), ColourFraction(.red, 0.15)], direction: .down,
          speed: 0.9, from: 30, to: 32),
      ], completion: completion)
    _ = try store.ingest(
      metadata(sha: "b", camera: "south", start: "2026-03-01T12:00:00+01:00"),
      tracks: [
        makeTrack(
          .twoWheeler, colours: [ColourFraction(.white, 0.4)], direction: .upRight, speed: 0.3, from: 0, to: 4,
          area: 0.3),
        makeTrack(
          .person, colours: [ColourFraction(.green, 0.45), ColourFraction(.blue, 0.25)], direction: .stationary,
          speed: 0, from: 100, to: 160),
      ], completion: completion)
    return store
  }

  func ids(_ store: IndexStore, _ query: TrackQuery) throws -> [String] {
    try store.search(query).results.map(\.track)
  }

  @Test(arguments: TestEngine.allCases) func everythingInStartOrder(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    let result = try store.search(TrackQuery())
    #expect(result.total == 5)
    #expect(result.results.map(\.track) == ["T1", "T2", "T3", "T4", "T5"])
  }

  @Test(arguments: TestEngine.allCases) func eachKindOfFilter(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    #expect(try ids(store, TrackQuery(classes: [.person])) == ["T2", "T5"])
    #expect(try ids(store, TrackQuery(colours: [.red])) == ["T1"], "0.15 red is below the default 0.2")
    #expect(try ids(store, TrackQuery(colours: [.red], minColourFraction: 0.1)) == ["T1", "T3"])
    #expect(try ids(store, TrackQuery(colours: [.blue])) == ["T2", "T5"])
    #expect(try ids(store, TrackQuery(directions: [.upRight])) == ["T4"])
    #expect(try ids(store, TrackQuery(cameras: ["south"])) == ["T4", "T5"])
    #expect(try ids(store, TrackQuery(exhibits: ["E1"])) == ["T1", "T2", "T3"])
    #expect(try ids(store, TrackQuery(minDuration: 15)) == ["T2", "T5"])
    #expect(try ids(store, TrackQuery(minSpeed: 0.1, maxSpeed: 0.3)) == ["T1", "T4"])
    #expect(try ids(store, TrackQuery(minSize: 0.25)) == ["T4"])
  }

  @Test(arguments: TestEngine.allCases) func orWithinAKindAndAcrossKinds(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    #expect(try ids(store, TrackQuery(classes: [.car, .twoWheeler])) == ["T1", "T4"])
    #expect(try ids(store, TrackQuery(colours: [.red, .white])) == ["T1", "T4"])
    #expect(try ids(store, TrackQuery(classes: [.person], colours: [.blue], cameras: ["south"])) == ["T5"])
    #expect(try ids(store, TrackQuery(classes: [.person], directions: [.left, .right])) == ["T2"])
    #expect(try ids(store, TrackQuery(classes: [.car], colours: [.blue])) == [])
  }

  @Test(arguments: TestEngine.allCases) func timeRangeUsesTheExhibitStartAndOverlap(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    // E1 starts 10:00:00+01:00 = 09:00:00Z. T2 spans 10:00:05–10:00:25 local.
    #expect(
      try ids(store, TrackQuery(from: date("2026-03-01T10:00:20+01:00"), to: date("2026-03-01T10:00:31+01:00")))
        == ["T2", "T3"])
    // Same instant written with another offset.
    #expect(
      try ids(store, TrackQuery(from: date("2026-03-01T09:00:20Z"), to: date("2026-03-01T09:00:31Z"))) == ["T2", "T3"])
    // [from, to): a track starting exactly at `to` is out; one ending exactly at `from` is out.
    #expect(
      try ids(store, TrackQuery(from: date("2026-03-01T10:00:10+01:00"), to: date("2026-03-01T10:00:30+01:00"))) == [
        "T2"
      ])
    #expect(try ids(store, TrackQuery(from: date("2026-03-01T12:00:00+01:00"))) == ["T4", "T5"])
    #expect(try ids(store, TrackQuery(to: date("2026-03-01T10:00:05+01:00"))) == ["T1"])
  }

  @Test(arguments: TestEngine.allCases) func pagingAndTotal(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    let page = try store.search(TrackQuery(limit: 2, offset: 1))
    #expect(page.total == 5)
    #expect(page.results.map(\.track) == ["T2", "T3"])
    let beyond = try store.search(TrackQuery(limit: 2, offset: 10))
    #expect(beyond.total == 5 && beyond.results.isEmpty)
    let countOnly = try store.search(TrackQuery(classes: [.person], limit: 0))
    #expect(countOnly.total == 2 && countOnly.results.isEmpty)
  }

  @Test(arguments: TestEngine.allCases) func unknownCameraOrExhibitIsAnErrorNotAnEmptyResult(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    #expect(throws: QueryError.unknownValue(kind: "camera", value: "nort", valid: ["north", "south"])) {
      try store.search(TrackQuery(cameras: ["nort"]))
    }
    #expect(throws: QueryError.unknownValue(kind: "exhibit", value: "E9", valid: ["E1", "E2"])) {
      try store.search(TrackQuery(exhibits: ["E9"]))
    }
  }

  @Test(arguments: TestEngine.allCases) func summaryFieldsAndJSONContract(_ engine: TestEngine) throws {
    guard let store = try fixture(engine) else { return }
    let summary = try #require(try store.search(TrackQuery(classes: [.busTruck])).results.first)
    #expect(summary.track == "T3" && summary.exhibit == "E1" && summary.camera == "north")
    #expect(summary.start.iso8601() == "2026-03-01T10:00:30.000+01:00")
    #expect(summary.end.iso8601() == "2026-03-01T10:00:32.000+01:00")
    #expect(summary.startOffset == 30 && summary.endOffset == 32)
    #expect(summary.colours == [ColourFraction(.grey, 0.7), ColourFraction(.red, 0.15)])
    #expect(summary.firstBox == Box(x: 118, y: 392, width: 20, height: 40))
    #expect(summary.frameWidth == 640 && summary.frameHeight == 480)
    let data = try JSONEncoder().encode(summary)
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(
      Set(object.keys) == [
        "track", "exhibit", "camera", "class", "classConfidence", "colours", "direction", "speed", "start", "end",
        "startOffset", "endOffset", "firstBox", "lastBox", "frameWidth", "frameHeight",
      ])
    #expect(object["class"] as? String == "bus-truck")
    #expect(object["start"] as? String == "2026-03-01T10:00:30.000+01:00")
    #expect((object["firstBox"] as? [Double]) == [118, 392, 20, 40])
    #expect(try JSONDecoder().decode(TrackSummary.self, from: data) == summary)
    let colours = try #require(object["colours"] as? [[String: Any]])
    #expect(colours.first?["colour"] as? String == "grey")
  }

  @Test func fractionalSecondsAndNegativeOffsets() throws {
    let time = try WallClockTime(iso8601: "2026-03-01T10:00:03.2-05:30")
    #expect(time.iso8601() == "2026-03-01T10:00:03.200-05:30")
    #expect(WallClockTime(date: time.date, utcOffsetSeconds: 3600).iso8601() == "2026-03-01T16:30:03.200+01:00")
    #expect(
      try WallClockTime(iso8601: "2024-02-29T23:59:59Z").iso8601(fractionDigits: 0) == "2024-02-29T23:59:59+00:00")
  }

  @Test(arguments: TestEngine.allCases) func zoneSearchThroughTheStore(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    _ = try store.ingest(
      metadata(sha: "c", camera: "gate"),
      tracks: [
        // Walks left to right along y = 0.9 (bottom), passing the lower-left quadrant between samples.
        makeTrack(.person, path: [(0, 0.1, 0.9), (10, 0.9, 0.9)]),
        // Stays in the top-right.
        makeTrack(.person, path: [(0, 0.8, 0.2), (10, 0.9, 0.3)]),
        // A car that enters the lower-left quadrant from above and stays 6 s.
        makeTrack(.car, path: [(0, 0.2, 0.2), (2, 0.2, 0.7), (8, 0.25, 0.75)]),
      ], completion: completion)
    _ = try store.ingest(
      metadata(sha: "d", camera: "other"), tracks: [makeTrack(.person, path: [(0, 0.1, 0.9), (10, 0.9, 0.9)])],
      completion: completion)
    let lowerLeft = Zone(camera: "gate", shape: polygon("0,0.5 0.5,0.5 0.5,1 0,1"))
    let enters = try store.search(TrackQuery(zone: ZoneQuery(zone: lowerLeft, rule: .enters)))
    #expect(enters.total == 1 && enters.results.map(\.track) == ["T3"])
    #expect(enters.results[0].zoneFirst.map { abs($0 - 1.2) < 1e-6 } == true)
    let inside = try store.search(TrackQuery(zone: ZoneQuery(zone: lowerLeft, rule: .inside)))
    #expect(inside.results.map(\.track) == ["T1", "T3"], "T1 starts inside; the other camera's T4 is excluded")
    #expect(inside.results[0].zoneFirst == 0 && inside.results[0].zoneLast.map { abs($0 - 5) < 1e-4 } == true)
    let dwell = try store.search(
      TrackQuery(classes: [.car], zone: ZoneQuery(zone: lowerLeft, rule: .dwell(seconds: 5))))
    #expect(dwell.results.map(\.track) == ["T3"])
    let crossing = Zone(camera: "gate", shape: .line(Point(x: 0.5, y: 0.8), Point(x: 0.5, y: 1)))
    let crosses = try store.search(TrackQuery(zone: ZoneQuery(zone: crossing, rule: .crosses(.either))))
    #expect(crosses.results.map(\.track) == ["T1"])
    #expect(crosses.results[0].zoneFirst.map { abs($0 - 5) < 1e-4 } == true)
    let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(crosses.results[0])) as? [String: Any]
    #expect(json?["zoneFirst"] != nil && json?["zoneLast"] != nil)

    #expect(try store.tracks(near: lowerLeft) == ["T1", "T3"], "R*Tree preselection by bounding box")
    let elsewhere = TrackQuery(cameras: ["other"], zone: ZoneQuery(zone: lowerLeft, rule: .inside))
    #expect(try store.search(elsewhere).total == 0, "the zone's camera AND the camera filter")
    let otherOrigin = Zone(camera: "other", shape: polygon("0,0 0.5,0 0.5,0.5"))
    #expect(throws: QueryError.self) {
      try store.search(TrackQuery(zone: ZoneQuery(zone: lowerLeft, rule: .from(otherOrigin))))
    }
    try store.saveZone(lowerLeft, name: "lower left")
    let saved = try #require(try store.zone(named: "lower left", camera: "gate"))
    #expect(saved.shape == lowerLeft.shape && saved.name == "lower left")
    let parsed = try QueryParser.zone("@lower left", camera: "gate", lookup: store.zone(named:camera:))
    #expect(try store.search(TrackQuery(zone: ZoneQuery(zone: parsed, rule: .enters))).total == 1)
    #expect(throws: QueryError.unknownZone(name: "door", camera: "gate")) {
      try QueryParser.zone("@door", camera: "gate", lookup: store.zone(named:camera:))
    }
    #expect(throws: IndexError.self) { try store.saveZone(lowerLeft, name: "lower left") }
    try store.saveZone(lowerLeft, name: "lower left", replacing: true)
    #expect(try store.zones(camera: "gate").map(\.name) == ["lower left"])
  }
}

@Suite struct DensePathTests {
  @Test(arguments: TestEngine.allCases) func everyFramePathsAreThinnedForZonesButKeptForExports(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    // 25 frames a second for 8 s, walking left to right through the square x 0.4…0.6.
    var samples: [(Double, Double, Double)] = []
    for frame in 0...200 {
      let progress = Double(frame) / 200
      samples.append((Double(frame) / 25, 0.1 + 0.8 * progress, 0.5))
    }
    _ = try store.ingest(metadata(), tracks: [makeTrack(.person, path: samples)], completion: completion)
    #expect(try store.boxes(ofExhibit: "E1").count == 201, "every stored box is exported")
    let square = Zone(camera: "north", shape: polygon("0.4,0.4 0.6,0.4 0.6,0.6 0.4,0.6"))
    let result = try store.search(TrackQuery(zone: ZoneQuery(zone: square, rule: .inside)))
    let hit = try #require(result.results.first)
    #expect(abs(hit.zoneFirst! - 3) < 1e-3 && abs(hit.zoneLast! - 5) < 1e-3)
    let blockSamples = try store.read { tx in try tx.value(Int.self, "SELECT (length(paths) - 1) / 12 FROM search_block") }
    #expect(blockSamples == 41, "one sample per 0.2 s over 8 s, first and last included")
  }
}

/// Opened blocks kept between searches (the console): the same answers, nothing opened twice, and a
/// block rewritten since (a track erased) is never answered from the cache.
@Suite(.serialized) struct BlockCacheTests {
  @Test(arguments: TestEngine.allCases) func keptBlocksGiveTheSameAnswersAndFollowRewrites(_ engine: TestEngine) throws {
    let sealing = CountingSealing()
    guard let store = try engine.store(sealing: sealing) else { return }
    _ = try store.ingest(metadata(), tracks: (0..<30).map { makeTrack(from: Double($0), to: Double($0) + 5) }, completion: completion)
    _ = try store.ingest(metadata(sha: "b", camera: "south"), tracks: [makeTrack(.person)], completion: completion)
    let zone = ZoneQuery(zone: Zone(camera: "north", shape: polygon("0.4,0.8 0.6,0.8 0.6,1 0.4,1")), rule: .inside)
    let queries = [TrackQuery(limit: 100), TrackQuery(classes: [.person]), TrackQuery(zone: zone, limit: 100)]
    let uncached = try queries.map { try store.search($0) }
    IndexStore.keepOpenedBlocks(upTo: 64 << 20)
    defer { IndexStore.keepOpenedBlocks(upTo: 0) }
    #expect(try queries.map { try store.search($0) } == uncached)
    let afterFirst = sealing.blocksOpened
    #expect(try queries.map { try store.search($0) } == uncached)
    #expect(sealing.blocksOpened == afterFirst, "the second round opens no block")
    try store.deleteTrack("T1")
    let after = try store.search(TrackQuery(limit: 100))
    #expect(after.total == uncached[0].total - 1 && !after.results.contains { $0.track == "T1" }, "the rewritten block is read again")
    #expect(try store.search(TrackQuery(zone: zone, limit: 100)).results.contains { $0.track == "T1" } == false)
  }
}
