import Crypto
import Foundation
import Index
import Media

/// Search filters as a user writes them (command line, later the web console); parsed and
/// checked by the Index's `QueryParser`. Empty fields do not filter.
public struct SearchFilters: Sendable {
  public var classes: [String] = []
  public var colours: [String] = []
  public var minColourFraction: String?
  public var directions: [String] = []
  public var cameras: [String] = []
  public var exhibits: [String] = []
  public var from: String?
  public var to: String?
  public var minDuration: String?
  public var minSpeed: String?
  public var maxSpeed: String?
  public var minSize: String?
  /// A polygon `"x,y x,y x,y ..."`, a line `"x,y x,y"` or `@name`, of the camera in `cameras`.
  public var zone: String?
  /// `enters` (default for a polygon), `exits`, `inside`, `dwell:SECONDS`, `crosses[:side]` (default for a line),
  /// `from:@ZONE`.
  public var zoneRule: String?
  public var limit = 100
  public var offset = 0

  public init() {}
}

/// What `extract` wrote.
public struct ExtractReport: Sendable, Codable {
  public var track: String
  public var exhibit: String
  public internal(set) var file: String
  public var sha256: String
  /// Seconds from the exhibit's first frame.
  public var from: Double
  public var to: Double
  public var streamCopied: Bool
  public var frames: Int
}

extension ProcedureWorkspace {
  /// Tracks matching `filters`, ordered by start time, with the total count.
  /// - Throws: `QueryError` (bad or refused biometric terms, malformed zones, unknown values) or `IndexError`.
  func search(_ filters: SearchFilters) throws -> SearchResult {
    try store.search(try query(filters))
  }

  /// The `TrackQuery` for `filters`.
  func query(_ filters: SearchFilters) throws -> TrackQuery {
    var query = TrackQuery()
    for text in filters.classes { query.classes.formUnion(try QueryParser.objectClasses(text)) }
    for text in filters.colours { query.colours.formUnion(try QueryParser.colours(text)) }
    for text in filters.directions { query.directions.formUnion(try QueryParser.directions(text)) }
    query.cameras = Set(filters.cameras)
    query.exhibits = Set(try filters.exhibits.map(QueryParser.exhibitID))
    if let text = filters.minColourFraction { query.minColourFraction = try QueryParser.fraction(text, what: "colour fraction") }
    let range = try QueryParser.timeRange(from: filters.from, to: filters.to)
    query.from = range.from?.date
    query.to = range.to?.date
    query.minDuration = try filters.minDuration.map { try QueryParser.seconds($0, what: "minimum duration") }
    query.minSpeed = try filters.minSpeed.map { try QueryParser.fraction($0, what: "minimum speed") }
    query.maxSpeed = try filters.maxSpeed.map { try QueryParser.fraction($0, what: "maximum speed") }
    query.minSize = try filters.minSize.map { try QueryParser.fraction($0, what: "minimum size") }
    if let text = filters.zone {
      guard filters.cameras.count == 1, let camera = filters.cameras.first else {
        throw ProcedureError("a zone belongs to one camera: give exactly one --camera with --zone")
      }
      let zone = try QueryParser.zone(text, camera: camera, lookup: store.zone(named:camera:))
      let defaultRule: String = if case .line = zone.shape { "crosses" } else { "enters" }
      let rule = try QueryParser.zoneRule(filters.zoneRule ?? defaultRule, camera: camera, lookup: store.zone(named:camera:))
      query.zone = ZoneQuery(zone: zone, rule: rule)
    } else if filters.zoneRule != nil {
      throw ProcedureError("--zone-rule needs a --zone")
    }
    query.limit = filters.limit
    query.offset = filters.offset
    try query.validate()
    return query
  }

  /// Saves a zone of a camera under a name, for `@name` in later searches.
  func saveZone(_ text: String, name: String, camera: String, replacing: Bool) throws {
    let zone = try QueryParser.zone(text, camera: camera, lookup: store.zone(named:camera:))
    try store.saveZone(zone, name: name, replacing: replacing)
  }

  /// A track's thumbnail (PNG bytes).
  func thumbnail(track text: String) throws -> Data {
    let track = try QueryParser.trackID(text)
    guard try store.track(track) != nil else { throw ProcedureError("no track \(track) in procedure \(id)") }
    guard let thumbnail = try store.thumbnail(ofTrack: track) else {
      throw ProcedureError("track \(track) has no thumbnail")
    }
    guard thumbnail.format.hasPrefix(Self.sealedPrefix), let opener else {
      throw ProcedureError("the thumbnail of track \(track) is not sealed to the procedure's key")
    }
    return try opener.open(thumbnail.data, context: "thumbnail \(track)")
  }

  /// Writes the original footage around a track to `output` (MP4: stream copy when the codec
  /// allows, else re-encoded), after checking that the exhibit file is the one ingested.
  func extract(track text: String, margin: Double, to output: String) throws -> ExtractReport {
    let trackID = try QueryParser.trackID(text)
    guard margin.isFinite, margin >= 0, margin <= 600 else {
      throw ProcedureError("--margin must be between 0 and 600 seconds")
    }
    guard let track = try store.track(trackID) else { throw ProcedureError("no track \(trackID) in procedure \(id)") }
    guard let exhibit = try store.exhibit(track.exhibit) else { throw ProcedureError("no exhibit \(track.exhibit)") }
    let source = try verifiedFootage(of: exhibit)
    let result = try SpanCopier.copy(
      input: source, output: output, from: max(0, track.startOffset - margin), to: track.endOffset + margin)
    return ExtractReport(
      track: trackID, exhibit: exhibit.id, file: output, sha256: try SHA256Hex.ofFile(output), from: result.from,
      to: result.to, streamCopied: result.streamCopied, frames: result.frames)
  }

}

/// SHA-256 digests in lower-case hex: exhibits, exports, the capability manifest.
public enum SHA256Hex {
  /// The digest of `data`.
  public static func of(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

  /// The digest of a file, read in 1 MiB chunks.
  public static func ofFile(_ path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return hex(hasher.finalize())
  }

  /// Lower-case hex of any bytes.
  public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    bytes.map { String(format: "%02x", $0) }.joined()
  }
}
