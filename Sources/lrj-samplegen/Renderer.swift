import Foundation
import Media

/// Draws the street scene frame by frame: a textured static background, a swaying tree, the
/// objects in depth order, a slow change of light and sensor noise.
struct SceneRenderer {
  let scene: StreetScene
  private let background: Canvas
  private var noise = SplitMix64(seed: 0x5EED_0002)

  init(scene: StreetScene) {
    self.scene = scene
    background = Self.paintBackground(width: scene.width, height: scene.height)
  }

  /// Global light level at time t: a slow swell of ±6 % over the clip.
  func gain(at t: Double) -> Double { 1 + 0.06 * sin(2 * Double.pi * t / scene.duration) }

  mutating func frame(at t: Double) -> RGBImage {
    var canvas = background
    drawTree(&canvas, at: t)
    let visible = scene.objects.compactMap { object in scene.box(of: object, at: t).map { (object, $0) } }
    for (object, box) in visible.sorted(by: { $0.1.y + $0.1.h < $1.1.y + $1.1.h }) {
      draw(object, box: box, at: t, on: &canvas)
    }
    applyLightAndNoise(&canvas, gain: gain(at: t))
    return canvas.image
  }

  // MARK: - Background

  private static func paintBackground(width: Int, height: Int) -> Canvas {
    var canvas = Canvas(width: width, height: height)
    var rng = SplitMix64(seed: 0x5EED_0001)
    let w = Double(width)
    let h = Double(height)
    // Building facade with a grid of windows.
    canvas.fillRect(x0: 0, y0: 0, x1: w, y1: 0.28 * h, RGB(150, 140, 125))
    for column in stride(from: 20.0, to: w, by: 80) {
      for row in stride(from: 14.0, to: 0.28 * h - 44, by: 62) {
        canvas.fillRect(x0: column, y0: row, x1: column + 30, y1: row + 40, RGB(72, 78, 88))
      }
    }
    // Far pavement, curb, road with a dashed centre line, curb, near pavement.
    canvas.fillRect(x0: 0, y0: 0.28 * h, x1: w, y1: 0.42 * h, RGB(165, 165, 160))
    canvas.fillRect(x0: 0, y0: 0.42 * h, x1: w, y1: 0.42 * h + 4, RGB(200, 200, 195))
    canvas.fillRect(x0: 0, y0: 0.42 * h + 4, x1: w, y1: 0.80 * h, RGB(85, 85, 88))
    for x in stride(from: 0.0, to: w, by: 120) {
      canvas.fillRect(x0: x, y0: 0.61 * h - 3, x1: x + 60, y1: 0.61 * h + 3, RGB(215, 215, 205))
    }
    canvas.fillRect(x0: 0, y0: 0.80 * h, x1: w, y1: 0.80 * h + 4, RGB(200, 200, 195))
    canvas.fillRect(x0: 0, y0: 0.80 * h + 4, x1: w, y1: h, RGB(175, 172, 165))
    for x in stride(from: 0.0, to: w, by: 64) {
      canvas.fillRect(x0: x, y0: 0.80 * h + 4, x1: x + 2, y1: h, RGB(150, 148, 142))
    }
    for y in stride(from: 0.80 * h + 40, to: h, by: 48) {
      canvas.fillRect(x0: 0, y0: y, x1: w, y1: y + 2, RGB(150, 148, 142))
    }
    for x in stride(from: 0.0, to: w, by: 40) {
      canvas.fillRect(x0: x, y0: 0.28 * h, x1: x + 2, y1: 0.42 * h, RGB(145, 145, 140))
    }
    // Tree trunk (the crown sways and is drawn per frame).
    canvas.fillRect(x0: 0.885 * w, y0: 0.12 * h, x1: 0.9 * w, y1: 0.36 * h, RGB(90, 66, 42))
    // Static texture: coarse blotches plus fine grain.
    var coarse = [Int](repeating: 0, count: (width / 16 + 2) * (height / 16 + 2))
    for i in coarse.indices { coarse[i] = Int(rng.next() % 17) - 8 }
    let coarseWidth = width / 16 + 2
    canvas.pixels.withUnsafeMutableBufferPointer { p in
      for y in 0..<height {
        for x in 0..<width {
          let delta = coarse[(y / 16) * coarseWidth + x / 16] + Int(rng.next() % 9) - 4
          let i = (y * width + x) * 3
          for c in 0..<3 { p[i + c] = UInt8(clamping: Int(p[i + c]) + delta) }
        }
      }
    }
    return canvas
  }

  private func drawTree(_ canvas: inout Canvas, at t: Double) {
    let w = Double(scene.width)
    let h = Double(scene.height)
    let leaves = [RGB(60, 112, 52), RGB(45, 92, 40), RGB(72, 124, 60)]
    for k in 0..<9 {
      let phase = Double(k) * 0.7
      let sway = 3.5 * sin(2 * Double.pi * 0.6 * t + phase)
      let cx = 0.892 * w + 55 * cos(Double(k) * 2.1) + sway
      let cy = 0.13 * h + 40 * sin(Double(k) * 1.7)
      canvas.fillEllipse(cx: cx, cy: cy, rx: 42, ry: 34, leaves[k % 3])
    }
  }

