import Foundation
import Logging
import Store

extension IndexStore {
  // MARK: Search

  /// Runs a search: the total number of hits and the requested page, ordered by start time then track id.
  ///
  /// Only complete exhibits are searched. The count and the page come from one read transaction, so they
  /// agree even while another process ingests. Attribute filters are evaluated on the search blocks; a zone
  /// rule is then evaluated on the ground path of each remaining track whose path comes near the zone (its
  /// bounding box and occupancy cells say which).
  /// - Throws: ``QueryError`` for a bad query (including unknown cameras or exhibits), ``IndexError`` for
  ///   storage failures.
  public func search(_ query: TrackQuery) throws -> SearchResult {
    try query.validate()
    return try read { tx in
      let context = try SearchContext(tx)
      guard let allowed = try context.allowedExhibits(for: query) else { return SearchResult(total: 0, results: []) }
      if let zone = query.zone {
        return try zoneSearch(tx, query: query, zone: zone, exhibits: allowed, context: context)
      }
      var matches = try scanBlocks(tx, query: query, exhibits: allowed)
      let total = matches.count
      let wanted = query.offset >= total ? total : min(total, query.offset + query.limit)
      selectSmallest(&matches, count: wanted)
      let page = matches[min(query.offset, wanted)..<wanted].map(\.id)
      return SearchResult(total: total, results: try summaries(tx, rows: page, context: context))
    }
  }

  /// The tracks of the given exhibits that pass the query's attribute filters.
  private func scanBlocks(_ tx: any StoreTransaction, query: TrackQuery, exhibits: [Int64]) throws -> [SearchBlock.Match] {
    let filter = SearchBlock.Filter(query, cells: nil)
    var matches: [SearchBlock.Match] = []
    let blocks = try blockReferences(tx, query: query, exhibits: exhibits)
    try forEachOpened(tx, blocks, part: 0) { _, data in
      try data.withUnsafeBytes { try SearchBlock.scan($0, filter: filter, into: &matches) }
    }
    let unsure = matches.filter(\.needsColourCheck).map(\.id)
    if !unsure.isEmpty {
      let confirmed = try confirmColours(tx, query: query, rows: unsure)
      matches.removeAll { $0.needsColourCheck && !confirmed.contains($0.id) }
    }
    return matches
  }

  /// Colour thresholds that are not whole percentages: decides the borderline tracks on their details.
  private func confirmColours(_ tx: any StoreTransaction, query: TrackQuery, rows: [Int64]) throws -> Set<Int64> {
    var confirmed = Set<Int64>()
    for (row, detail) in try details(tx, rows: rows)
    where detail.colours.contains(where: { query.colours.contains($0.colour) && $0.fraction >= query.minColourFraction }) {
      confirmed.insert(row)
    }
    return confirmed
  }

  /// The opened details of these tracks (those that exist), by row.
  func details(_ tx: any StoreTransaction, rows: [Int64]) throws -> [Int64: TrackDetail] {
    var result: [Int64: TrackDetail] = [:]
    for chunk in stride(from: 0, to: rows.count, by: 500).map({ rows[$0..<min(rows.count, $0 + 500)] }) {
      try tx.forEachRow("SELECT id, detail FROM track WHERE id IN (\(chunk.map(String.init).joined(separator: ",")))", []) { row in
        let id: Int64 = try row.get(0)
        result[id] = try sealing.detail(row: id, sealed: try row.get(1))
      }
    }
    return result
  }

