import Foundation
import Index
import Media

/// Progress of a synopsis, for a progress bar.
public struct SynopsisProgress: Sendable {
  /// What is being done.
  public enum Stage: String, Sendable {
    case background, rendering, overview
  }

  public var stage: Stage
  /// Units done and to do in this stage (sampled frames, output frames, objects).
  public var done: Int
  public var total: Int
  /// Seconds since the synopsis started.
  public var elapsed: Double
}

/// Composes the synopsis frames: for each output frame, the background with each scheduled
/// object's cut-out and its clock time.
///
/// Output frames are made in windows whose cut-outs fit a memory budget: for each window the
/// needed source frames are decoded in time order (seeking over the rest), then its frames are
/// composed and encoded.
struct Renderer {
  let plan: SynopsisPlan
  let tubes: [Tube]
  let sourceOfTube: [Int]
  let reader: FootageReader
  /// Bytes of cut-outs held at once, at most (roughly).
  let memoryBudget: Int

  /// Source time (index of the source, seconds) whose background an output frame shows: the
  /// output timeline is a time-lapse of the sources' span.
  func backgroundTime(ofFrame frame: Int) -> (source: Int, time: Double) {
    let sources = reader.sources
    let first = sources.map { $0.start.date.timeIntervalSince1970 }.min()!
    let last = sources.map { $0.start.date.timeIntervalSince1970 + $0.duration }.max()!
    let t = first + (last - first) * (Double(frame) + 0.5) / Double(max(1, plan.frameCount))
    var best = 0
    var distance = Double.infinity
    for (i, s) in sources.enumerated() {
      let from = s.start.date.timeIntervalSince1970
      let d = t < from ? from - t : max(0, t - from - s.duration)
      if d < distance {
        distance = d
        best = i
      }
    }
    return (best, t - sources[best].start.date.timeIntervalSince1970)
  }

  func render(into encoder: Encoder, progress: (Int) -> Void) throws {
    let fps = plan.frameRate
    let order = plan.placements.sorted { ($0.outputStart, $0.tube) < ($1.outputStart, $1.tube) }
    // Estimated bytes of cut-outs per output frame.
    var bytes = [Int](repeating: 0, count: plan.frameCount)
    for p in plan.placements {
      for (k, box) in tubes[p.tube].boxes.enumerated() {
        bytes[p.outputStart + k] += Int(box.area * 1.7 * 3.5) + 256
      }
    }
    let scale = ClockLabel.scale(forHeight: reader.outputSize.height)
    var windowStart = 0
    var first = 0  // index in `order` of the first placement that may still be visible
    while windowStart < plan.frameCount {
      var windowEnd = windowStart
      var held = 0
      while windowEnd < plan.frameCount && (windowEnd == windowStart || held + bytes[windowEnd] <= memoryBudget) {
        held += bytes[windowEnd]
        windowEnd += 1
      }
      while first < order.count && order[first].outputEnd <= windowStart { first += 1 }
      var requests: [CutoutRequest] = []
      var keys: [(frame: Int, placement: Placement, box: Int)] = []
      for p in order[first...] {
        if p.outputStart >= windowEnd { break }
        let from = max(windowStart, p.outputStart)
        let to = min(windowEnd, p.outputEnd)
        guard from < to else { continue }
        let tube = tubes[p.tube]
        for frame in from..<to {
          let k = frame - p.outputStart
          requests.append(CutoutRequest(source: sourceOfTube[p.tube], time: tube.sourceTime(ofBox: k, frameRate: fps),
                                        box: tube.boxes[k]))
          keys.append((frame, p, k))
        }
      }
      let cutouts = try reader.cutouts(requests)
      var byFrame = [[Int]](repeating: [], count: windowEnd - windowStart)
      for (i, key) in keys.enumerated() { byFrame[key.frame - windowStart].append(i) }
      for frame in windowStart..<windowEnd {
        let (source, time) = backgroundTime(ofFrame: frame)
        var picture = reader.backgrounds[source].picture(at: time)
        // Farther objects (higher in the picture) first, nearer ones over them.
        let items = byFrame[frame - windowStart].sorted {
          let a = tubes[keys[$0].placement.tube].boxes[keys[$0].box]
          let b = tubes[keys[$1].placement.tube].boxes[keys[$1].box]
          return (a.y + a.height, $0) < (b.y + b.height, $1)
        }
        for i in items { if let cut = cutouts[i] { Matte.paste(cut, into: &picture) } }
        var labels: [ClockLabel.Placement] = []
        for i in items {
          let key = keys[i]
          let tube = tubes[key.placement.tube]
          Self.label(tube, box: key.box, frameRate: fps, scale: scale, size: reader.outputSize, avoiding: &labels, into: &picture)
        }
        try encoder.append(.yuv(picture))
        progress(frame + 1)
      }
      windowStart = windowEnd
    }
  }

  /// Draws box `k`'s clock time beside it, clear of the `labels` already drawn when it can be (with
  /// `onlyWhereClear`, not at all when it cannot), and adds its place to them.
  static func label(_ tube: Tube, box k: Int, frameRate: Double, scale: Int, size: PixelSize,
                    avoiding labels: inout [ClockLabel.Placement], onlyWhereClear: Bool = false, into picture: inout YUVImage) {
    let rendered = ClockFont.render(ClockLabel.text(tube.clockTime(ofBox: k, frameRate: frameRate)), scale: scale)
    let labelSize = PixelSize(width: rendered.width, height: rendered.height)
    let clear = ClockLabel.clearPlace(for: tube.boxes[k], label: labelSize, frame: size, avoiding: labels)
    if clear == nil && onlyWhereClear { return }
    let place = clear ?? ClockLabel.place(for: tube.boxes[k], label: labelSize, frame: size, avoiding: [])
    labels.append(place)
    ClockLabel.draw(rendered, at: (place.x, place.y), into: &picture)
  }
}
