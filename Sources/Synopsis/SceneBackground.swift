import Foundation
import Index
import Logging
import Media

/// How backgrounds are built.
public struct BackgroundSettings: Sendable, Hashable {
  /// Seconds between two sampled frames (more for long footage, see `maxSamples`).
  public var sampleInterval = 6.0
  /// The most frames sampled in one exhibit.
  public var maxSamples = 160
  /// The most frames one median is taken over.
  public var samplesPerMedian = 15
  /// Change of light, in luma levels (median over an 8 x 8 grid of block means), that starts a
  /// new background.
  public var lightChange = 10.0

  /// Creates the default settings.
  public init() {}
}

/// The scene without its moving objects: one picture per stretch of constant light, each the
/// per-pixel temporal median of frames sampled across the stretch, ignoring the pixels that a
/// tracked object covers in a sample.
public struct SceneBackground: Sendable {
  /// A background picture and the source time (seconds from the exhibit's first frame) from which it holds.
  public struct Segment: Sendable {
    public var from: Double
    public var picture: YUVImage
  }

  /// Segments in time order; the first holds from the start.
  public var segments: [Segment]

  /// Creates a background from segments (at least one).
  public init(segments: [Segment]) {
    precondition(!segments.isEmpty, "a background has at least one picture")
    self.segments = segments.sorted { $0.from < $1.from }
  }

  /// The background picture at source time `time`.
  public func picture(at time: Double) -> YUVImage {
    var chosen = segments[0]
    for segment in segments.dropFirst() where segment.from <= time { chosen = segment }
    return chosen.picture
  }

  /// Per-pixel median of `samples` (same size, 4:2:0), where each pixel ignores the samples in
  /// which it lies in one of that sample's `occupied` boxes (unless every sample is occupied there).
  public static func median(_ samples: [YUVImage], occupied: [[Box]]) -> YUVImage {
    precondition(!samples.isEmpty && samples.count == occupied.count, "one list of boxes per sample")
    let width = samples[0].width
    let height = samples[0].height
    let masks: [[UInt8]] = occupied.map { boxes in
      var mask = [UInt8](repeating: 0, count: width * height)
      for box in boxes {
        let grown = box.expanded(by: 0.1)
        let x0 = max(0, Int(grown.x)), x1 = min(width, Int((grown.x + grown.width).rounded(.up)))
        let y0 = max(0, Int(grown.y)), y1 = min(height, Int((grown.y + grown.height).rounded(.up)))
        guard x0 < x1, y0 < y1 else { continue }
        for y in y0..<y1 { for x in x0..<x1 { mask[y * width + x] = 1 } }
      }
      return mask
    }
    func plane(_ pick: (YUVImage) -> GrayImage, factor: Int) -> GrayImage {
      let planes = samples.map { pick($0).pixels }
      let w = pick(samples[0]).width
      let h = pick(samples[0]).height
      let n = samples.count
      // Samples interleaved per pixel, and the mask under each, for a cache-friendly inner loop.
      var values = [UInt8](repeating: 0, count: w * h * n)
      var hidden = [UInt8](repeating: 0, count: w * h * n)
      for j in 0..<n {
        planes[j].withUnsafeBufferPointer { p in
          masks[j].withUnsafeBufferPointer { m in
            values.withUnsafeMutableBufferPointer { v in
              hidden.withUnsafeMutableBufferPointer { o in
                for y in 0..<h {
                  let maskRow = min(height - 1, y * factor) * width
                  for x in 0..<w {
                    v[(y * w + x) * n + j] = p[y * w + x]
                    o[(y * w + x) * n + j] = m[maskRow + min(width - 1, x * factor)]
                  }
                }
              }
            }
          }
        }
      }
      var out = [UInt8](repeating: 0, count: w * h)
      var clear = [UInt8](repeating: 0, count: n)
      var all = [UInt8](repeating: 0, count: n)
      values.withUnsafeBufferPointer { v in
        hidden.withUnsafeBufferPointer { o in
          for i in 0..<(w * h) {
            var count = 0
            for j in 0..<n {
              let value = v[i * n + j]
              all[j] = value
              if o[i * n + j] == 0 {
                clear[count] = value
                count += 1
              }
            }
            out[i] = count > 0 ? middle(&clear, count: count) : middle(&all, count: n)
          }
        }
      }
      return GrayImage(width: w, height: h, pixels: out)
    }
    return YUVImage(luma: plane(\.luma, factor: 1), cb: plane(\.cb, factor: 2), cr: plane(\.cr, factor: 2))
  }

