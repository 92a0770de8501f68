import Foundation
import Index
import Media

/// Spans of one exhibit, analysed apart (by workers, DESIGN.md §13) and joined into the tracks a
/// whole-file analysis would give.
///
/// Each span after the first starts `overlap` seconds before the previous one ends, so both analyse
/// the frames of the overlap. A track of one span still alive in the overlap and a track of the next
/// span that is there too are one object when their boxes agree there (mean intersection over union,
/// at the same moments); they are joined into one track. A track of the next span that lies wholly
/// in the overlap and matches nothing is the previous span's view of an object it already has, or
/// too short to tell: it is dropped.
public enum Spans {
  /// Windows of about `length` seconds covering `duration`, each after the first starting `overlap`
  /// seconds before the previous one ends. A last piece shorter than half a span is added to the one
  /// before it. Parameters are in seconds, whatever the frame rate.
  ///
  /// With `keyframes` (times from the container's index), each window after the first begins at the
  /// last keyframe at or before where it would begin, when one is at most `overlap` earlier: decoding
  /// starts there without frames to throw away. Each window's own frames begin where the one before ends.
  public static func plan(duration: Double, length: Double, overlap: Double, keyframes: [Double] = []) -> [AnalysisWindow] {
    guard duration.isFinite, duration > 0, length > 0 else { return [AnalysisWindow(from: 0, to: .infinity)] }
    let overlap = min(max(0, overlap), length / 2)
    var starts: [Double] = [0]
    while starts.last! + length < duration - length / 2 { starts.append(starts.last! + length) }
    return starts.indices.map { index in
      var from = index == 0 ? 0 : starts[index] - overlap
      if index > 0, let keyframe = keyframes.last(where: { $0 <= from + 1e-6 }), keyframe >= from - overlap, keyframe > 0 {
        from = keyframe
      }
      let to = index + 1 < starts.count ? starts[index + 1] : .infinity
      return AnalysisWindow(from: from, to: to, ownFrom: starts[index])
    }
  }

  /// Joins the tracks of consecutive spans (in time order; `windows[i]` is the window `tracks[i]` were
  /// found in), in the order of their start.
  ///
  /// A track kept only because a span's edge cut it though it did not move in its span (`provisional`,
  /// by index in its span) stays when it is joined to a piece that moved, or when the joined whole moved;
  /// alone and still, it is a parked vehicle, dropped as a one-process analysis drops it.
  /// - Parameter frameWidth: the footage's width in pixels (speeds are fractions of it per second).
  public static func join(_ spans: [(window: AnalysisWindow, tracks: [NewTrack], provisional: Set<Int>)], frameWidth: Int) -> [NewTrack] {
    guard let first = spans.first else { return [] }
    var joined = first.tracks
    var provisional = first.tracks.indices.map { first.provisional.contains($0) }
    for (previous, next) in zip(spans, spans.dropFirst()) {
      let overlap = (from: next.window.from, to: previous.window.to)
      // Tracks of the previous spans still alive in the overlap, and tracks of this span present in it.
      let open = joined.indices.filter { joined[$0].path.last!.time >= overlap.from }
      let arriving = next.tracks.indices.filter { next.tracks[$0].path.first!.time < overlap.to }
      var pairs: [(score: Double, open: Int, arriving: Int)] = []
      for a in open {
        for b in arriving {
          if let score = agreement(joined[a], next.tracks[b], in: overlap) { pairs.append((score, a, b)) }
        }
      }
      pairs.sort { $0.score > $1.score }
      var usedOpen = Set<Int>()
      var usedArriving = Set<Int>()
      for pair in pairs where !usedOpen.contains(pair.open) && !usedArriving.contains(pair.arriving) {
        usedOpen.insert(pair.open)
        usedArriving.insert(pair.arriving)
        joined[pair.open] = merge(joined[pair.open], next.tracks[pair.arriving], cut: (overlap.from + overlap.to) / 2,
                                  frameWidth: frameWidth)
        provisional[pair.open] = provisional[pair.open] && next.provisional.contains(pair.arriving)
      }
      for b in next.tracks.indices where !usedArriving.contains(b) {
        // Wholly inside the overlap and matched to nothing: the previous span saw that time already.
        if next.tracks[b].path.last!.time < overlap.to { continue }
        joined.append(next.tracks[b])
        provisional.append(next.provisional.contains(b))
      }
    }
    return joined.indices
      .filter { !provisional[$0] || moved(joined[$0].path, frameWidth: frameWidth) }
      .map { joined[$0] }
      .sorted { ($0.path[0].time, $0.path[0].box.x) < ($1.path[0].time, $1.path[0].box.x) }
  }

  /// Joins spans without provisional tracks.
  public static func join(_ spans: [(window: AnalysisWindow, tracks: [NewTrack])], frameWidth: Int) -> [NewTrack] {
    join(spans.map { ($0.window, $0.tracks, Set<Int>()) }, frameWidth: frameWidth)
  }

  /// Whether a path's feet got somewhere, as the describer decides it: the mean of its first three and
  /// last three feet at least 0.3 median heights and 1.5 % of the picture's width apart.
  static func moved(_ path: [PathSample], frameWidth: Int) -> Bool {
    displacement(path).distance >= max(0.3 * medianHeight(path), 0.015 * Double(frameWidth))
  }

