import Foundation
import Media

/// The bad inputs of the foundation issue, made in a temporary folder from the Samples clip.
public struct BadFiles {
  public let folder: URL
  /// A text file renamed .mp4.
  public let textAsMP4: String
  /// A zero-byte .mp4.
  public let empty: String
  /// The first 30 % of the Samples clip.
  public let truncated: String
  /// The Samples clip with random bytes overwritten in the middle: still decodable.
  public let corruptMiddle: String
  /// A path that does not exist.
  public let missing: String
  /// A directory.
  public let directory: String
  /// A WAV file: audio only.
  public let audioOnly: String
  /// A PNG picture named .mp4.
  public let pngAsVideo: String

  /// The fatal ones, each with a word its error message must contain.
  public var fatal: [(path: String, cause: String)] {
    [
      (textAsMP4, "not a video file"), (empty, "empty file"), (truncated, "truncated"),
      (missing, "no such file"), (directory, "is a directory"), (audioOnly, "no video stream"),
      (pngAsVideo, "still image"),
    ]
  }

  public init() throws {
    let folder = try TestPaths.temporaryFolder("lrj-bad")
    self.folder = folder
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    textAsMP4 = path("notes.mp4")
    try Data("This is a statement, not a video.\n".utf8).write(to: URL(fileURLWithPath: textAsMP4))
    empty = path("empty.mp4")
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    let clip = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samplesClip))
    truncated = path("truncated.mp4")
    try clip.prefix(clip.count * 3 / 10).write(to: URL(fileURLWithPath: truncated))
    corruptMiddle = path("corrupt-middle.mp4")
    try Self.overwriteMiddle(of: clip).write(to: URL(fileURLWithPath: corruptMiddle))
    missing = path("no-such-file.mp4")
    directory = path("a-folder.mp4")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    audioOnly = path("sound.wav")
    try Self.wav(seconds: 1).write(to: URL(fileURLWithPath: audioOnly))
    pngAsVideo = path("picture.mp4")
    let picture = RGBImage(width: 64, height: 48, fill: (200, 30, 30))
    try Data(try PNG.encode(picture)).write(to: URL(fileURLWithPath: pngAsVideo))
  }

  /// Removes the folder.
  public func remove() { try? FileManager.default.removeItem(at: folder) }

  /// Overwrites eight runs of 256 pseudo-random bytes between 40 % and 60 % of the file.
  static func overwriteMiddle(of data: Data) -> Data {
    var bytes = [UInt8](data)
    var state: UInt64 = 0x1234_5678
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for k in 0..<8 {
      let start = bytes.count * (40 + k * 20 / 8) / 100
      for i in start..<(start + 256) { bytes[i] = UInt8(truncatingIfNeeded: next()) }
    }
    return Data(bytes)
  }

  /// A mono 16-bit 8 kHz WAV of a 440 Hz tone.
  static func wav(seconds: Int) -> Data {
    let rate = 8000
    let samples = (0..<(rate * seconds)).map { Int16(8000 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
    var data = Data()
    func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: Array("RIFF".utf8))
    append(UInt32(36 + samples.count * 2))
    data.append(contentsOf: Array("WAVEfmt ".utf8))
    append(UInt32(16)); append(UInt16(1)); append(UInt16(1)); append(UInt32(rate)); append(UInt32(rate * 2))
    append(UInt16(2)); append(UInt16(16))
    data.append(contentsOf: Array("data".utf8))
    append(UInt32(samples.count * 2))
    for s in samples { append(s) }
    return data
  }
}