  /// The median of the first `count` values (insertion sort: counts are small).
  static func middle(_ values: inout [UInt8], count: Int) -> UInt8 {
    for i in 1..<max(1, count) {
      let v = values[i]
      var j = i - 1
      while j >= 0 && values[j] > v {
        values[j + 1] = values[j]
        j -= 1
      }
      values[j + 1] = v
    }
    return values[count / 2]
  }

  /// Mean luma of each block of an 8 x 8 grid: a signature of the light in the picture.
  public static func lightLevels(_ picture: YUVImage) -> [Double] {
    let luma = picture.luma
    var levels: [Double] = []
    for by in 0..<8 {
      for bx in 0..<8 {
        let x0 = bx * luma.width / 8, x1 = (bx + 1) * luma.width / 8
        let y0 = by * luma.height / 8, y1 = (by + 1) * luma.height / 8
        var sum = 0
        var count = 0
        for y in stride(from: y0, to: y1, by: 2) {
          for x in stride(from: x0, to: x1, by: 2) {
            sum += Int(luma.pixels[y * luma.width + x])
            count += 1
          }
        }
        levels.append(count > 0 ? Double(sum) / Double(count) : 0)
      }
    }
    return levels
  }

  /// Whether the light changed between two signatures: the median block change exceeds
  /// `threshold` (a median, so that objects crossing a few blocks do not count).
  public static func lightChanged(_ a: [Double], _ b: [Double], threshold: Double) -> Bool {
    let changes = zip(a, b).map { abs($0 - $1) }.sorted()
    return !changes.isEmpty && changes[changes.count / 2] > threshold
  }

  /// Samples `decoder`'s footage between `from` and `to` seconds and builds its background.
  /// - Parameters:
  ///   - occupied: the boxes of tracked objects at a source time (seconds), masked out of the median.
  ///   - size: the size of the pictures kept (the top-left part of each frame; even sides).
  static func build(decoder: Decoder, from: Double, to: Double, size: PixelSize, occupied: (Double) -> [Box],
                    settings: BackgroundSettings, logger: Logger, progress: (Int, Int) -> Void) throws -> SceneBackground
  {
    let span = max(0, to - from)
    let interval = max(settings.sampleInterval, span / Double(max(1, settings.maxSamples)))
    let count = max(1, Int(span / interval))
    var segments: [Segment] = []
    var kept: [(picture: YUVImage, boxes: [Box])] = []
    var keepEvery = 1
    var inSegment = 0
    var reference: [Double] = []
    var segmentStart = 0.0
    func close() {
      guard !kept.isEmpty else { return }
      segments.append(Segment(from: segments.isEmpty ? -Double.infinity : segmentStart,
                              picture: median(kept.map(\.picture), occupied: kept.map(\.boxes))))
      kept = []
      keepEvery = 1
      inSegment = 0
    }
    for j in 0..<count {
      progress(j, count)
      let time = from + (Double(j) + 0.5) * span / Double(count)
      try decoder.seek(to: time)
      guard let frame = try decoder.nextFrame(), case .yuv(let full) = frame.image else { continue }
      let picture = Matte.cropped(full, to: size)
      let levels = lightLevels(picture)
      if !kept.isEmpty && lightChanged(reference, levels, threshold: settings.lightChange) {
        logger.debug("light changed", metadata: ["time": "\(frame.time)"])
        close()
      }
      if kept.isEmpty {
        reference = levels
        segmentStart = frame.time
      }
      if inSegment % keepEvery == 0 { kept.append((picture, occupied(frame.time))) }
      inSegment += 1
      if kept.count > settings.samplesPerMedian {
        kept = kept.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        keepEvery *= 2
      }
    }
    close()
    guard !segments.isEmpty else {
      throw SynopsisError("no frame of \(decoder.info.path) could be decoded for the background")
    }
    return SceneBackground(segments: segments)
  }
}
