/// Per-pixel background estimate with its own noise level, robust to gradual light change,
/// sensor noise and small repetitive motion, with shadow suppression.
///
/// - It starts from the per-pixel median of the first frames (so a recording that opens on moving
///   objects still gets an empty-street background) and its spread (so noisy or swaying pixels get
///   a wider tolerance).
/// - Background pixels follow the picture quickly (light change); foreground pixels slowly; a pixel
///   that stays foreground for `absorbAfter` frames is taken into the background (a parked object;
///   the ghost it leaves when it goes is absorbed the same way).
/// - A pixel darker than the background by a bounded ratio with the same chroma is a shadow, not
///   foreground.
struct BackgroundModel {
  struct Settings {
    /// Learning rate of background pixels, per analysed frame.
    var backgroundRate: Float = 0.03
    /// Learning rate of foreground pixels, per analysed frame.
    var foregroundRate: Float = 0.002
    /// Foreground when the luma difference exceeds this many standard deviations…
    var sigmas: Float = 2.5
    /// …and at least this many levels.
    var minimumLumaDifference: Float = 8
    /// Foreground when the chroma difference (|ΔCb| + |ΔCr|) exceeds this.
    var chromaDifference: Float = 22
    /// Shadows: darker than the background by a ratio in this range, chroma within `shadowChroma`.
    var shadowRatio: ClosedRange<Float> = 0.65...0.92
    var shadowChroma: Float = 6
    /// Frames a pixel may stay foreground before it is absorbed into the background.
    var absorbAfter: Int = 150
    /// Pixels that keep switching between foreground and background (leaves in the wind,
    /// flicker) reach this blinking level and then need `blinkingSigmas` to be foreground.
    var blinkingLevel: Float = 0.5
    var blinkingSigmas: Float = 3
    var blinkingMinimumDifference: Float = 40
  }

  let width: Int
  let height: Int
  let settings: Settings
  private var meanY: [Float]
  private var meanCb: [Float]
  private var meanCr: [Float]
  private var varianceY: [Float]
  private var foregroundAge: [UInt16]
  /// Per pixel: how often it switched state lately (decays by 10 % per frame, +0.2 per switch).
  private var blinking: [Float]
  private var previous: [UInt8]

  /// Starts from the median and spread of `frames` (at least one).
  init(bootstrap frames: [ModelFrame], settings: Settings = Settings()) {
    precondition(!frames.isEmpty)
    width = frames[0].width
    height = frames[0].height
    self.settings = settings
    let count = width * height
    meanY = [Float](repeating: 0, count: count)
    meanCb = [Float](repeating: 0, count: count)
    meanCr = [Float](repeating: 0, count: count)
    varianceY = [Float](repeating: 25, count: count)
    foregroundAge = [UInt16](repeating: 0, count: count)
    blinking = [Float](repeating: 0, count: count)
    previous = [UInt8](repeating: 0, count: count)
    var samples = [UInt8](repeating: 0, count: frames.count)
    func median(_ plane: KeyPath<ModelFrame, [UInt8]>, _ i: Int) -> Float {
      for k in frames.indices { samples[k] = frames[k][keyPath: plane][i] }
      samples.sort()
      return Float(samples[samples.count / 2])
    }
    for i in 0..<count {
      let y = median(\.y, i)
      meanY[i] = y
      meanCb[i] = median(\.cb, i)
      meanCr[i] = median(\.cr, i)
      // Spread: median absolute deviation of luma around the median.
      for k in frames.indices { samples[k] = UInt8(min(255, abs(Int(frames[k].y[i]) - Int(y)))) }
      samples.sort()
      let mad = Float(samples[samples.count / 2]) * 1.4826
      varianceY[i] = min(400, max(9, mad * mad))
    }
  }

