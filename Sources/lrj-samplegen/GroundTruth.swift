import Foundation

/// The ground truth written beside the clip: exact class, colour, direction, timing and boxes.
struct GroundTruth: Codable {
  struct Object: Codable {
    var id: Int
    var label: String
    var `class`: String
    var colour: String
    /// The colour as drawn (before light change and noise), [r, g, b].
    var rgb: [Int]
    var direction: String
    /// First and last time (s) the object is at least partly in the picture.
    var start: Double
    var end: Double
    var firstFrame: Int
    var lastFrame: Int
    /// Time spans (s) during which the object moves.
    var moving: [[Double]]
    /// Time spans (s) during which the object stands still in the picture.
    var still: [[Double]]
    /// Per frame: [frame index (0-based), x, y, w, h] in source pixels, clipped to the picture.
    var boxes: [[Int]]
  }

  var clip: String
  var generator: String
  var width: Int
  var height: Int
  var fps: Int
  var frames: Int
  var duration: Double
  var creationTime: String
  var notes: String
  var objects: [Object]
}

extension StreetScene {
  /// Eight-way direction of the net displacement, as lrj names it (y grows downwards).
  static func direction(dx: Double, dy: Double) -> String {
    guard dx * dx + dy * dy > 1 else { return "stationary" }
    let angle = atan2(-dy, dx) * 180 / Double.pi  // counter-clockwise from "right", up positive
    let names = ["right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"]
    let sector = Int(((angle + 360 + 22.5).truncatingRemainder(dividingBy: 360)) / 45)
    return names[sector]
  }

  func groundTruth(clipName: String, creationTime: String) -> GroundTruth {
    let frameCount = Int(duration * Double(fps))
    let objects = self.objects.map { object -> GroundTruth.Object in
      var boxes: [[Int]] = []
      var still: [[Double]] = []
      var moving: [[Double]] = []
      for frame in 0..<frameCount {
        let t = Double(frame) / Double(fps)
        guard let box = box(of: object, at: t) else { continue }
        let x0 = max(0, Int(box.x.rounded()))
        let y0 = max(0, Int(box.y.rounded()))
        let x1 = min(width, Int((box.x + box.w).rounded()))
        let y1 = min(height, Int((box.y + box.h).rounded()))
        guard x1 > x0, y1 > y0 else { continue }
        boxes.append([frame, x0, y0, x1 - x0, y1 - y0])
        let isMoving = object.isMoving(at: t)
        if isMoving {
          if let last = moving.last, abs(last[1] - (t - 1 / Double(fps))) < 1e-9 { moving[moving.count - 1][1] = t }
          else { moving.append([t, t]) }
        } else {
          if let last = still.last, abs(last[1] - (t - 1 / Double(fps))) < 1e-9 { still[still.count - 1][1] = t }
          else { still.append([t, t]) }
        }
      }
      let first = object.route.first!
      let last = object.route.last!
      let direction = Self.direction(
        dx: (last.x - first.x) * Double(width), dy: (last.y - first.y) * Double(height))
      return GroundTruth.Object(
        id: object.id, label: object.label, class: object.shape.rawValue, colour: object.colourName,
        rgb: [Int(object.colour.r), Int(object.colour.g), Int(object.colour.b)], direction: direction,
        start: Double(boxes.first![0]) / Double(fps), end: Double(boxes.last![0]) / Double(fps),
        firstFrame: boxes.first![0], lastFrame: boxes.last![0], moving: moving, still: still, boxes: boxes)
    }
    return GroundTruth(
      clip: clipName, generator: "lrj-samplegen 1", width: width, height: height, fps: fps, frames: frameCount,
      duration: duration, creationTime: creationTime,
      notes: "Synthetic street scene made by lrj-samplegen. Boxes are the drawn extent of each object, "
        + "clipped to the picture, including when another object hides it. Object 6 is parked from the "
        + "first frame and drives away at 22 s; object 5 stops from 12 s to 19 s; objects 3 and 4 cross. "
        + "A tree top right sways (not an object).",
      objects: objects)
  }
}
