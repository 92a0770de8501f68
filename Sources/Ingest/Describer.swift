import Foundation
import Index
import Media

/// What the analysis gathers about a track besides its boxes: colour counts and the best view.
struct TrackEvidence {
  var colourCounts = [Int](repeating: 0, count: Colour.allCases.count)
  var bestArea = 0.0
  /// The best view as the analysis saw it (deblocking skipped): the fallback thumbnail.
  var thumbnail: RGBImage?
  /// Where the best view is in the source, to cut it again from a fully decoded frame.
  var thumbnailSource: ThumbnailSource?
}

/// Where a thumbnail is cut: the frame (by time), the region in source pixels, and the whole factor by
/// which it is reduced (by averaging).
struct ThumbnailSource: Sendable, Hashable {
  var time: Double
  var x: Int
  var y: Int
  var width: Int
  var height: Int
  var step: Int
}

/// A finished track, described and in source pixels, ready for the index.
struct DescribedTrack {
  var track: NewTrack
  /// Frame index and box (source pixels) of every frame from the first observation to the last.
  var boxes: [(frameIndex: Int, box: Box)]
  /// Where its thumbnail comes from, to cut it at source quality.
  var thumbnailSource: ThumbnailSource? = nil
  /// Kept only because a span's edge cuts it though it did not move in the span (see `Spans.join`).
  var provisional = false
}

/// Turns a followed track into its description: class, colours, direction, speed, path, thumbnail.
struct Describer {
  /// Source size, and the scale from model pixels to source pixels.
  let sourceWidth: Int
  let sourceHeight: Int
  let scaleX: Double
  let scaleY: Double
  /// Tracks shorter than this are dropped.
  let minimumDuration: Double

  /// The description of `state`, or nil when it is too short or never moved (noise, a ghost).
  func describe(_ state: TrackState, evidence: TrackEvidence) -> DescribedTrack? {
    // Keep observations up to the last real measurement (drop the coasting tail).
    guard let lastHit = state.observations.lastIndex(where: { !$0.grouped }) else { return nil }
    let observations = Array(state.observations[...lastHit])
    guard let first = observations.first, let last = observations.last,
      last.time - first.time >= minimumDuration || (state.cutByFootage && state.detectionHits >= 2)
    else { return nil }
    let measured = observations.filter { !$0.grouped }
    let boxes = measured.map(\.box)

    // Motion of the feet (bottom-centre), in source pixels.
    let head = boxes.prefix(3)
    let tail = boxes.suffix(3)
    func foot(_ b: Rect) -> (Double, Double) { (b.centreX * scaleX, b.maxY * scaleY) }
    let start = head.map(foot).reduce((0.0, 0.0)) { ($0.0 + $1.0 / Double(head.count), $0.1 + $1.1 / Double(head.count)) }
    let end = tail.map(foot).reduce((0.0, 0.0)) { ($0.0 + $1.0 / Double(tail.count), $0.1 + $1.1 / Double(tail.count)) }
    let dx = end.0 - start.0
    let dy = end.1 - start.1
    let displacement = (dx * dx + dy * dy).squareRoot()
    let heights = boxes.map { $0.height * scaleY }.sorted()
    let medianHeight = heights[heights.count / 2]
    // The detector's votes over the whole track, when it saw the object.
    let voted = Self.elect(state.votes, detections: state.detectionHits)
    // A track whose feet moved less than half its height and 2 % of the picture never moved.
    // A person the detector saw standing still is kept (people who wait are of interest); a
    // vehicle that never moved is parked, and motion alone that goes nowhere is noise.
    let moved = displacement >= max(0.3 * medianHeight, 0.015 * Double(sourceWidth))
    // A piece of a track cut by a span's edge is kept when the detector saw it: whether the whole
    // moved is known once the pieces are joined (`Spans.join`).
    let provisional = !moved && voted != nil && voted?.0 != .person && state.cutBySpan
    guard moved || voted?.0 == .person || provisional else { return nil }
    if voted == nil {
      // Leaves and flicker jitter in place: their feet travel far more than they get anywhere.
      // Measured on 1-second steps, an object that goes somewhere covers at least a third of its
      // path as net displacement.
      var travelled = 0.0
      var previous = start
      var previousTime = measured.first!.time
      for o in measured.dropFirst() where o.time - previousTime >= 1 || o.frameIndex == measured.last!.frameIndex {
        let point = foot(o.box)
        travelled += ((point.0 - previous.0) * (point.0 - previous.0) + (point.1 - previous.1) * (point.1 - previous.1)).squareRoot()
        previous = point
        previousTime = o.time
      }
      guard displacement >= 0.33 * travelled else { return nil }
    }

    let duration = last.time - first.time
    let speed = displacement / Double(sourceWidth) / max(duration, 1e-3)
    let direction = moved ? Self.direction(dx: dx, dy: dy) : .stationary
    let (objectClass, confidence) = voted ?? classify(boxes: boxes, speed: speed)

    // Every frame from the first observation to the last, interpolated between analysed frames.
    var everyFrame: [(frameIndex: Int, box: Box)] = []
    var path: [PathSample] = []
    for (a, b) in zip(observations, observations.dropFirst()) {
      let span = b.frameIndex - a.frameIndex
      for step in 0..<max(1, span) {
        let f = span > 0 ? Double(step) / Double(span) : 0
        let rect = Rect.mix(a.box, b.box, f)
        let box = source(rect)
        let index = a.frameIndex + step
        let time = a.time + (b.time - a.time) * f
        everyFrame.append((index, box))
        path.append(PathSample(time: time, frameIndex: index, box: box))
      }
    }
    everyFrame.append((last.frameIndex, source(last.box)))
    path.append(PathSample(time: last.time, frameIndex: last.frameIndex, box: source(last.box)))

    let maxArea = boxes.map { $0.area * scaleX * scaleY }.max() ?? 0
    let thumbnail = evidence.thumbnail.flatMap { try? PNG.encode($0) }.map { Thumbnail(format: "png", data: Data($0)) }
    let track = NewTrack(
      objectClass: objectClass, classConfidence: confidence, colours: Self.topColours(evidence.colourCounts),
      direction: direction, speed: speed, path: path,
      maxBoxAreaFraction: min(1, maxArea / Double(sourceWidth * sourceHeight)), thumbnail: thumbnail)
    return DescribedTrack(track: track, boxes: everyFrame, thumbnailSource: evidence.thumbnailSource, provisional: provisional)
  }