  /// A zone search: the block scan keeps the tracks that pass the attribute filters and whose ground path
  /// comes near the zone (bounding box and occupancy cells), then the rule is evaluated on their paths.
  private func zoneSearch(
    _ tx: any StoreTransaction, query: TrackQuery, zone: ZoneQuery, exhibits: [Int64], context: SearchContext
  ) throws -> SearchResult {
    let filter = SearchBlock.Filter(query, cells: SearchBlock.cells(of: zone.zone.shape))
    let grids = ZoneGrids(zone)
    var hits: [(match: SearchBlock.Match, first: Double, last: Double)] = []
    var path: [PathPoint] = []
    var candidates: [(base: Int, needsCheck: Bool)] = []
    var evaluated = 0
    let clock = ContinuousClock()
    let started = clock.now
    // The records first; the paths only of blocks where a track comes near the zone.
    let blocks = try blockReferences(tx, query: query, exhibits: exhibits)
    var near: [(reference: BlockReference, records: Data, candidates: [(base: Int, needsCheck: Bool)])] = []
    try forEachOpened(tx, blocks, part: 0) { reference, data in
      candidates.removeAll(keepingCapacity: true)
      try data.withUnsafeBytes { records in try SearchBlock.visit(records, filter: filter) { candidates.append(($0, $1)) } }
      if !candidates.isEmpty { near.append((reference, data, candidates)) }
    }
    var byBlock: [Int64: [Int64: Int]] = [:]
    for (index, entry) in near.enumerated() { byBlock[entry.reference.exhibit, default: [:]][entry.reference.block] = index }
    try forEachOpened(tx, near.map(\.reference), part: 1) { reference, paths in
      let entry = near[byBlock[reference.exhibit]![reference.block]!]
      let candidates = entry.candidates
      evaluated += candidates.count
      try entry.records.withUnsafeBytes { records in
        try paths.withUnsafeBytes { paths in
          for candidate in candidates {
            try SearchBlock.groundPath(record: records, base: candidate.base, paths: paths, into: &path)
            if let held = zone.evaluate(path, grids: grids) {
              let match = SearchBlock.Match(
                start: SearchBlock.double(records, candidate.base + 8),
                id: Int64(littleEndian: records.loadUnaligned(fromByteOffset: candidate.base, as: Int64.self)),
                needsColourCheck: candidate.needsCheck)
              hits.append((match, held.first, held.last))
            }
          }
        }
      }
    }
    let unsure = hits.filter(\.match.needsColourCheck).map(\.match.id)
    if !unsure.isEmpty {
      let confirmed = try confirmColours(tx, query: query, rows: unsure)
      hits.removeAll { $0.match.needsColourCheck && !confirmed.contains($0.match.id) }
    }
    logger.debug(
      "zone search",
      metadata: ["evaluated": "\(evaluated)", "hits": "\(hits.count)", "seconds": "\(clock.now - started)"])
    hits.sort { ($0.match.start, $0.match.id) < ($1.match.start, $1.match.id) }
    let page = hits.dropFirst(query.offset).prefix(query.limit)
    var results = try summaries(tx, rows: page.map(\.match.id), context: context)
    for (index, hit) in page.enumerated() where index < results.count {
      results[index].zoneFirst = hit.first
      results[index].zoneLast = hit.last
    }
    return SearchResult(total: hits.count, results: results)
  }

  /// Reorders `matches` so that its first `count` elements are the smallest by (start, id), sorted.
  private func selectSmallest(_ matches: inout [SearchBlock.Match], count: Int) {
    func less(_ a: SearchBlock.Match, _ b: SearchBlock.Match) -> Bool { (a.start, a.id) < (b.start, b.id) }
    guard count > 0 else { return }
    if count * 8 >= matches.count {
      matches.sort(by: less)
      return
    }
    // Quickselect the count smallest to the front, then sort them.
    var low = 0
    var high = matches.count - 1
    var generator = SystemRandomNumberGenerator()
    while low < high {
      let pivot = matches[Int.random(in: low...high, using: &generator)]
      var i = low
      var j = high
      while i <= j {
        while less(matches[i], pivot) { i += 1 }
        while less(pivot, matches[j]) { j -= 1 }
        if i <= j {
          matches.swapAt(i, j)
          i += 1
          j -= 1
        }
      }
      if count - 1 <= j { high = j } else if count - 1 >= i { low = i } else { break }
    }
    matches[0..<count].sort(by: less)
  }

