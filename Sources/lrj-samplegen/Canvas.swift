import Media

/// An RGB colour.
struct RGB: Sendable, Hashable {
  var r: UInt8
  var g: UInt8
  var b: UInt8

  init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  func scaled(_ factor: Double) -> RGB {
    func s(_ v: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(v) * factor).rounded()))) }
    return RGB(s(r), s(g), s(b))
  }
}

/// A deterministic random generator (SplitMix64), so that the clip is the same on every run.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A packed RGB drawing surface with clipped filled shapes.
struct Canvas {
  let width: Int
  let height: Int
  var pixels: [UInt8]

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
  }

  var image: RGBImage { RGBImage(width: width, height: height, pixels: pixels) }

  mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = (y * width + x) * 3
    pixels[i] = c.r
    pixels[i + 1] = c.g
    pixels[i + 2] = c.b
  }

  /// Fills the axis-aligned rectangle [x0, x1) x [y0, y1), clipped to the canvas.
  mutating func fillRect(x0: Double, y0: Double, x1: Double, y1: Double, _ c: RGB) {
    let left = max(0, Int(x0.rounded()))
    let right = min(width, Int(x1.rounded()))
    let top = max(0, Int(y0.rounded()))
    let bottom = min(height, Int(y1.rounded()))
    guard left < right, top < bottom else { return }
    pixels.withUnsafeMutableBufferPointer { p in
      for y in top..<bottom {
        var i = (y * width + left) * 3
        for _ in left..<right {
          p[i] = c.r
          p[i + 1] = c.g
          p[i + 2] = c.b
          i += 3
        }
      }
    }
  }

  /// Fills the ellipse centred at (cx, cy) with radii rx, ry.
  mutating func fillEllipse(cx: Double, cy: Double, rx: Double, ry: Double, _ c: RGB) {
    guard rx > 0, ry > 0 else { return }
    let top = max(0, Int((cy - ry).rounded(.down)))
    let bottom = min(height - 1, Int((cy + ry).rounded(.up)))
    guard top <= bottom else { return }
    for y in top...bottom {
      let dy = (Double(y) + 0.5 - cy) / ry
      guard abs(dy) <= 1 else { continue }
      let half = rx * (1 - dy * dy).squareRoot()
      fillRect(x0: cx - half, y0: Double(y), x1: cx + half, y1: Double(y + 1), c)
    }
  }
}
