import Foundation
import Index

/// One object of a synopsis: a track's boxes resampled at the output frame rate, from its first
/// observation to its last (Pritch et al.'s "tube" in space-time).
public struct Tube: Sendable, Hashable {
  /// The track's id (`T17`).
  public var track: String
  /// The exhibit the track was found in (`E1`).
  public var exhibit: String
  /// The track's class, shown in the index.
  public var objectClass: ObjectClass
  /// Seconds from the exhibit's first frame to the tube's first box.
  public var sourceOffset: Double
  /// Wall-clock time of the exhibit's first frame (the tube's clock times derive from it).
  public var exhibitStart: WallClockTime
  /// Boxes in source pixels, one per output frame: box `k` is at `sourceOffset + k / frameRate`,
  /// or at `boxTimes[k]` in a time-lapsed tube.
  public var boxes: [Box]
  /// Seconds from the exhibit's first frame to each box when the tube is time-lapsed (some of its
  /// source frames skipped, see `timeLapsed`); empty when box `k` is at `sourceOffset + k / frameRate`.
  public var boxTimes: [Double]

  /// Creates a tube from boxes already at the output rate (`boxTimes`, if given, one per box,
  /// increasing, the first `sourceOffset`).
  public init(track: String, exhibit: String, objectClass: ObjectClass, sourceOffset: Double, exhibitStart: WallClockTime,
              boxes: [Box], boxTimes: [Double] = []) {
    precondition(!boxes.isEmpty, "a tube has at least one box")
    precondition(boxTimes.isEmpty || boxTimes.count == boxes.count, "one time per box")
    self.track = track
    self.exhibit = exhibit
    self.objectClass = objectClass
    self.sourceOffset = sourceOffset
    self.exhibitStart = exhibitStart
    self.boxes = boxes
    self.boxTimes = boxTimes
  }

  /// Creates a tube by resampling a stored path (times in seconds from the exhibit's first frame)
  /// at `frameRate`, interpolating boxes between samples.
  /// - Returns: `nil` for an empty path.
  public init?(track: String, exhibit: String, objectClass: ObjectClass, exhibitStart: WallClockTime, path: [PathSample],
               frameRate: Double) {
    guard let first = path.first, let last = path.last, frameRate > 0 else { return nil }
    let count = max(1, Int(((last.time - first.time) * frameRate).rounded()) + 1)
    var boxes: [Box] = []
    boxes.reserveCapacity(count)
    var j = 0
    for k in 0..<count {
      let t = first.time + Double(k) / frameRate
      while j + 1 < path.count && path[j + 1].time <= t { j += 1 }
      if j + 1 < path.count {
        let a = path[j]
        let b = path[j + 1]
        let f = b.time > a.time ? min(1, max(0, (t - a.time) / (b.time - a.time))) : 0
        boxes.append(Box(x: a.box.x + (b.box.x - a.box.x) * f, y: a.box.y + (b.box.y - a.box.y) * f,
                         width: a.box.width + (b.box.width - a.box.width) * f,
                         height: a.box.height + (b.box.height - a.box.height) * f))
      } else {
        boxes.append(path[j].box)
      }
    }
    self.init(track: track, exhibit: exhibit, objectClass: objectClass, sourceOffset: first.time,
              exhibitStart: exhibitStart, boxes: boxes)
  }

  /// Seconds from the exhibit's first frame to box `k`.
  public func sourceTime(ofBox k: Int, frameRate: Double) -> Double {
    boxTimes.isEmpty ? sourceOffset + Double(k) / frameRate : boxTimes[k]
  }

  /// The tube with its still stretches played faster (Pritch et al. allow a tube's speed to
  /// change): wherever the object stays put (centre and size within `tolerance` of its larger
  /// side of where the stretch began) for `minimumFrames` or more, only every `speedup`-th box is
  /// kept, and the stretch's last. Moving parts keep every box. Each kept box keeps its own source
  /// time (`boxTimes`), so the clock drawn beside it stays true; the first and last times do not
  /// change. Returns the tube itself when nothing is still long enough or `speedup` is 1 or less.
  public func timeLapsed(frameRate: Double, speedup: Int, minimumFrames: Int, tolerance: Double) -> Tube {
    guard speedup > 1, boxes.count >= max(2, minimumFrames) else { return self }
    var keep: [Int] = []
    keep.reserveCapacity(boxes.count)
    var k = 0
    while k < boxes.count {
      let anchor = boxes[k]
      let margin = tolerance * max(anchor.width, anchor.height)
      var end = k + 1
      while end < boxes.count && boxes[end].isNear(anchor, within: margin) { end += 1 }
      if end - k >= max(2, minimumFrames) {
        keep += Swift.stride(from: k, to: end - 1, by: speedup)
        keep.append(end - 1)
        k = end
      } else {
        keep.append(k)
        k += 1
      }
    }
    guard keep.count < boxes.count else { return self }
    return Tube(track: track, exhibit: exhibit, objectClass: objectClass, sourceOffset: sourceOffset,
                exhibitStart: exhibitStart, boxes: keep.map { boxes[$0] },
                boxTimes: keep.map { sourceTime(ofBox: $0, frameRate: frameRate) })
  }

  /// The wall-clock time of box `k`.
  public func clockTime(ofBox k: Int, frameRate: Double) -> WallClockTime {
    WallClockTime(date: exhibitStart.date.addingTimeInterval(sourceTime(ofBox: k, frameRate: frameRate)),
                  utcOffsetSeconds: exhibitStart.utcOffsetSeconds)
  }

  /// Seconds since 1970 of the first box: the common timeline of tubes from several exhibits.
  var timelineStart: Double { exhibitStart.date.timeIntervalSince1970 + sourceOffset }
}

extension Box {
  /// The area shared with `other`, in square pixels.
  @inlinable func overlapArea(_ other: Box) -> Double {
    let w = min(x + width, other.x + other.width) - max(x, other.x)
    guard w > 0 else { return 0 }
    let h = min(y + height, other.y + other.height) - max(y, other.y)
    return h > 0 ? w * h : 0
  }

  /// The box grown by `fraction` of its larger side on every edge.
  func expanded(by fraction: Double) -> Box {
    let m = fraction * max(width, height)
    return Box(x: x - m, y: y - m, width: width + 2 * m, height: height + 2 * m)
  }

  var area: Double { max(0, width) * max(0, height) }

  /// Whether centre, width and height are each within `margin` of `other`'s.
  func isNear(_ other: Box, within margin: Double) -> Bool {
    abs((x + width / 2) - (other.x + other.width / 2)) <= margin
      && abs((y + height / 2) - (other.y + other.height / 2)) <= margin
      && abs(width - other.width) <= margin && abs(height - other.height) <= margin
  }
}