  /// Builds the summaries of these tracks, in the given order.
  func summaries(_ tx: any StoreTransaction, rows: [Int64], context: SearchContext) throws -> [TrackSummary] {
    guard !rows.isEmpty else { return [] }
    let details = try details(tx, rows: rows)
    var routes: [Int64: (exhibit: Int64, camera: Int64)] = [:]
    for row in try tx.rows("SELECT id, exhibit_id, camera_id FROM track WHERE id IN (\(rows.map(String.init).joined(separator: ",")))", []) {
      routes[try row.get(0)] = (try row.get(1), try row.get(2))
    }
    return rows.compactMap { id in
      guard let detail = details[id], let route = routes[id] else { return nil }
      let offset = context.exhibits[route.exhibit]?.utcOffset ?? 0
      return TrackSummary(
        track: Identifier.track(id), exhibit: Identifier.exhibit(route.exhibit),
        camera: context.cameraNames[route.camera] ?? "", objectClass: detail.objectClass,
        classConfidence: detail.classConfidence, colours: detail.colours, direction: detail.direction, speed: detail.speed,
        start: WallClockTime(date: Date(timeIntervalSince1970: detail.startUTC), utcOffsetSeconds: offset),
        end: WallClockTime(date: Date(timeIntervalSince1970: detail.endUTC), utcOffsetSeconds: offset),
        startOffset: detail.startOffset, endOffset: detail.endOffset, firstBox: detail.firstBox, lastBox: detail.lastBox,
        frameWidth: detail.frameWidth, frameHeight: detail.frameHeight, zoneFirst: nil, zoneLast: nil)
    }
  }

  // MARK: Tracks

  /// The tracks of complete exhibits whose ground path's bounding box meets the zone's bounding box, from
  /// the search blocks' records: a quick spatial preselection (a superset of the tracks a zone rule can
  /// match), in id order.
  /// - Throws: ``QueryError`` for a bad shape or an unknown camera.
  public func tracks(near zone: Zone) throws -> [String] {
    try zone.shape.validate()
    let box = zone.shape.bounds
    return try read { tx in
      let context = try SearchContext(tx)
      guard let camera = context.cameraIDs[zone.camera] else {
        throw QueryError.unknownValue(kind: "camera", value: zone.camera, valid: context.cameraIDs.keys.sorted())
      }
      let exhibits = context.exhibits.filter { $0.value.camera == camera }.keys.map(String.init).joined(separator: ",")
      guard !exhibits.isEmpty else { return [] }
      var rows: [Int64] = []
      try tx.forEachRow("SELECT exhibit_id, block, data FROM search_block WHERE exhibit_id IN (\(exhibits))", []) { row in
        let data = try sealing.opened(try row.get(2), context: SealContext.blockData(exhibit: try row.get(0), block: try row.get(1)))
        data.withUnsafeBytes { records in
          let count = (records.count - 1) / SearchBlock.recordSize
          for index in 0..<count {
            let base = 1 + index * SearchBlock.recordSize
            guard Double(SearchBlock.float(records, base + 92)) >= box.minX, Double(SearchBlock.float(records, base + 88)) <= box.maxX,
              Double(SearchBlock.float(records, base + 100)) >= box.minY, Double(SearchBlock.float(records, base + 96)) <= box.maxY
            else { continue }
            rows.append(Int64(littleEndian: records.loadUnaligned(fromByteOffset: base, as: Int64.self)))
          }
        }
      }
      return rows.sorted().map(Identifier.track)
    }
  }

  /// Whether a track of a complete exhibit has this id (its ids only: nothing sealed is opened).
  /// - Throws: ``IndexError/invalidIdentifier(_:)``.
  public func containsTrack(_ track: String) throws -> Bool {
    let row = try Self.visibleTrackRow(track)
    return try read { tx in
      try tx.row("SELECT 1 FROM track t JOIN exhibit e ON e.id = t.exhibit_id WHERE t.id = ? AND e.complete = 1", row) != nil
    }
  }

