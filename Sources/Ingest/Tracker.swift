import Index
import Media

/// One observation of a tracked object at an analysed frame, in model pixels.
struct Observation {
  var frameIndex: Int
  var time: Double
  var box: Rect
  /// True when the object was merged with another (its box is the predicted one).
  var grouped: Bool
}

/// A tracked object while the tracker follows it.
struct TrackState {
  let id: Int
  var box: Rect
  var velocityX = 0.0
  var velocityY = 0.0
  var lastTime: Double
  var lastHitTime: Double
  var hits = 1
  var confirmed = false
  var grouped = false
  var observations: [Observation]
  /// Summed detection scores per class (detector tracks; empty for motion-only tracks).
  var votes: [ObjectClass: Double] = [:]
  /// Detections matched to the track.
  var detectionHits = 0
  /// Whether the footage's start or end cuts the track (the object was there before or after):
  /// such a track is kept however short, when the detector saw it.
  var cutByFootage = false
  /// Whether a span's edge inside the footage cuts the track (see `AnalysisWindow`): its other pieces are in
  /// the span next to it, and whether it moved is decided once they are joined.
  var cutBySpan = false

  /// The box moved to where the object should be at `time`.
  func predicted(at time: Double) -> Rect {
    let dt = time - lastTime
    var box = box
    box.x += velocityX * dt
    box.y += velocityY * dt
    return box
  }
}

/// Follows blobs from frame to frame: constant-velocity prediction, greedy assignment by overlap
/// and distance, coasting through short occlusions and through merges with other objects,
/// confirmation after a few hits.
struct Tracker {
  struct Settings {
    /// Hits before a track is confirmed.
    var confirmHits = 3
    /// How long a confirmed track survives without a measurement (occlusion).
    var maximumCoast = 1.2
    /// How long a track merged with another survives without its own measurement.
    var maximumGroupCoast = 3.0
  }

  let settings: Settings
  /// The picture size (model pixels), to tell objects entering or leaving it.
  let frame: PixelSize
  private(set) var active: [TrackState] = []
  private var nextID = 1

  init(frame: PixelSize, settings: Settings = Settings()) {
    self.frame = frame
    self.settings = settings
  }

  /// Advances to an analysed frame with its blobs; returns the tracks that ended.
  mutating func step(blobs input: [Blob], frameIndex: Int, time: Double) -> [TrackState] {
    let predictions = active.map { $0.predicted(at: time) }
    let blobs = Self.mergeFragments(input, predictions: predictions, confirmed: active.map(\.confirmed))

    // Candidate pairs scored by overlap, else by closeness within a gate.
    var pairs: [(track: Int, blob: Int, score: Double)] = []
    for (t, predicted) in predictions.enumerated() {
      let coast = time - active[t].lastHitTime
      let gate = 0.6 * max(predicted.width, predicted.height) * (1 + coast)
      for (b, blob) in blobs.enumerated() {
        let iou = predicted.iou(blob.box)
        if iou > 0.05 {
          pairs.append((t, b, iou))
        } else {
          let dx = predicted.centreX - blob.box.centreX
          let dy = predicted.centreY - blob.box.centreY
          let distance = (dx * dx + dy * dy).squareRoot()
          let similarSize = blob.box.area < 3 * predicted.area && predicted.area < 3 * blob.box.area
          if distance < gate && similarSize { pairs.append((t, b, 0.05 * (1 - distance / gate))) }
        }
      }
    }
    pairs.sort { $0.score > $1.score }

    // Blobs that cover two or more confirmed tracks are groups: those tracks coast through them.
    var groupedTracks = Set<Int>()
    var consumedBlobs = Set<Int>()
    for (b, blob) in blobs.enumerated() {
      // A track leaving the picture (its predicted box at the edge) joins no group.
      let covered = predictions.indices.filter { t in
        active[t].confirmed && !touchesEdge(predictions[t])
          && predictions[t].intersectionArea(blob.box) > 0.2 * predictions[t].area
      }
      if covered.count >= 2 && covered.allSatisfy({ blob.box.area > 1.3 * predictions[$0].area }) {
        groupedTracks.formUnion(covered)
        consumedBlobs.insert(b)
      }
    }

    var trackTaken = groupedTracks
    var blobTaken = consumedBlobs
    var assignment: [Int: Int] = [:]
    for pair in pairs where !trackTaken.contains(pair.track) && !blobTaken.contains(pair.blob) {
      assignment[pair.track] = pair.blob
      trackTaken.insert(pair.track)
      blobTaken.insert(pair.blob)
    }

    var ended: [TrackState] = []
    var survivors: [TrackState] = []
    for t in active.indices {
      var track = active[t]
      let predicted = predictions[t]
      if let b = assignment[t], !touchesEdge(blobs[b].box), mergesWithAnother(blobs[b].box, track: t, predictions: predictions) {
        // Much bigger than the object: it merged with something not tracked; keep the prediction.
        track.box = predicted
        track.lastTime = time
        track.lastHitTime = time
        track.grouped = true
        track.observations.append(Observation(frameIndex: frameIndex, time: time, box: predicted, grouped: true))
        survivors.append(track)
      } else if let b = assignment[t] {
        update(&track, with: blobs[b].box, predicted: predicted, frameIndex: frameIndex, time: time)
        survivors.append(track)
      } else if groupedTracks.contains(t) {
        track.box = predicted
        track.lastTime = time
        track.grouped = true
        track.observations.append(Observation(frameIndex: frameIndex, time: time, box: predicted, grouped: true))
        if time - track.lastHitTime > settings.maximumGroupCoast { ended.append(track) } else { survivors.append(track) }
      } else {
        track.box = predicted
        track.lastTime = time
        let limit = track.grouped ? settings.maximumGroupCoast : settings.maximumCoast
        if !track.confirmed {
          continue  // a tentative track that misses is noise
        } else if time - track.lastHitTime > limit {
          ended.append(track)
        } else {
          survivors.append(track)
        }
      }
    }

    // New tracks for blobs nobody took, unless they sit on a track's predicted box.
    for (b, blob) in blobs.enumerated() where !blobTaken.contains(b) {
      let onTrack = survivors.contains { $0.confirmed && $0.box.intersectionArea(blob.box) > 0.5 * blob.box.area }
      if onTrack { continue }
      survivors.append(
        TrackState(
          id: nextID, box: blob.box, lastTime: time, lastHitTime: time,
          observations: [Observation(frameIndex: frameIndex, time: time, box: blob.box, grouped: false)]))
      nextID += 1
    }
    active = survivors
    return ended.filter(\.confirmed)
  }