  private func source(_ rect: Rect) -> Box {
    let x = max(0, rect.x * scaleX)
    let y = max(0, rect.y * scaleY)
    let width = min(Double(sourceWidth) - x, rect.width * scaleX)
    let height = min(Double(sourceHeight) - y, rect.height * scaleY)
    return Box(x: x.rounded(), y: y.rounded(), width: max(1, width.rounded()), height: max(1, height.rounded()))
  }

  /// Class from geometry and motion: shape (height over width), size relative to where the
  /// object stands, and speed.
  func classify(boxes: [Rect], speed: Double) -> (ObjectClass, Double) {
    let aspects = boxes.map { $0.height / max($0.width, 1e-3) }.sorted()
    let aspect = aspects[aspects.count / 2]
    let areas = boxes.map { $0.area * scaleX * scaleY / Double(sourceWidth * sourceHeight) }.sorted()
    let area = areas[areas.count * 3 / 4]
    let feet = boxes.map { $0.maxY * scaleY / Double(sourceHeight) }.sorted()
    let footY = max(0.25, feet[feet.count / 2])
    let relativeSize = area / (footY * footY)
    switch aspect {
    case 1.6...:
      return (.person, min(0.9, 0.6 + (aspect - 1.6) * 0.3))
    case 1.2..<1.6:
      return speed < 0.08 ? (.person, 0.55) : (.twoWheeler, 0.5)
    case 0.8..<1.2:
      if relativeSize > 0.12 { return (.busTruck, 0.45) }
      return speed < 0.04 ? (.person, 0.4) : (.twoWheeler, 0.55)
    case 0.2..<0.8:
      if relativeSize > 0.14 { return (.busTruck, 0.6) }
      return (.car, min(0.85, 0.6 + (0.8 - aspect) * 0.5))
    default:
      return (.other, 0.3)
    }
  }

  /// The class most of the detector's confidence went to over a track's life (summed scores per
  /// class), with the winner's mean score per detection as confidence; nil without detections.
  static func elect(_ votes: [ObjectClass: Double], detections: Int) -> (ObjectClass, Double)? {
    guard detections > 0 else { return nil }
    // Ties go to the order of ObjectClass.allCases, so the result never depends on hashing.
    guard var winner = ObjectClass.allCases.compactMap({ c in votes[c].map { (c, $0) } }).max(by: { $0.1 < $1.1 })
    else { return nil }
    // The person on or beside a bicycle is found in every view, the two-wheeler with them in some:
    // seen with one in a third of the person's weight of votes, they are a two-wheeler.
    if winner.0 == .person, let wheels = votes[.twoWheeler], wheels >= 0.3 * winner.1 {
      winner = (.twoWheeler, wheels)
    }
    return (winner.0, (min(1, winner.1 / Double(detections)) * 100).rounded() / 100)
  }

  /// Eight-way direction of a displacement in image space (y down), or stationary.
  static func direction(dx: Double, dy: Double) -> Direction {
    guard dx * dx + dy * dy > 1e-9 else { return .stationary }
    let angle = atan2(-dy, dx) * 180 / Double.pi
    let sectors: [Direction] = [.right, .upRight, .up, .upLeft, .left, .downLeft, .down, .downRight]
    return sectors[Int(((angle + 360 + 22.5).truncatingRemainder(dividingBy: 360)) / 45)]
  }

  /// The top colours (at most three, each at least 8 % of the foreground pixels sampled).
  static func topColours(_ counts: [Int]) -> [ColourFraction] {
    let total = counts.reduce(0, +)
    guard total > 0 else { return [] }
    return zip(Colour.allCases, counts)
      .map { ColourFraction($0.0, Double($0.1) / Double(total)) }
      .filter { $0.fraction >= 0.08 }
      .sorted { $0.fraction > $1.fraction }
      .prefix(3)
      .map { ColourFraction($0.colour, ($0.fraction * 1000).rounded(.down) / 1000) }  // never sums above 1
  }
}