  /// One track of a complete exhibit, or nil. - Throws: ``IndexError/invalidIdentifier(_:)``.
  public func track(_ track: String) throws -> TrackSummary? {
    let row = try Self.visibleTrackRow(track)
    return try read { tx in
      let context = try SearchContext(tx)
      guard let exhibit = try tx.value(Int64.self, "SELECT exhibit_id FROM track WHERE id = ?", row),
        context.exhibits[exhibit] != nil
      else { return nil }
      return try summaries(tx, rows: [row], context: context).first
    }
  }

  /// A track's stored path: every stored observation, in time order.
  /// - Throws: ``IndexError/trackNotFound(_:)``.
  public func path(ofTrack track: String) throws -> [PathSample] {
    let row = try Self.visibleTrackRow(track)
    return try read { tx in
      try Self.requireVisibleTrack(tx, row: row, id: track)
      guard let detail = try details(tx, rows: [row])[row] else { throw IndexError.trackNotFound(track) }
      return try PathCodec.decode(detail.path, startOffset: detail.startOffset)
    }
  }

  /// Every stored box of every track of a complete exhibit, ordered by frame index then track: the input of a
  /// MOTChallenge export. The export is complete when Ingest stored every frame's box (see ``NewTrack``).
  /// - Throws: ``IndexError/exhibitNotFound(_:)``.
  public func boxes(ofExhibit exhibit: String) throws -> [ExhibitBox] {
    guard let exhibitRow = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    return try read { tx in
      guard try tx.value(Int.self, "SELECT complete FROM exhibit WHERE id = ?", exhibitRow) == 1 else {
        throw IndexError.exhibitNotFound(exhibit)
      }
      var result: [(row: Int64, box: ExhibitBox)] = []
      try tx.forEachRow("SELECT id, detail FROM track WHERE exhibit_id = ?", [.integer(exhibitRow)]) { row in
        let id: Int64 = try row.get(0)
        let name = Identifier.track(id)
        let detail = try sealing.detail(row: id, sealed: try row.get(1))
        try PathCodec.forEach(detail.path, startOffset: detail.startOffset) { frame, time, box in
          result.append((id, ExhibitBox(frameIndex: frame, time: time, track: name, box: box)))
        }
      }
      result.sort { ($0.box.frameIndex, $0.row) < ($1.box.frameIndex, $1.row) }
      return result.map(\.box)
    }
  }

  /// The number of tracks of each class in an exhibit (complete or being ingested).
  /// - Throws: ``IndexError/exhibitNotFound(_:)``.
  public func trackCounts(ofExhibit exhibit: String) throws -> [ObjectClass: Int] {
    guard let exhibitRow = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    return try read { tx in
      guard try tx.row("SELECT 1 FROM exhibit WHERE id = ?", exhibitRow) != nil else {
        throw IndexError.exhibitNotFound(exhibit)
      }
      var counts: [ObjectClass: Int] = [:]
      try tx.forEachRow("SELECT id, detail FROM track WHERE exhibit_id = ?", [.integer(exhibitRow)]) { row in
        counts[try sealing.detail(row: try row.get(0), sealed: try row.get(1)).objectClass, default: 0] += 1
      }
      return counts
    }
  }

  // MARK: Exhibits and cameras

  /// The exhibit with this SHA-256, complete or not (an incomplete one is the leftover of an interrupted
  /// ingest). Use it to detect a re-ingest of the same file.
  public func exhibit(withSHA256 sha256: String) throws -> Exhibit? {
    try read { tx in
      try tx.row("\(Self.exhibitSelect) WHERE e.sha256 = ?", sha256.lowercased()).map(Self.exhibit)
    }
  }

  /// An exhibit by id (`E1`), complete or not, or nil.
  public func exhibit(_ id: String) throws -> Exhibit? {
    guard let row = Identifier.row(of: id, prefix: "E") else { throw IndexError.invalidIdentifier(id) }
    return try read { tx in
      try tx.row("\(Self.exhibitSelect) WHERE e.id = ?", row).map(Self.exhibit)
    }
  }