  /// Ends every track (end of the footage) and returns the confirmed ones.
  mutating func finish() -> [TrackState] {
    defer { active = [] }
    return active.filter(\.confirmed)
  }

  private func update(_ track: inout TrackState, with measured: Rect, predicted: Rect, frameIndex: Int, time: Double) {
    let dt = max(1e-3, time - track.lastTime)
    let previous = track.box
    // Position follows the measurement closely; size is smoothed (blobs breathe).
    var box = measured
    box.width = 0.5 * measured.width + 0.5 * previous.width
    box.height = 0.5 * measured.height + 0.5 * previous.height
    box.x = measured.centreX - box.width / 2
    box.y = measured.maxY - box.height  // keep the feet where they were measured
    track.box = box
    track.lastTime = time
    track.lastHitTime = time
    track.hits += 1
    track.grouped = false
    if track.hits >= settings.confirmHits { track.confirmed = true }
    track.observations.append(Observation(frameIndex: frameIndex, time: time, box: box, grouped: false))
    (track.velocityX, track.velocityY) = Self.velocity(of: track.observations)
    _ = (predicted, dt)
  }

  /// Whether a box touches the picture's edge (its object may be entering or leaving).
  func touchesEdge(_ box: Rect) -> Bool {
    box.x <= 2 || box.y <= 2 || box.maxX >= Double(frame.width - 2) || box.maxY >= Double(frame.height - 2)
  }

  /// A blob merges a confirmed track with another track when it is much bigger than the track's
  /// predicted box and also covers another (even tentative) track's predicted box.
  func mergesWithAnother(_ blob: Rect, track t: Int, predictions: [Rect]) -> Bool {
    guard active[t].confirmed, active[t].hits >= 5, blob.area > 1.8 * predictions[t].area else { return false }
    return predictions.indices.contains { other in
      other != t && predictions[other].intersectionArea(blob) > 0.3 * predictions[other].area
        && predictions[other].intersectionArea(predictions[t]) < 0.5 * predictions[other].area
    }
  }

  /// Velocity of the box centre by least squares over the last second of measurements.
  static func velocity(of observations: [Observation]) -> (Double, Double) {
    guard let last = observations.last else { return (0, 0) }
    let recent = observations.suffix(16).filter { !$0.grouped && last.time - $0.time <= 1.0 }
    guard recent.count >= 2 else { return (0, 0) }
    let n = Double(recent.count)
    let meanT = recent.map(\.time).reduce(0, +) / n
    let meanX = recent.map(\.box.centreX).reduce(0, +) / n
    let meanY = recent.map(\.box.centreY).reduce(0, +) / n
    var stt = 0.0
    var stx = 0.0
    var sty = 0.0
    for o in recent {
      let dt = o.time - meanT
      stt += dt * dt
      stx += dt * (o.box.centreX - meanX)
      sty += dt * (o.box.centreY - meanY)
    }
    guard stt > 1e-9 else { return (0, 0) }
    return (stx / stt, sty / stt)
  }

  /// Joins blobs that lie mostly inside the same confirmed track's predicted box and inside no
  /// other's: the parts of one object split by a background-coloured stripe.
  static func mergeFragments(_ blobs: [Blob], predictions: [Rect], confirmed: [Bool]) -> [Blob] {
    guard blobs.count > 1 else { return blobs }
    var owner = [Int?](repeating: nil, count: blobs.count)
    for (b, blob) in blobs.enumerated() {
      let inside = predictions.indices.filter { t in
        confirmed[t] && predictions[t].intersectionArea(blob.box) > 0.5 * blob.box.area
      }
      if inside.count == 1 { owner[b] = inside[0] }
    }
    var merged: [Blob] = []
    var byTrack: [Int: Int] = [:]
    for (b, blob) in blobs.enumerated() {
      if let t = owner[b] {
        if let index = byTrack[t] {
          merged[index].box = merged[index].box.union(blob.box)
          merged[index].area += blob.area
          continue
        }
        byTrack[t] = merged.count
      }
      merged.append(blob)
    }
    return merged
  }
}
