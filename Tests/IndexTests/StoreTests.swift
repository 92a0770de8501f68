import Foundation
import Store
import GRDB
import Testing

@testable import Index

/// The store: schema, constraints, atomic exhibit writes, duplicates, deletions.
@Suite struct StoreTests {
  @Test func migrationCreatesStrictTables() throws {
    let store = try IndexStore.inMemory()
    let strict = try store.writer.read { db in
      try Row.fetchAll(db, sql: "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")
        .reduce(into: [String: Int]()) { $0[$1["name"]] = $1["strict"] }
    }
    for table in ["camera", "exhibit", "track", "thumbnail", "zone", "search_block"] {
      #expect(strict[table] == 1, "\(table) is STRICT")
    }
    // Sealed at rest: no clear table of attributes, colours, paths or extents is left; a track row holds ids only.
    #expect(Set(strict.keys).isDisjoint(with: ["track_colour", "track_path", "track_extent"]), "\(strict.keys)")
    let columns = try store.writer.read { db in try db.columns(in: "track").map(\.name) }
    #expect(columns == ["id", "code", "exhibit_id", "camera_id", "detail"])
  }

  @Test func constraintsAreEnforcedBySQLite() throws {
    let store = try IndexStore.inMemory()
    _ = try store.ingest(metadata(), tracks: [makeTrack()], completion: completion)
    #expect(throws: DatabaseError.self, "a track on another camera than its exhibit") {
      try store.writer.write { db in
        try db.execute(sql: "INSERT INTO camera (name) VALUES ('other')")
        try db.execute(sql: "INSERT INTO track (exhibit_id, camera_id, detail) VALUES (1, 2, x'01')")
      }
    }
    #expect(throws: DatabaseError.self, "a track without its detail") {
      try store.writer.write { db in try db.execute(sql: "INSERT INTO track (exhibit_id, camera_id, detail) VALUES (1, 1, x'')") }
    }
    #expect(throws: DatabaseError.self, "a camera name with a slash") {
      try store.writer.write { db in try db.execute(sql: "INSERT INTO camera (name) VALUES ('a/b')") }
    }
    #expect(throws: DatabaseError.self, "a complete exhibit without its duration") {
      try store.writer.write { db in
        try db.execute(sql: "UPDATE exhibit SET duration = NULL WHERE id = 1")
      }
    }
  }

  /// The same rules hold in both engines' schemas, for rows written behind the store's back.
  @Test(arguments: TestEngine.allCases) func bothSchemasRefuseWhatBreaksTheirRules(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    _ = try store.ingest(metadata(), tracks: [makeTrack()], completion: completion)
    let refused: [(String, [StoreValue])] = [
      ("INSERT INTO track (id, exhibit_id, camera_id, detail) VALUES (90, 1, 2, ?)", [.blob(Data([1]))]),  // another camera
      ("INSERT INTO track (id, exhibit_id, camera_id, detail) VALUES (91, 1, 1, ?)", [.blob(Data())]),  // no detail
      ("INSERT INTO camera (name) VALUES ('a/b')", []),
      ("UPDATE exhibit SET duration = NULL WHERE id = 1", []),  // complete without its duration
      ("UPDATE exhibit SET sha256 = 'XYZ' WHERE id = 1", []),
      ("INSERT INTO thumbnail (track_id, format, bytes) VALUES (1, 'png', ?)", [.blob(Data())]),
    ]
    try store.write { try $0.execute("INSERT INTO camera (name) VALUES ('other')") }
    for (sql, arguments) in refused {
      #expect(throws: IndexError.self, "\(engine): \(sql)") { try store.write { try $0.execute(sql, arguments) } }
    }
    #expect(try store.counts(["track", "camera", "thumbnail"]) == [1, 2, 0])
  }

  @Test(arguments: TestEngine.allCases) func failureHalfwayLeavesNothing(_ engine: TestEngine) throws {
    guard let store = try engine.store(sealing: FailingSealing(failAt: "track T3")) else { return }
    // Sealing the third track fails, after the exhibit and two tracks were written in the transaction.
    #expect(throws: IndexError.self) {
      try store.ingest(metadata(), tracks: [makeTrack(), makeTrack(), makeTrack()], completion: completion)
    }
    #expect(try store.exhibits(includingIncomplete: true).isEmpty)
    #expect(try store.exhibit(withSHA256: String(repeating: "a", count: 64)) == nil)
    #expect(try store.counts(["track", "thumbnail", "camera", "exhibit"]) == [0, 0, 0, 0])
    // A Swift-side refusal in the middle of the batch also writes nothing.
    var bad = makeTrack()
    bad.classConfidence = 2
    #expect(throws: IndexError.invalidTrack(index: 1, reason: "class confidence 2.0 outside 0..1")) {
      try store.ingest(metadata(), tracks: [makeTrack(), bad], completion: completion)
    }
    #expect(try store.exhibits(includingIncomplete: true).isEmpty)
  }

  @Test(arguments: TestEngine.allCases) func chunkedIngestIsInvisibleUntilCommitted(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    let exhibit = try store.beginExhibit(metadata())
    #expect(exhibit == "E1")
    #expect(try store.addTracks([makeTrack(), makeTrack()], toExhibit: exhibit) == ["T1", "T2"])
    #expect(try store.search(TrackQuery()).total == 0)
    #expect(try store.exhibits().isEmpty)
    #expect(try store.track("T1") == nil)
    #expect(try store.exhibit(withSHA256: String(repeating: "a", count: 64))?.isComplete == false)
    #expect(throws: IndexError.invalidTrack(index: 0, reason: "empty path")) {
      try store.addTracks(
        [NewTrack(objectClass: .car, classConfidence: 1, colours: [], direction: .left, speed: 0, path: [])],
        toExhibit: exhibit)
    }
    try store.commitExhibit(exhibit, completion: completion)
    #expect(try store.search(TrackQuery()).total == 2)
    #expect(throws: IndexError.exhibitAlreadyComplete("E1")) { try store.addTracks([makeTrack()], toExhibit: exhibit) }
    #expect(throws: IndexError.exhibitAlreadyComplete("E1")) {
      try store.commitExhibit(exhibit, completion: completion)
    }
  }

  @Test(arguments: TestEngine.allCases) func interruptedIngestIsCleanedUpAndRedone(_ engine: TestEngine) throws {
    guard let open = try engine.newStore() else { return }
    do {
      let store = try open()
      let exhibit = try store.beginExhibit(metadata())
      _ = try store.addTracks([makeTrack(), makeTrack()], toExhibit: exhibit)
      // The process dies here: no commit.
    }
    let store = try open()
    #expect(try store.search(TrackQuery()).total == 0)
    let again = try store.beginExhibit(metadata())
    #expect(again == "E2", "ids are never reused")
    #expect(try store.exhibits(includingIncomplete: true).map(\.id) == ["E2"], "the leftover E1 was removed")
    _ = try store.addTracks([makeTrack(.person)], toExhibit: again)
    try store.commitExhibit(again, completion: completion)
    let result = try store.search(TrackQuery())
    #expect(result.total == 1 && result.results[0].track == "T3" && result.results[0].objectClass == .person)
    #expect(try store.removeIncompleteExhibits().isEmpty)
    try store.close()
    #expect(throws: (any Error).self) { try store.search(TrackQuery()) }
  }

  @Test(arguments: TestEngine.allCases) func duplicateSHA256IsDetected(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    _ = try store.ingest(metadata(), tracks: [makeTrack()], completion: completion)
    #expect(try store.exhibit(withSHA256: String(repeating: "A", count: 64))?.id == "E1")
    #expect(throws: IndexError.duplicateExhibit(sha256: String(repeating: "a", count: 64), existing: "E1")) {
      try store.beginExhibit(metadata())
    }
    #expect(throws: IndexError.self) { try store.ingest(metadata(), tracks: [], completion: completion) }
    let exhibit = try #require(try store.exhibit("E1"))
    #expect(exhibit.metadata.camera == "north" && exhibit.completion == completion && exhibit.metadata.width == 640)
    #expect(exhibit.metadata.start.iso8601(fractionDigits: 0) == "2026-03-01T10:00:00+01:00")
  }

  @Test(arguments: TestEngine.allCases) func badExhibitsAreRefused(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    var bad = metadata()
    bad.camera = "north/../x"
    #expect(throws: IndexError.self) { try store.beginExhibit(bad) }
    bad = metadata()
    bad.sha256 = "xyz"
    #expect(throws: IndexError.invalidExhibit("SHA-256 must be 64 hexadecimal digits")) { try store.beginExhibit(bad) }
    bad = metadata()
    bad.width = 0
    #expect(throws: IndexError.self) { try store.beginExhibit(bad) }
    var outside = makeTrack()
    outside.path[0].box.x = 700
    let exhibit = try store.beginExhibit(metadata())
    #expect(throws: IndexError.self) { try store.addTracks([outside], toExhibit: exhibit) }
    #expect(throws: IndexError.exhibitNotFound("E7")) { try store.addTracks([makeTrack()], toExhibit: "E7") }
  }

  @Test(arguments: TestEngine.allCases) func deletesCascade(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    var withThumbnail = makeTrack()
    withThumbnail.thumbnail = Thumbnail(format: "png", data: Data([1, 2, 3]))
    _ = try store.ingest(metadata(), tracks: [withThumbnail, makeTrack(.person)], completion: completion)
    _ = try store.ingest(metadata(sha: "b"), tracks: [makeTrack(.busTruck)], completion: completion)
    #expect(try store.thumbnail(ofTrack: "T1") == Thumbnail(format: "png", data: Data([1, 2, 3])))
    func counts() throws -> [Int] { try store.counts(["track", "thumbnail", "search_block"]) }
    #expect(try counts() == [3, 1, 2])
    try store.deleteTrack("T1")
    #expect(try counts() == [2, 0, 2])
    #expect(try store.search(TrackQuery()).results.map(\.track) == ["T2", "T3"])
    #expect(throws: IndexError.trackNotFound("T1")) { try store.deleteTrack("T1") }
    try store.deleteExhibit("E1")
    #expect(try counts() == [1, 0, 1])
    #expect(try store.search(TrackQuery()).results.map(\.track) == ["T3"])
    #expect(throws: IndexError.exhibitNotFound("E1")) { try store.deleteExhibit("E1") }
    _ = try store.ingest(metadata(sha: "c"), tracks: [makeTrack()], completion: completion)
    #expect(try store.search(TrackQuery(exhibits: ["E3"])).results.map(\.track) == ["T4"], "ids are never reused")
  }

  @Test(arguments: TestEngine.allCases) func pathsAndBoxesRoundTrip(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    let path = pixelPath([(0, 0.2, 0.5), (0.25, 0.3, 0.5), (0.5, 0.4, 0.6)])
    let track = NewTrack(
      objectClass: .car, classConfidence: 0.9, colours: [], direction: .right, speed: 0.2, path: path)
    _ = try store.ingest(
      metadata(), tracks: [track, makeTrack(path: [(0.25, 0.5, 0.5), (0.5, 0.6, 0.6)])], completion: completion)
    #expect(try store.path(ofTrack: "T1") == path)
    let boxes = try store.boxes(ofExhibit: "E1")
    #expect(boxes.map(\.frameIndex) == [0, 6, 6, 12, 12] || boxes.map(\.frameIndex) == [0, 6, 6, 13, 13])
    #expect(boxes.map(\.track) == ["T1", "T1", "T2", "T1", "T2"])
    #expect(try store.trackCounts(ofExhibit: "E1") == [.car: 2])
    #expect(throws: IndexError.exhibitNotFound("E2")) { try store.boxes(ofExhibit: "E2") }
  }
}