  /// The exhibits, in id order; incomplete ones (ingest in progress or interrupted) only when asked.
  public func exhibits(includingIncomplete: Bool = false) throws -> [Exhibit] {
    try read { tx in
      try tx.rows("\(Self.exhibitSelect) \(includingIncomplete ? "" : "WHERE e.complete = 1") ORDER BY e.id", []).map(Self.exhibit)
    }
  }

  /// The camera names, sorted.
  public func cameras() throws -> [String] {
    try read { tx in try tx.values(String.self, "SELECT name FROM camera ORDER BY name") }
  }

  static let exhibitSelect = """
    SELECT e.id, e.file_name, e.sha256, e.size_bytes, e.container, e.codec, e.width, e.height, e.fps, c.name,
      e.start_utc, e.utc_offset, e.ingested_at, e.duration, e.frames_decoded, e.skipped_packets, e.complete
    FROM exhibit e JOIN camera c ON c.id = e.camera_id
    """

  static func exhibit(_ row: StoreRow) throws -> Exhibit {
    let metadata = ExhibitMetadata(
      fileName: try row.get(1), sha256: try row.get(2), sizeBytes: try row.get(3), container: try row.get(4),
      codec: try row.get(5), width: try row.get(6), height: try row.get(7), fps: try row.get(8), camera: try row.get(9),
      start: WallClockTime(date: Date(timeIntervalSince1970: try row.get(10)), utcOffsetSeconds: try row.get(11)))
    let completion =
      try row.get(16, as: Int.self) == 1
      ? ExhibitCompletion(duration: try row.get(13), framesDecoded: try row.get(14), skippedPackets: try row.get(15)) : nil
    return Exhibit(
      id: Identifier.exhibit(try row.get(0)), metadata: metadata, completion: completion,
      ingestedAt: Date(timeIntervalSince1970: try row.get(12)))
  }

  // MARK: Zones

  /// Saves a zone under a name for its camera, so queries can use `@name`.
  /// - Parameter replacing: replace a zone of the same name and camera instead of failing.
  /// - Throws: ``QueryError`` for a bad shape or an unknown camera, ``IndexError/invalidName(_:)``, and
  ///   ``IndexError/storage(_:)`` when the name is taken and `replacing` is false.
  public func saveZone(_ zone: Zone, name: String, replacing: Bool = false) throws {
    try zone.shape.validate()
    try Self.validateName(name, what: "zone")
    let (kind, points): (String, [Point]) =
      switch zone.shape {
      case .polygon(let points): ("polygon", points)
      case .line(let a, let b): ("line", [a, b])
      }
    let shape = try JSONEncoder().encode(StoredZoneShape(kind: kind, points: points))
    let now = clock()
    try write { tx in
      guard let camera = try tx.value(Int64.self, "SELECT id FROM camera WHERE name = ?", zone.camera) else {
        throw QueryError.unknownValue(
          kind: "camera", value: zone.camera, valid: try tx.values(String.self, "SELECT name FROM camera ORDER BY name"))
      }
      if !replacing, try tx.row("SELECT 1 FROM zone WHERE camera_id = ? AND name = ?", camera, name) != nil {
        throw IndexError.invalidName("a zone \(name) is already saved for camera \(zone.camera) (--replace to replace it)")
      }
      try tx.execute(
        """
        INSERT INTO zone (camera_id, name, shape, saved_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (camera_id, name) DO UPDATE SET shape = excluded.shape, saved_at = excluded.saved_at
        """,
        camera, name, try sealing.sealed(shape, context: SealContext.zone(camera: camera, name: name)), now.timeIntervalSince1970)
    }
  }

  /// The zone saved under this name for this camera, or nil.
  public func zone(named name: String, camera: String) throws -> Zone? {
    try read { tx in
      try tx.row(
        """
        SELECT z.name, z.camera_id, z.shape, z.saved_at, c.name FROM zone z JOIN camera c ON c.id = z.camera_id
        WHERE z.name = ? AND c.name = ?
        """, name, camera
      ).map { try savedZone($0).zone }
    }
  }

