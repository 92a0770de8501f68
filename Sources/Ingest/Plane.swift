/// A picture at model resolution: three 8-bit planes of the same size.
struct ModelFrame {
  let width: Int
  let height: Int
  var y: [UInt8]
  var cb: [UInt8]
  var cr: [UInt8]
}

/// A binary image (0 or 1 per pixel).
struct Mask {
  let width: Int
  let height: Int
  var bits: [UInt8]

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    bits = [UInt8](repeating: 0, count: width * height)
  }
}

/// An axis-aligned rectangle in some pixel space.
struct Rect: Equatable {
  var x: Double
  var y: Double
  var width: Double
  var height: Double

  var maxX: Double { x + width }
  var maxY: Double { y + height }
  var centreX: Double { x + width / 2 }
  var centreY: Double { y + height / 2 }
  var area: Double { max(0, width) * max(0, height) }

  func intersectionArea(_ other: Rect) -> Double {
    let w = min(maxX, other.maxX) - max(x, other.x)
    let h = min(maxY, other.maxY) - max(y, other.y)
    return w > 0 && h > 0 ? w * h : 0
  }

  func iou(_ other: Rect) -> Double {
    let inter = intersectionArea(other)
    let union = area + other.area - inter
    return union > 0 ? inter / union : 0
  }

  func union(_ other: Rect) -> Rect {
    let left = min(x, other.x)
    let top = min(y, other.y)
    return Rect(x: left, y: top, width: max(maxX, other.maxX) - left, height: max(maxY, other.maxY) - top)
  }

  /// Linear interpolation between two rectangles.
  static func mix(_ a: Rect, _ b: Rect, _ f: Double) -> Rect {
    Rect(x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f, width: a.width + (b.width - a.width) * f,
         height: a.height + (b.height - a.height) * f)
  }
}
