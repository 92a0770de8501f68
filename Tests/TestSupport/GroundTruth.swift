import Foundation

/// The Samples ground truth (Samples/street.json).
public struct SamplesTruth: Decodable, Sendable {
  public struct Object: Decodable, Sendable {
    public var id: Int
    public var label: String
    public var `class`: String
    public var colour: String
    public var rgb: [Int]
    public var direction: String
    public var start: Double
    public var end: Double
    public var moving: [[Double]]
    public var boxes: [[Int]]

    /// Boxes from the first moving frame on (a parked object is background until it moves).
    public func judgedBoxes(fps: Int) -> [[Int]] {
      let firstMoving = Int(((moving.first?.first ?? start) * Double(fps)).rounded())
      return boxes.filter { $0[0] >= firstMoving }
    }
  }

  public var width: Int
  public var height: Int
  public var fps: Int
  public var frames: Int
  public var objects: [Object]

  public static func load() throws -> SamplesTruth {
    try JSONDecoder().decode(SamplesTruth.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.samplesTruth)))
  }
}

/// A box of a track in one frame, as MOT lines give them (0-based frame index here).
public struct TrackBox: Sendable {
  public var frame: Int
  public var track: Int
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double

  public init(frame: Int, track: Int, x: Double, y: Double, width: Double, height: Double) {
    self.frame = frame
    self.track = track
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  /// Parses MOTChallenge lines (`frame,id,x,y,w,h,...`, 1-based frames).
  public static func parseMOT(_ text: String) -> [TrackBox] {
    text.split(separator: "\n").compactMap { line in
      let p = line.split(separator: ",").compactMap { Double($0) }
      guard p.count >= 6 else { return nil }
      return TrackBox(frame: Int(p[0]) - 1, track: Int(p[1]), x: p[2], y: p[3], width: p[4], height: p[5])
    }
  }

  public func iou(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Double {
    let iw = min(self.x + width, x + w) - max(self.x, x)
    let ih = min(self.y + height, y + h) - max(self.y, y)
    guard iw > 0, ih > 0 else { return 0 }
    let inter = iw * ih
    return inter / (width * height + w * h - inter)
  }
}

/// How the tracks cover one ground-truth object.
public struct Coverage: Sendable {
  /// Frames of the object each track overlaps with IoU ≥ 0.3.
  public var framesByTrack: [Int: Int]
  public var frames: Int

  /// The track covering most frames.
  public var best: Int? { framesByTrack.max { $0.value < $1.value }?.key }
  /// Share of the object's frames the best track covers.
  public var bestShare: Double { best.map { Double(framesByTrack[$0]!) / Double(max(1, frames)) } ?? 0 }
  /// Tracks covering at least 10 % of the object's frames.
  public var significantTracks: [Int] {
    framesByTrack.filter { Double($0.value) >= 0.1 * Double(frames) }.map(\.key).sorted()
  }

  /// Coverage of `boxes` (`[frame, x, y, w, h]`) by `tracks`.
  public static func of(_ boxes: [[Int]], by tracks: [TrackBox]) -> Coverage {
    var byFrame: [Int: [TrackBox]] = [:]
    for box in tracks { byFrame[box.frame, default: []].append(box) }
    var counts: [Int: Int] = [:]
    for b in boxes {
      for t in byFrame[b[0]] ?? [] where t.iou(Double(b[1]), Double(b[2]), Double(b[3]), Double(b[4])) >= 0.3 {
        counts[t.track, default: 0] += 1
      }
    }
    return Coverage(framesByTrack: counts, frames: boxes.count)
  }
}