  /// The zones saved for a camera (or for every camera), by camera then name.
  public func zones(camera: String? = nil) throws -> [SavedZone] {
    try read { tx in
      try tx.rows(
        """
        SELECT z.name, z.camera_id, z.shape, z.saved_at, c.name FROM zone z JOIN camera c ON c.id = z.camera_id
        \(camera == nil ? "" : "WHERE c.name = ?") ORDER BY c.name, z.name
        """, camera.map { [.text($0)] } ?? []
      ).map(savedZone)
    }
  }

  /// Deletes a saved zone. - Returns: whether it existed.
  @discardableResult
  public func deleteZone(named name: String, camera: String) throws -> Bool {
    try write { tx in
      try tx.execute("DELETE FROM zone WHERE name = ? AND camera_id = (SELECT id FROM camera WHERE name = ?)", name, camera) > 0
    }
  }

  func savedZone(_ row: StoreRow) throws -> SavedZone {
    let name: String = try row.get(0)
    let clear = try sealing.opened(try row.get(2), context: SealContext.zone(camera: try row.get(1), name: name))
    guard let stored = try? JSONDecoder().decode(StoredZoneShape.self, from: clear) else {
      throw IndexError.corruptData("zone @\(name)")
    }
    let points = stored.points
    let shape: ZoneShape = stored.kind == "line" && points.count == 2 ? .line(points[0], points[1]) : .polygon(points)
    return SavedZone(
      name: name, zone: Zone(camera: try row.get(4), shape: shape, name: name),
      savedAt: Date(timeIntervalSince1970: try row.get(3)))
  }
}

/// What a search needs to know about the procedure: complete exhibits and camera names.
struct SearchContext {
  struct ExhibitInfo {
    var camera: Int64
    var utcOffset: Int
  }

  var exhibits: [Int64: ExhibitInfo] = [:]
  var cameraNames: [Int64: String] = [:]
  var cameraIDs: [String: Int64] = [:]

  init(_ tx: any StoreTransaction) throws {
    for row in try tx.rows("SELECT id, camera_id, utc_offset FROM exhibit WHERE complete = 1", []) {
      exhibits[try row.get(0)] = ExhibitInfo(camera: try row.get(1), utcOffset: try row.get(2))
    }
    for row in try tx.rows("SELECT id, name FROM camera", []) {
      cameraNames[try row.get(0)] = try row.get(1)
      cameraIDs[try row.get(1)] = try row.get(0)
    }
  }

  /// The complete exhibits the query may match (its cameras, exhibits and zone camera), in id order; nil
  /// when none can.
  /// - Throws: ``QueryError/unknownValue(kind:value:valid:)`` for an unknown camera or exhibit.
  func allowedExhibits(for query: TrackQuery) throws -> [Int64]? {
    var cameras = Set<Int64>()
    let knownCameras = cameraIDs.keys.sorted()
    for name in query.cameras {
      guard let id = cameraIDs[name] else {
        throw QueryError.unknownValue(kind: "camera", value: name, valid: knownCameras)
      }
      cameras.insert(id)
    }
    if let zone = query.zone {
      guard let id = cameraIDs[zone.zone.camera] else {
        throw QueryError.unknownValue(kind: "camera", value: zone.zone.camera, valid: knownCameras)
      }
      if !query.cameras.isEmpty && !cameras.contains(id) { return nil }
      cameras = [id]
    }
    var allowed = Set(exhibits.keys)
    if !query.exhibits.isEmpty {
      var requested = Set<Int64>()
      let valid = exhibits.keys.sorted().map(Identifier.exhibit)
      for text in query.exhibits {
        guard let row = Identifier.row(of: text, prefix: "E"), exhibits[row] != nil else {
          throw QueryError.unknownValue(kind: "exhibit", value: text, valid: valid)
        }
        requested.insert(row)
      }
      allowed.formIntersection(requested)
    }
    if !cameras.isEmpty { allowed = allowed.filter { cameras.contains(exhibits[$0]!.camera) } }
    return allowed.isEmpty ? nil : allowed.sorted()
  }
}