/// More tracks than one search block holds.
@Suite struct BlockTests {
  @Test(arguments: TestEngine.allCases) func exhibitsLargerThanABlock(_ engine: TestEngine) throws {
    guard let store = try engine.store() else { return }
    let count = SearchBlock.capacity + 300
    // Start times decrease with the insertion order, so the blocks must be sorted by start, not by id.
    var tracks: [NewTrack] = []
    for i in 0..<count {
      let start = Double(count - i)
      let objectClass: ObjectClass = i % 2 == 0 ? .car : .person
      tracks.append(makeTrack(objectClass, from: start, to: start + 5))
    }
    let (_, ids) = try store.ingest(metadata(), tracks: tracks, completion: completion)
    let blocks = try store.read { tx in try tx.values(Int.self, "SELECT track_count FROM search_block ORDER BY block") }
    #expect(blocks == [SearchBlock.capacity, 300])
    let all = try store.search(TrackQuery(limit: 3))
    #expect(all.total == count && all.results.map(\.track) == [ids[count - 1], ids[count - 2], ids[count - 3]])
    let cars = try store.search(TrackQuery(classes: [.car], limit: 2, offset: 2000))
    #expect(cars.total == (count + 1) / 2)
    let pageStarts = cars.results.map(\.startOffset)
    #expect(pageStarts == pageStarts.sorted() && pageStarts.count == 2)
    try store.deleteTrack(ids[count - 1])
    let after = try store.search(TrackQuery(limit: 1))
    #expect(after.total == count - 1 && after.results.first?.track == ids[count - 2])
  }
}
