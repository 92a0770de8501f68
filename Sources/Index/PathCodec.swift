import Foundation

/// The packed form of a track's path, kept in its sealed detail (``TrackDetail``).
///
/// Format (version 1): one byte `1`, then for each sample 24 bytes, little-endian:
/// `UInt32` frame index, `Float32` seconds since the track's first sample, `Float32` x, y, width, height of
/// the box in source pixels. A track's first sample time is `track.start_offset` (a `REAL`), so times keep
/// double precision where it matters and sub-millisecond precision within a track of up to hours.
enum PathCodec {
  static let version: UInt8 = 1
  static let recordSize = 24

  static func encode(_ path: [PathSample]) -> Data {
    var bytes = [UInt8](repeating: 0, count: 1 + recordSize * path.count)
    bytes[0] = version
    let origin = path.first?.time ?? 0
    bytes.withUnsafeMutableBytes { raw in
      for (index, sample) in path.enumerated() {
        let base = 1 + index * recordSize
        raw.storeBytes(of: UInt32(sample.frameIndex).littleEndian, toByteOffset: base, as: UInt32.self)
        func put(_ k: Int, _ value: Double) {
          raw.storeBytes(of: Float(value).bitPattern.littleEndian, toByteOffset: base + 4 + 4 * k, as: UInt32.self)
        }
        put(0, sample.time - origin)
        put(1, sample.box.x)
        put(2, sample.box.y)
        put(3, sample.box.width)
        put(4, sample.box.height)
      }
    }
    return Data(bytes)
  }

  /// Calls `body` with each sample's frame index, time (seconds from the exhibit's first frame) and box.
  static func forEach(
    _ data: Data, startOffset: Double, _ body: (_ frameIndex: Int, _ time: Double, _ box: Box) throws -> Void
  ) throws {
    guard data.count >= 1, (data.count - 1) % recordSize == 0 else {
      throw IndexError.corruptData("a path blob of \(data.count) bytes")
    }
    try data.withUnsafeBytes { raw in
      guard raw[0] == version else { throw IndexError.corruptData("a path blob of version \(raw[0])") }
      let count = (raw.count - 1) / recordSize
      for index in 0..<count {
        let base = 1 + index * recordSize
        let frame = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt32.self))
        func float(_ k: Int) -> Double {
          Double(
            Float(
              bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 + 4 * k, as: UInt32.self))))
        }
        try body(Int(frame), startOffset + float(0), Box(x: float(1), y: float(2), width: float(3), height: float(4)))
      }
    }
  }

  static func decode(_ data: Data, startOffset: Double) throws -> [PathSample] {
    var result: [PathSample] = []
    try forEach(data, startOffset: startOffset) { result.append(PathSample(time: $1, frameIndex: $0, box: $2)) }
    return result
  }
}
