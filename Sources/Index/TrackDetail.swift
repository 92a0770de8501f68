import Foundation

/// Everything the store knows about one track beyond its ids, kept sealed in `track.detail`.
///
/// Format (version 1), little-endian: `UInt8` 1; `UInt8` class and `UInt8` direction (indexes in
/// `ObjectClass.allCases`, `Direction.allCases`); `Float64` class confidence, speed, start and end offsets,
/// start and end UTC, largest box area fraction; 8 × `Float64` first and last box (x, y, width, height);
/// `UInt32` frame width and height; `UInt8` colour count, then per colour `UInt8` index in
/// `Colour.allCases` and `Float64` fraction; then the path as ``PathCodec`` writes it.
struct TrackDetail: Equatable {
  var objectClass: ObjectClass
  var direction: Direction
  var classConfidence: Double
  var speed: Double
  var startOffset: Double
  var endOffset: Double
  var startUTC: Double
  var endUTC: Double
  var maxArea: Double
  var firstBox: Box
  var lastBox: Box
  var frameWidth: Int
  var frameHeight: Int
  /// Largest fraction first (ties by name), as searches list them.
  var colours: [ColourFraction]
  /// The stored path (``PathCodec`` bytes, times from the track's start).
  var path: Data

  var duration: Double { endOffset - startOffset }

  static let version: UInt8 = 1
  private static let classes = ObjectClass.allCases
  private static let directions = Direction.allCases
  private static let colourCases = Colour.allCases

  func encoded() -> Data {
    var out = Data()
    out.reserveCapacity(160 + path.count)
    out.append(Self.version)
    out.append(UInt8(Self.classes.firstIndex(of: objectClass)!))
    out.append(UInt8(Self.directions.firstIndex(of: direction)!))
    func put(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
    func put32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { out.append(contentsOf: $0) } }
    for value in [classConfidence, speed, startOffset, endOffset, startUTC, endUTC, maxArea] { put(value) }
    for box in [firstBox, lastBox] { for value in [box.x, box.y, box.width, box.height] { put(value) } }
    put32(frameWidth)
    put32(frameHeight)
    out.append(UInt8(colours.count))
    for colour in colours {
      out.append(UInt8(Self.colourCases.firstIndex(of: colour.colour)!))
      put(colour.fraction)
    }
    out.append(path)
    return out
  }

  init(
    objectClass: ObjectClass, direction: Direction, classConfidence: Double, speed: Double, startOffset: Double,
    endOffset: Double, startUTC: Double, endUTC: Double, maxArea: Double, firstBox: Box, lastBox: Box, frameWidth: Int,
    frameHeight: Int, colours: [ColourFraction], path: Data
  ) {
    self.objectClass = objectClass
    self.direction = direction
    self.classConfidence = classConfidence
    self.speed = speed
    self.startOffset = startOffset
    self.endOffset = endOffset
    self.startUTC = startUTC
    self.endUTC = endUTC
    self.maxArea = maxArea
    self.firstBox = firstBox
    self.lastBox = lastBox
    self.frameWidth = frameWidth
    self.frameHeight = frameHeight
    self.colours = colours.sorted { ($0.fraction, $1.colour.rawValue) > ($1.fraction, $0.colour.rawValue) }
    self.path = path
  }

  /// Decodes `encoded()` bytes. - Throws: ``IndexError/corruptData(_:)`` naming `what`.
  init(decoding data: Data, what: String) throws {
    let bytes = [UInt8](data)
    var at = 0
    func fail() -> IndexError { .corruptData("the stored detail of \(what)") }
    func byte() throws -> UInt8 {
      guard at < bytes.count else { throw fail() }
      defer { at += 1 }
      return bytes[at]
    }
    func double() throws -> Double {
      guard at + 8 <= bytes.count else { throw fail() }
      var bits: UInt64 = 0
      for k in 0..<8 { bits |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
      at += 8
      return Double(bitPattern: bits)
    }
    func int32() throws -> Int {
      guard at + 4 <= bytes.count else { throw fail() }
      var bits: UInt32 = 0
      for k in 0..<4 { bits |= UInt32(bytes[at + k]) << (8 * UInt32(k)) }
      at += 4
      return Int(bits)
    }
    guard try byte() == Self.version else { throw fail() }
    let classIndex = Int(try byte())
    let directionIndex = Int(try byte())
    guard classIndex < Self.classes.count, directionIndex < Self.directions.count else { throw fail() }
    objectClass = Self.classes[classIndex]
    direction = Self.directions[directionIndex]
    classConfidence = try double()
    speed = try double()
    startOffset = try double()
    endOffset = try double()
    startUTC = try double()
    endUTC = try double()
    maxArea = try double()
    firstBox = Box(x: try double(), y: try double(), width: try double(), height: try double())
    lastBox = Box(x: try double(), y: try double(), width: try double(), height: try double())
    frameWidth = try int32()
    frameHeight = try int32()
    var colours: [ColourFraction] = []
    for _ in 0..<Int(try byte()) {
      let index = Int(try byte())
      guard index < Self.colourCases.count else { throw fail() }
      colours.append(ColourFraction(Self.colourCases[index], try double()))
    }
    self.colours = colours
    path = Data(bytes[at...])
    guard path.count >= 1, (path.count - 1) % PathCodec.recordSize == 0 else { throw fail() }
  }
}

/// Sealing contexts of the store's objects, and sealing with the store's errors.
enum SealContext {
  static func track(_ row: Int64) -> String { "track \(Identifier.track(row))" }
  static func blockData(exhibit: Int64, block: Int64) -> String { "search block \(Identifier.exhibit(exhibit))/\(block) records" }
  static func blockPaths(exhibit: Int64, block: Int64) -> String { "search block \(Identifier.exhibit(exhibit))/\(block) paths" }
  static func zone(camera: Int64, name: String) -> String { "zone \(camera)/\(name)" }
}

extension IndexSealing {
  /// Seals bytes; a failure is ``IndexError/sealed(_:)``.
  func sealed(_ data: Data, context: String) throws -> Data {
    do { return try seal(data, context: context) } catch { throw IndexError.sealed("cannot seal \(context): \(error)") }
  }

  /// Opens bytes; a failure is ``IndexError/sealed(_:)``.
  func opened(_ data: Data, context: String) throws -> Data {
    do { return try open(data, context: context) } catch { throw IndexError.sealed("\(context) does not open: \(error)") }
  }

  /// Opens and decodes a track's detail.
  func detail(row: Int64, sealed: Data) throws -> TrackDetail {
    try TrackDetail(decoding: try opened(sealed, context: SealContext.track(row)), what: Identifier.track(row))
  }
}
