import Foundation

/// A box in source pixels: left, top, width, height. Encoded in JSON as `[x, y, w, h]`.
public struct Box: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double

  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  public init(from decoder: any Decoder) throws {
    var container = try decoder.unkeyedContainer()
    x = try container.decode(Double.self)
    y = try container.decode(Double.self)
    width = try container.decode(Double.self)
    height = try container.decode(Double.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.unkeyedContainer()
    try container.encode(x)
    try container.encode(y)
    try container.encode(width)
    try container.encode(height)
  }

  /// The ground position (bottom-centre), normalised by the frame size.
  func groundPoint(frameWidth: Double, frameHeight: Double) -> Point {
    Point(x: (x + width / 2) / frameWidth, y: (y + height) / frameHeight)
  }

  public var description: String { "[\(x), \(y), \(width), \(height)]" }
}

/// One of a track's top colours and the fraction of its foreground pixels that have it.
public struct ColourFraction: Sendable, Hashable, Codable {
  public var colour: Colour
  public var fraction: Double

  public init(_ colour: Colour, _ fraction: Double) {
    self.colour = colour
    self.fraction = fraction
  }
}

/// One stored observation of a track: when (seconds from the exhibit's first frame), which decoded frame,
/// and the box in source pixels.
public struct PathSample: Sendable, Hashable, Codable {
  public var time: Double
  public var frameIndex: Int
  public var box: Box

  public init(time: Double, frameIndex: Int, box: Box) {
    self.time = time
    self.frameIndex = frameIndex
    self.box = box
  }
}

/// An encoded image of a track (for example a PNG, or sealed bytes written by Consultation).
public struct Thumbnail: Sendable, Hashable, Codable {
  /// What the bytes are, for example `png` or `sealed-png`: 1…32 characters.
  public var format: String
  public var data: Data

  public init(format: String, data: Data) {
    self.format = format
    self.data = data
  }
}

/// Turns a thumbnail into what is stored for track `track` (for example its sealed bytes).
public typealias ThumbnailSealer = (_ track: String, _ thumbnail: Thumbnail) throws -> Thumbnail

/// What Ingest knows about an exhibit when it starts reading it.
public struct ExhibitMetadata: Sendable, Hashable, Codable {
  /// The file's path at ingest (Ingest stores the absolute path, so the original footage can be
  /// found again for extracts and synopses; its SHA-256 proves it is the same file).
  public var fileName: String
  /// SHA-256 of the file's bytes, 64 lower-case hexadecimal digits.
  public var sha256: String
  public var sizeBytes: Int64
  /// Container format, as FFmpeg names it (for example `mov,mp4,m4a,3gp,3g2,mj2`).
  public var container: String
  /// Video codec, as FFmpeg names it (for example `h264`).
  public var codec: String
  /// Source frame size in pixels; boxes are in this coordinate system.
  public var width: Int
  public var height: Int
  public var fps: Double
  /// The camera's name: 1…64 letters, digits, `-`, `_`, `.` or spaces. Created on first use.
  public var camera: String
  /// Wall-clock time of the first frame, and the UTC offset of the place it was recorded.
  public var start: WallClockTime

  public init(
    fileName: String, sha256: String, sizeBytes: Int64, container: String, codec: String, width: Int, height: Int,
    fps: Double, camera: String, start: WallClockTime
  ) {
    self.fileName = fileName
    self.sha256 = sha256
    self.sizeBytes = sizeBytes
    self.container = container
    self.codec = codec
    self.width = width
    self.height = height
    self.fps = fps
    self.camera = camera
    self.start = start
  }
}

/// What Ingest knows about an exhibit when it has finished reading it.
public struct ExhibitCompletion: Sendable, Hashable, Codable {
  /// Seconds from the first to the last decoded frame.
  public var duration: Double
  public var framesDecoded: Int
  public var skippedPackets: Int

  public init(duration: Double, framesDecoded: Int, skippedPackets: Int) {
    self.duration = duration
    self.framesDecoded = framesDecoded
    self.skippedPackets = skippedPackets
  }
}

/// An exhibit as stored.
public struct Exhibit: Sendable, Hashable, Codable {
  /// `E1`, `E2`… assigned by the store, never reused within a procedure.
  public var id: String
  public var metadata: ExhibitMetadata
  /// Nil while the ingest is in progress (the exhibit is then invisible to searches).
  public var completion: ExhibitCompletion?
  public var ingestedAt: Date

  public init(id: String, metadata: ExhibitMetadata, completion: ExhibitCompletion?, ingestedAt: Date) {
    self.id = id
    self.metadata = metadata
    self.completion = completion
    self.ingestedAt = ingestedAt
  }

  /// True once the ingest committed; only complete exhibits are searched.
  public var isComplete: Bool { completion != nil }
}