  static func displacement(_ path: [PathSample]) -> (dx: Double, dy: Double, distance: Double) {
    func foot(_ box: Box) -> (Double, Double) { (box.x + box.width / 2, box.y + box.height) }
    func mean(_ samples: ArraySlice<PathSample>) -> (Double, Double) {
      let feet = samples.map { foot($0.box) }
      return (feet.map(\.0).reduce(0, +) / Double(feet.count), feet.map(\.1).reduce(0, +) / Double(feet.count))
    }
    let start = mean(path.prefix(3))
    let end = mean(path.suffix(3))
    let dx = end.0 - start.0
    let dy = end.1 - start.1
    return (dx, dy, (dx * dx + dy * dy).squareRoot())
  }

  static func medianHeight(_ path: [PathSample]) -> Double {
    let heights = path.map(\.box.height).sorted()
    return heights[heights.count / 2]
  }

  /// Samples at most this far apart in time are compared.
  static let sameMoment = 0.1
  /// Mean intersection over union at which two pieces are one object.
  static let sameObject = 0.4

  /// How well two tracks agree in the overlap: their mean box IoU at the moments both were observed, or
  /// nil when they are not seen together there (fewer than two moments) or do not agree.
  static func agreement(_ a: NewTrack, _ b: NewTrack, in overlap: (from: Double, to: Double)) -> Double? {
    let inA = a.path.filter { $0.time >= overlap.from && $0.time < overlap.to }
    guard !inA.isEmpty else { return nil }
    var total = 0.0
    var count = 0
    var index = 0
    for sample in b.path where sample.time >= overlap.from && sample.time < overlap.to {
      while index + 1 < inA.count, abs(inA[index + 1].time - sample.time) <= abs(inA[index].time - sample.time) { index += 1 }
      guard abs(inA[index].time - sample.time) <= sameMoment else { continue }
      total += iou(inA[index].box, sample.box)
      count += 1
    }
    guard count >= 2 else { return nil }
    let mean = total / Double(count)
    return mean >= sameObject ? mean : nil
  }

  static func iou(_ a: Box, _ b: Box) -> Double {
    let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    guard w > 0, h > 0 else { return 0 }
    let inter = w * h
    return inter / (a.width * a.height + b.width * b.height - inter)
  }

  /// One track from two pieces of it: the earlier piece's samples before `cut`, the later's from there;
  /// class, colours and thumbnail from the pieces weighted by how long each lasts in the joined path
  /// (the overlap counted once); direction and speed from the whole path.
  static func merge(_ a: NewTrack, _ b: NewTrack, cut: Double, frameWidth: Int) -> NewTrack {
    var path = a.path.filter { $0.time < cut }
    let lastFrame = path.last?.frameIndex ?? Int.min
    path += b.path.filter { $0.time >= cut && $0.frameIndex > lastFrame }
    if path.isEmpty { path = a.path }
    let durationA = max(1e-3, min(a.path.last!.time, cut) - a.path[0].time)
    let durationB = max(1e-3, b.path.last!.time - max(b.path[0].time, cut))

    var merged = a
    merged.path = path
    var classWeight: [ObjectClass: (duration: Double, confidence: Double)] = [:]
    for (piece, duration) in [(a, durationA), (b, durationB)] {
      let kept = classWeight[piece.objectClass] ?? (0, 0)
      classWeight[piece.objectClass] = (kept.duration + duration, kept.confidence + piece.classConfidence * duration)
    }
    let elected = classWeight.max { ($0.value.duration, $0.key.rawValue) < ($1.value.duration, $1.key.rawValue) }!
    merged.objectClass = elected.key
    merged.classConfidence = min(1, elected.value.confidence / elected.value.duration)

    var fractions: [Colour: Double] = [:]
    for (piece, duration) in [(a, durationA), (b, durationB)] {
      for colour in piece.colours { fractions[colour.colour, default: 0] += colour.fraction * duration / (durationA + durationB) }
    }
    merged.colours = fractions.sorted { ($0.value, $0.key.rawValue) > ($1.value, $1.key.rawValue) }
      .prefix(max(a.colours.count, b.colours.count)).map { ColourFraction($0.key, min(1, $0.value)) }

    // Direction and speed of the feet over the whole path, as the describer measures a track.
    let (dx, dy, displacement) = Self.displacement(path)
    merged.direction = moved(path, frameWidth: frameWidth)
      ? Describer.direction(dx: dx, dy: dy) : (a.direction == b.direction ? a.direction : .stationary)
    merged.speed = displacement / Double(max(1, frameWidth)) / max(path.last!.time - path[0].time, 1e-3)
    merged.maxBoxAreaFraction = [a.maxBoxAreaFraction, b.maxBoxAreaFraction].compactMap { $0 }.max()
    if (b.maxBoxAreaFraction ?? 0) > (a.maxBoxAreaFraction ?? 0), b.thumbnail != nil { merged.thumbnail = b.thumbnail }
    return merged
  }
}