  /// Classifies every pixel of `frame` as foreground (1) or background (0), then learns from it.
  mutating func apply(_ frame: ModelFrame) -> Mask {
    var mask = Mask(width: width, height: height)
    var s = settings
    // Compressed or noisy footage: the whole picture differs from the background by some levels.
    // Four times the typical (40th percentile) difference is the least that counts as motion.
    s.minimumLumaDifference = min(30, max(s.minimumLumaDifference, 4 * typicalDifference(frame)))
    let absorbAfter = UInt16(min(s.absorbAfter, Int(UInt16.max)))
    frame.y.withUnsafeBufferPointer { fy in
      frame.cb.withUnsafeBufferPointer { fcb in
        frame.cr.withUnsafeBufferPointer { fcr in
          mask.bits.withUnsafeMutableBufferPointer { out in
            meanY.withUnsafeMutableBufferPointer { my in
              meanCb.withUnsafeMutableBufferPointer { mcb in
                meanCr.withUnsafeMutableBufferPointer { mcr in
                  varianceY.withUnsafeMutableBufferPointer { vy in
                    foregroundAge.withUnsafeMutableBufferPointer { age in
                     blinking.withUnsafeMutableBufferPointer { blink in
                      previous.withUnsafeMutableBufferPointer { before in
                      for i in 0..<out.count {
                        let y = Float(fy[i])
                        let cb = Float(fcb[i])
                        let cr = Float(fcr[i])
                        let dy = y - my[i]
                        let dc = abs(cb - mcb[i]) + abs(cr - mcr[i])
                        let dynamic = blink[i] > s.blinkingLevel
                        let threshold =
                          dynamic
                          ? max(s.blinkingMinimumDifference, (s.sigmas + s.blinkingSigmas) * vy[i].squareRoot())
                          : max(s.minimumLumaDifference, s.sigmas * vy[i].squareRoot())
                        var foreground = abs(dy) > threshold || dc > (dynamic ? 2 * s.chromaDifference : s.chromaDifference)
                        if foreground && dy < 0 && dc < s.shadowChroma && my[i] > 1 {
                          let ratio = y / my[i]
                          if s.shadowRatio.contains(ratio) { foreground = false }
                        }
                        let state: UInt8 = foreground ? 1 : 0
                        blink[i] = 0.9 * blink[i] + (state != before[i] ? 0.2 : 0)
                        before[i] = state
                        if foreground {
                          out[i] = 1
                          age[i] &+= 1
                          if age[i] >= absorbAfter {
                            my[i] = y
                            mcb[i] = cb
                            mcr[i] = cr
                            age[i] = 0
                          } else {
                            let rate = s.foregroundRate
                            my[i] += rate * dy
                            mcb[i] += rate * (cb - mcb[i])
                            mcr[i] += rate * (cr - mcr[i])
                          }
                        } else {
                          age[i] = 0
                          let rate = s.backgroundRate
                          my[i] += rate * dy
                          mcb[i] += rate * (cb - mcb[i])
                          mcr[i] += rate * (cr - mcr[i])
                          vy[i] = min(400, max(9, vy[i] + rate * (dy * dy - vy[i])))
                        }
                      }
                      }
                     }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return mask
  }

  /// The 40th percentile of |luma − background| over the picture (sampled every 4th pixel).
  private func typicalDifference(_ frame: ModelFrame) -> Float {
    var histogram = [Int](repeating: 0, count: 256)
    var count = 0
    frame.y.withUnsafeBufferPointer { y in
      meanY.withUnsafeBufferPointer { m in
        var i = 0
        while i < y.count {
          histogram[min(255, Int(abs(Float(y[i]) - m[i])))] += 1
          count += 1
          i += 4
        }
      }
    }
    var seen = 0
    for (value, n) in histogram.enumerated() {
      seen += n
      if seen * 10 >= count * 4 { return Float(value) }
    }
    return 0
  }

  /// Whether a blob is a ghost: a hole the background model still shows an object in (a parked
  /// car that drove off). Along the blob's outline the background has strong edges but the
  /// current picture does not; a real object is the other way round.
  func isGhost(_ box: Rect, mask: Mask, frame: ModelFrame) -> Bool {
    let x0 = max(1, Int(box.x) - 1)
    let y0 = max(1, Int(box.y) - 1)
    let x1 = min(width - 2, Int(box.maxX.rounded(.up)) + 1)
    let y1 = min(height - 2, Int(box.maxY.rounded(.up)) + 1)
    guard x0 < x1, y0 < y1 else { return false }
    var frameEdges: Float = 0
    var backgroundEdges: Float = 0
    var count = 0
    for y in y0...y1 {
      for x in x0...x1 {
        let i = y * width + x
        guard mask.bits[i] == 1,
          mask.bits[i - 1] == 0 || mask.bits[i + 1] == 0 || mask.bits[i - width] == 0 || mask.bits[i + width] == 0
        else { continue }
        frameEdges += abs(Float(frame.y[i + 1]) - Float(frame.y[i - 1]))
          + abs(Float(frame.y[i + width]) - Float(frame.y[i - width]))
        backgroundEdges += abs(meanY[i + 1] - meanY[i - 1]) + abs(meanY[i + width] - meanY[i - width])
        count += 1
      }
    }
    guard count >= 8 else { return false }
    return backgroundEdges / Float(count) > 12 && frameEdges < 0.5 * backgroundEdges
  }

  /// Takes the picture inside `box`, where `mask` is set, as background at once.
  mutating func absorb(_ box: Rect, mask: Mask, frame: ModelFrame) {
    let x0 = max(0, Int(box.x) - 2)
    let y0 = max(0, Int(box.y) - 2)
    let x1 = min(width - 1, Int(box.maxX.rounded(.up)) + 2)
    let y1 = min(height - 1, Int(box.maxY.rounded(.up)) + 2)
    guard x0 <= x1, y0 <= y1 else { return }
    for y in y0...y1 {
      for x in x0...x1 {
        let i = y * width + x
        guard mask.bits[i] == 1 else { continue }
        meanY[i] = Float(frame.y[i])
        meanCb[i] = Float(frame.cb[i])
        meanCr[i] = Float(frame.cr[i])
        foregroundAge[i] = 0
      }
    }
  }

  /// The current background as a model frame (for inspection and tests).
  var background: ModelFrame {
    func bytes(_ plane: [Float]) -> [UInt8] { plane.map { UInt8(max(0, min(255, $0.rounded()))) } }
    return ModelFrame(width: width, height: height, y: bytes(meanY), cb: bytes(meanCb), cr: bytes(meanCr))
  }
}