  // MARK: - Objects

  private func draw(_ object: SceneObject, box: (x: Double, y: Double, w: Double, h: Double), at t: Double,
                    on canvas: inout Canvas) {
    let (x, y, w, h) = box
    let dark = RGB(38, 38, 42)
    let glass = RGB(48, 58, 70)
    let tyre = RGB(18, 18, 18)
    switch object.shape {
    case .person:
      let stride = object.isMoving(at: t) ? sin(t * 2 * Double.pi * 1.8) : 0
      canvas.fillEllipse(cx: x + w / 2, cy: y + 0.075 * h, rx: 0.2 * w, ry: 0.075 * h, RGB(58, 52, 48))
      canvas.fillRect(x0: x + 0.05 * w, y0: y + 0.15 * h, x1: x + 0.95 * w, y1: y + 0.7 * h, object.colour)
      let swing = 0.1 * w * stride
      canvas.fillRect(x0: x + 0.2 * w + swing, y0: y + 0.7 * h, x1: x + 0.45 * w + swing, y1: y + h, dark)
      canvas.fillRect(x0: x + 0.55 * w - swing, y0: y + 0.7 * h, x1: x + 0.8 * w - swing, y1: y + h, dark)
    case .car:
      let front = object.heading(at: t)
      let cabinLeft = front > 0 ? 0.18 : 0.24
      canvas.fillRect(x0: x, y0: y + 0.36 * h, x1: x + w, y1: y + 0.84 * h, object.colour)
      canvas.fillRect(x0: x + cabinLeft * w, y0: y, x1: x + (cabinLeft + 0.58) * w, y1: y + 0.4 * h, object.colour)
      canvas.fillRect(x0: x + (cabinLeft + 0.05) * w, y0: y + 0.06 * h, x1: x + (cabinLeft + 0.53) * w,
                      y1: y + 0.34 * h, glass)
      canvas.fillEllipse(cx: x + 0.2 * w, cy: y + 0.82 * h, rx: 0.075 * w, ry: 0.18 * h, tyre)
      canvas.fillEllipse(cx: x + 0.8 * w, cy: y + 0.82 * h, rx: 0.075 * w, ry: 0.18 * h, tyre)
    case .twoWheeler:
      canvas.fillEllipse(cx: x + 0.2 * w, cy: y + 0.83 * h, rx: 0.17 * w, ry: 0.17 * h, tyre)
      canvas.fillEllipse(cx: x + 0.8 * w, cy: y + 0.83 * h, rx: 0.17 * w, ry: 0.17 * h, tyre)
      canvas.fillRect(x0: x + 0.2 * w, y0: y + 0.6 * h, x1: x + 0.8 * w, y1: y + 0.74 * h, object.colour)
      canvas.fillRect(x0: x + 0.3 * w, y0: y + 0.15 * h, x1: x + 0.7 * w, y1: y + 0.6 * h, object.colour)
      canvas.fillEllipse(cx: x + 0.5 * w, cy: y + 0.08 * h, rx: 0.12 * w, ry: 0.08 * h, RGB(58, 52, 48))
    case .busTruck:
      canvas.fillRect(x0: x, y0: y, x1: x + w, y1: y + 0.88 * h, object.colour)
      for k in 0..<7 {
        let left = x + (0.06 + Double(k) * 0.128) * w
        canvas.fillRect(x0: left, y0: y + 0.12 * h, x1: left + 0.1 * w, y1: y + 0.4 * h, glass)
      }
      canvas.fillEllipse(cx: x + 0.15 * w, cy: y + 0.88 * h, rx: 0.05 * w, ry: 0.12 * h, tyre)
      canvas.fillEllipse(cx: x + 0.85 * w, cy: y + 0.88 * h, rx: 0.05 * w, ry: 0.12 * h, tyre)
    }
  }

  // MARK: - Light and sensor noise

  private mutating func applyLightAndNoise(_ canvas: inout Canvas, gain: Double) {
    let scaledGain = Int(gain * 256)
    var rng = noise
    canvas.pixels.withUnsafeMutableBufferPointer { p in
      var i = 0
      while i < p.count {
        let r = rng.next()
        // Triangular noise of about ±3 levels per channel.
        for c in 0..<3 {
          let a = Int((r >> (c * 16)) & 7)
          let b = Int((r >> (c * 16 + 8)) & 7)
          let value = (Int(p[i + c]) * scaledGain) >> 8 + (a + b - 7) / 2
          p[i + c] = UInt8(clamping: value)
        }
        i += 3
      }
    }
    noise = rng
  }
}