/// A track to store: Ingest's description of one moving object.
///
/// The path must hold the first and the last observation of the object (they give its start, end, first and
/// last box) and samples in between at 4 Hz or more; it may hold every frame's box, which makes the MOT
/// export complete. Times and frame indices must increase.
public struct NewTrack: Sendable, Hashable, Codable {
  public var objectClass: ObjectClass
  /// 0…1.
  public var classConfidence: Double
  /// Top colours, most frequent first; fractions in 0…1 and summing to at most 1.
  public var colours: [ColourFraction]
  public var direction: Direction
  /// Mean speed in image widths per second.
  public var speed: Double
  public var path: [PathSample]
  /// Largest box area as a fraction of the frame; computed from the path when nil.
  public var maxBoxAreaFraction: Double?
  public var thumbnail: Thumbnail?

  public init(
    objectClass: ObjectClass, classConfidence: Double, colours: [ColourFraction], direction: Direction,
    speed: Double, path: [PathSample], maxBoxAreaFraction: Double? = nil, thumbnail: Thumbnail? = nil
  ) {
    self.objectClass = objectClass
    self.classConfidence = classConfidence
    self.colours = colours
    self.direction = direction
    self.speed = speed
    self.path = path
    self.maxBoxAreaFraction = maxBoxAreaFraction
    self.thumbnail = thumbnail
  }
}

/// A search hit, with the fields of `lrj search --json` (DESIGN.md §9). The JSON keys are a contract:
/// `track`, `exhibit`, `camera`, `class`, `classConfidence`, `colours`, `direction`, `speed`, `start`, `end`,
/// `startOffset`, `endOffset`, `firstBox`, `lastBox`, `frameWidth`, `frameHeight`, and for zone rules
/// `zoneFirst` and `zoneLast`.
public struct TrackSummary: Sendable, Hashable, Codable {
  /// `T17`.
  public var track: String
  /// `E1`.
  public var exhibit: String
  public var camera: String
  public var objectClass: ObjectClass
  public var classConfidence: Double
  public var colours: [ColourFraction]
  public var direction: Direction
  /// Image widths per second.
  public var speed: Double
  /// Wall-clock time of the first observation, with the exhibit's UTC offset.
  public var start: WallClockTime
  public var end: WallClockTime
  /// Seconds from the exhibit's first frame.
  public var startOffset: Double
  public var endOffset: Double
  /// In source pixels.
  public var firstBox: Box
  public var lastBox: Box
  public var frameWidth: Int
  public var frameHeight: Int
  /// For zone rules: the first and last instants the rule held, in seconds from the exhibit's first frame.
  public var zoneFirst: Double?
  public var zoneLast: Double?

  public init(
    track: String, exhibit: String, camera: String, objectClass: ObjectClass, classConfidence: Double,
    colours: [ColourFraction], direction: Direction, speed: Double, start: WallClockTime, end: WallClockTime,
    startOffset: Double, endOffset: Double, firstBox: Box, lastBox: Box, frameWidth: Int, frameHeight: Int,
    zoneFirst: Double? = nil, zoneLast: Double? = nil
  ) {
    self.track = track
    self.exhibit = exhibit
    self.camera = camera
    self.objectClass = objectClass
    self.classConfidence = classConfidence
    self.colours = colours
    self.direction = direction
    self.speed = speed
    self.start = start
    self.end = end
    self.startOffset = startOffset
    self.endOffset = endOffset
    self.firstBox = firstBox
    self.lastBox = lastBox
    self.frameWidth = frameWidth
    self.frameHeight = frameHeight
    self.zoneFirst = zoneFirst
    self.zoneLast = zoneLast
  }

  enum CodingKeys: String, CodingKey {
    case track, exhibit, camera
    case objectClass = "class"
    case classConfidence, colours, direction, speed, start, end, startOffset, endOffset, firstBox, lastBox
    case frameWidth, frameHeight, zoneFirst, zoneLast
  }
}

/// A page of search hits and the total number of hits.
public struct SearchResult: Sendable, Hashable, Codable {
  public var total: Int
  public var results: [TrackSummary]

  public init(total: Int, results: [TrackSummary]) {
    self.total = total
    self.results = results
  }
}

/// One stored box of one track, for exports such as MOTChallenge.
public struct ExhibitBox: Sendable, Hashable {
  public var frameIndex: Int
  /// Seconds from the exhibit's first frame.
  public var time: Double
  public var track: String
  public var box: Box

  public init(frameIndex: Int, time: Double, track: String, box: Box) {
    self.frameIndex = frameIndex
    self.time = time
    self.track = track
    self.box = box
  }
}

/// A zone saved under a name for a camera.
public struct SavedZone: Sendable, Hashable {
  public var name: String
  public var zone: Zone
  public var savedAt: Date
}

/// Identifiers shown to users: `E` or `T` followed by the row number.
enum Identifier {
  static func exhibit(_ row: Int64) -> String { "E\(row)" }
  static func track(_ row: Int64) -> String { "T\(row)" }

  /// The row number of `E12`/`e12` (prefix "E") or nil.
  static func row(of text: String, prefix: Character) -> Int64? {
    guard let head = text.first, head.uppercased() == String(prefix) else { return nil }
    let digits = text.dropFirst()
    guard !digits.isEmpty, digits.count <= 18, digits.first != "0", digits.allSatisfy({ $0.isASCII && $0.isNumber })
    else { return nil }
    return Int64(digits)
  }
}
