import Index

/// Follows objects from the detector's boxes first and the motion model's blobs second
/// (DESIGN.md §6): a ByteTrack-like two-stage association on a constant-velocity Kalman filter,
/// with fusion of the blobs no detection explains.
///
/// - Stage 1: confident detections against every track (tracked, lost, tentative, motion-only),
///   by overlap of the predicted box (with a centre-distance fallback for objects that moved far
///   between two analysed frames).
/// - Stage 2: weak detections, then blobs, against the tracks still unmatched that were seen
///   lately. A blob updates a detector track less firmly than a detection.
/// - Fusion: a blob that no detection and no track explains starts a motion-only track; it is
///   kept when it lasts `fusionSeconds` with `confirmBlobs` blobs, at least half of them not
///   mostly covered by objects the detector follows (else it is a piece of one of them: a shadow,
///   a bag, two walkers' blob); its class then comes from geometry. When a detection later lands
///   on it, it becomes a detector track.
/// - A track the detector no longer finds is lost; it is kept for `lostSeconds` of frames the
///   detector looked at, so identities survive short occlusions and stops, then ends.
///
/// Association uses the boxes' motion and overlap only: no appearance of any kind (L7).
/// All durations are in seconds, sizes relative to the boxes: nothing depends on the frame rate
/// or the picture's size.
struct FusionTracker {
  struct Settings {
    /// Detections at least this confident are matched first (ByteTrack's high threshold).
    var highScore = 0.6
    /// Detections below this are ignored.
    var lowScore = 0.1
    /// An unmatched detection at least this confident starts a track.
    var newTrackScore = 0.7
    /// Overlap (IoU) with the predicted box for stage 1, and for stage 2 (weak detections, blobs).
    var firstStageIoU = 0.2
    var secondStageIoU = 0.45
    /// A lost track is ended after this many seconds of frames the detector looked at.
    var lostSeconds = 2.0
    /// A tentative detector track needs this many detections, within `tentativeSeconds` of each other.
    var confirmDetections = 2
    var tentativeSeconds = 0.6
    /// A motion-only track is kept when it lasts this long with blobs (and `confirmBlobs` of them).
    var fusionSeconds = 1.0
    var confirmBlobs = 3
    /// A motion-only track without a blob for this long ends.
    var motionCoastSeconds = 1.0
  }

  /// How a track was found.
  enum Origin {
    case detector
    case motion
  }

  /// A followed object.
  struct Track {
    let id: Int
    var origin: Origin
    var kalman: BoxKalman
    /// Time of the filter's state.
    var time: Double
    var firstTime: Double
    var lastHitTime: Double
    var lastDetectionTime: Double?
    /// Seconds of detector frames since the last detection.
    var missedSeconds = 0.0
    var confirmed = false
    var hits = 1
    var detections = 0
    var blobs = 0
    /// Blobs of a motion-only track that the detector's followed objects did not mostly cover.
    var unexplainedBlobs = 0
    /// Summed detection scores per class.
    var votes: [ObjectClass: Double] = [:]
    var observations: [Observation]

    var isLost: Bool { missedSeconds > 0 }

    /// Whether the object is moving (or not yet settled), so the detector keeps looking.
    var isActive: Bool {
      guard confirmed, !isLost else { return true }
      let (vx, vy) = kalman.velocity
      return (vx * vx + vy * vy).squareRoot() > 0.1 * kalman.box.height
    }

    /// The description's view of this track.
    var state: TrackState {
      var state = TrackState(
        id: id, box: kalman.box, lastTime: time, lastHitTime: lastHitTime, observations: observations)
      state.hits = hits
      state.confirmed = confirmed
      state.votes = votes
      state.detectionHits = detections
      return state
    }
  }

  /// A detection prepared for tracking: box in model pixels, lrj class.
  struct Observed {
    var box: Rect
    var score: Double
    var objectClass: ObjectClass
    /// For a person: the score of a two-wheeler touching them from below (pushed or ridden), a
    /// vote for two-wheeler beside the vote for person.
    var withTwoWheeler = 0.0
  }

  let settings: Settings
  private(set) var tracks: [Track] = []
  private var nextID = 1
  /// The last analysed frame the detector ran on.
  private var lastDetectorTime: Double?

  init(settings: Settings = Settings()) {
    self.settings = settings
  }

  /// Whether some track needs the detector even where nothing moves: tentative, lost or moving.
  var needsDetector: Bool { tracks.contains(where: \.isActive) }

  /// Boxes of the live tracks predicted at `time`.
  func predictedBoxes(at time: Double) -> [Rect] {
    tracks.map { $0.kalman.predicted(after: time - $0.time) }
  }

  /// Advances to an analysed frame. `detections` is nil when the detector did not run on it;
  /// `newTrackScore`, when given, replaces the settings' for this frame. Returns the tracks that
  /// ended and are kept (confirmed).
  mutating func step(detections: [Observed]?, blobs: [Blob], frameIndex: Int, time: Double, newTrackScore: Double? = nil)
    -> [TrackState]
  {
    for t in tracks.indices {
      tracks[t].kalman.predict(dt: time - tracks[t].time)
      tracks[t].time = time
    }
    let predicted = tracks.map(\.kalman.box)
    var trackTaken = [Bool](repeating: false, count: tracks.count)
    var hitKind = [Int: (box: Rect, detection: Observed?)]()

    let confident = (detections ?? []).filter { $0.score >= settings.highScore }
    let weak = (detections ?? []).filter { $0.score >= settings.lowScore && $0.score < settings.highScore }
    var confidentTaken = [Bool](repeating: false, count: confident.count)

    // Stage 1: confident detections against every track.
    for (t, d) in match(
      confident.map(\.box), to: tracks.indices.map { $0 }, predicted: predicted, minimumIoU: settings.firstStageIoU,
      distanceFallback: true)
    {
      trackTaken[t] = true
      confidentTaken[d] = true
      hitKind[t] = (confident[d].box, confident[d])
    }
    // Stage 2: weak detections against tracks seen lately (not lost, not motion-only), then blobs.
    let recent = tracks.indices.filter { !trackTaken[$0] && !tracks[$0].isLost && tracks[$0].origin == .detector }
    for (t, d) in match(weak.map(\.box), to: recent, predicted: predicted, minimumIoU: settings.secondStageIoU,
                        distanceFallback: false)
    {
      trackTaken[t] = true
      hitKind[t] = (weak[d].box, weak[d])
    }
    var blobTaken = [Bool](repeating: false, count: blobs.count)
    let open = tracks.indices.filter { !trackTaken[$0] && (tracks[$0].origin == .motion || !tracks[$0].isLost) }
    let detectorOpen = open.filter { tracks[$0].origin == .detector }
    for (t, b) in match(blobs.map(\.box), to: detectorOpen, predicted: predicted, minimumIoU: settings.secondStageIoU,
                        distanceFallback: false, similarSize: true)
    {
      trackTaken[t] = true
      blobTaken[b] = true
      hitKind[t] = (blobs[b].box, nil)
    }
    let motionOpen = open.filter { tracks[$0].origin == .motion }
    let followed = tracks.indices.filter { tracks[$0].origin == .detector && tracks[$0].confirmed && !tracks[$0].isLost }
    var explainedHit = Set<Int>()
    for (t, b) in match(blobs.map(\.box), to: motionOpen, predicted: predicted, minimumIoU: 0.05,
                        distanceFallback: true, excluding: blobTaken)
    {
      trackTaken[t] = true
      blobTaken[b] = true
      hitKind[t] = (blobs[b].box, nil)
      // Mostly inside boxes the detector follows: it keeps the track going but does not vouch for it.
      let covered = followed.reduce(0.0) { $0 + predicted[$1].intersectionArea(blobs[b].box) }
      if covered >= 0.5 * blobs[b].box.area { explainedHit.insert(t) }
    }

    // Updates, misses and ends.
    var ended: [TrackState] = []
    var survivors: [Track] = []
    for t in tracks.indices {
      var track = tracks[t]
      if let (box, detection) = hitKind[t] {
        if let detection {
          track.kalman.update(box)
          track.detections += 1
          track.votes[detection.objectClass, default: 0] += detection.score
          if detection.withTwoWheeler > 0 { track.votes[.twoWheeler, default: 0] += detection.withTwoWheeler }
          track.lastDetectionTime = time
          track.missedSeconds = 0
          if track.origin == .motion {
            track.origin = .detector
          }
          if track.detections >= settings.confirmDetections { track.confirmed = true }
          track.observations.append(Observation(frameIndex: frameIndex, time: time, box: box, grouped: false))
        } else {
          track.blobs += 1
          if track.origin == .detector {
            // A blob keeps a detector track alive and steers it, but its box is the filter's.
            track.kalman.update(box, weight: 3)
            track.observations.append(
              Observation(frameIndex: frameIndex, time: time, box: track.kalman.box, grouped: true))
          } else {
            track.kalman.update(box, weight: 2)
            track.observations.append(Observation(frameIndex: frameIndex, time: time, box: box, grouped: false))
            if !explainedHit.contains(t) { track.unexplainedBlobs += 1 }
            if track.unexplainedBlobs >= max(settings.confirmBlobs, (track.blobs + 1) / 2)
              && time - track.firstTime >= settings.fusionSeconds
            {
              track.confirmed = true
            }
          }
        }
        track.hits += 1
        track.lastHitTime = time
        survivors.append(track)
        continue
      }
      // No observation.
      switch track.origin {
      case .motion:
        if time - track.lastHitTime > settings.motionCoastSeconds {
          if track.confirmed { ended.append(track.state) }
        } else {
          survivors.append(track)
        }
      case .detector:
        guard detections != nil else {
          survivors.append(track)  // the detector did not look: nothing is missed
          continue
        }
        if !track.confirmed {
          if time - track.lastHitTime <= settings.tentativeSeconds { survivors.append(track) }
          continue
        }
        // Only the time the detector looked counts (a gap in its runs is no evidence of absence).
        track.missedSeconds += max(1e-6, min(1.0, time - (lastDetectorTime ?? time)))
        if track.missedSeconds > settings.lostSeconds {
          ended.append(track.state)
        } else {
          survivors.append(track)
        }
      }
    }

    // New detector tracks from confident detections nobody took (not on a live track's box).
    for (d, detection) in confident.enumerated() where !confidentTaken[d] && detection.score >= (newTrackScore ?? settings.newTrackScore) {
      let duplicate = survivors.contains { $0.kalman.box.iou(detection.box) > 0.7 }
      if duplicate { continue }
      var track = Track(
        id: nextID, origin: .detector, kalman: BoxKalman(detection.box), time: time, firstTime: time,
        lastHitTime: time, lastDetectionTime: time,
        observations: [Observation(frameIndex: frameIndex, time: time, box: detection.box, grouped: false)])
      track.detections = 1
      track.votes[detection.objectClass] = detection.score
      if settings.confirmDetections <= 1 { track.confirmed = true }
      nextID += 1
      survivors.append(track)
    }
    // New motion tracks from blobs that nothing explains.
    let explaining = survivors.map(\.kalman.box) + (detections ?? []).filter { $0.score >= settings.lowScore }.map(\.box)
    for (b, blob) in blobs.enumerated() where !blobTaken[b] {
      let covered = explaining.reduce(0.0) { $0 + $1.intersectionArea(blob.box) }
      if covered >= 0.3 * blob.box.area { continue }
      var track = Track(
        id: nextID, origin: .motion, kalman: BoxKalman(blob.box), time: time, firstTime: time, lastHitTime: time,
        lastDetectionTime: nil,
        observations: [Observation(frameIndex: frameIndex, time: time, box: blob.box, grouped: false)])
      track.blobs = 1
      track.unexplainedBlobs = 1
      nextID += 1
      survivors.append(track)
    }
    tracks = survivors
    if detections != nil { lastDetectorTime = time }
    return ended
  }

  /// Ends every track (end of the footage) and returns the kept ones.
  mutating func finish() -> [TrackState] {
    defer { tracks = [] }
    return tracks.filter(\.confirmed).map(\.state)
  }

  /// Greedy one-to-one matching of `boxes` to the tracks `candidates`, best overlap first; when
  /// `distanceFallback`, a box near a track's predicted centre (within 0.6 of its larger side,
  /// widened with the time since the track was last seen) and of similar size matches with a low
  /// score. Returns (track index, box index) pairs.
  private func match(
    _ boxes: [Rect], to candidates: [Int], predicted: [Rect], minimumIoU: Double, distanceFallback: Bool,
    similarSize: Bool = false, excluding: [Bool]? = nil
  ) -> [(Int, Int)] {
    var pairs: [(track: Int, box: Int, score: Double)] = []
    for t in candidates {
      let p = predicted[t]
      let unseen = max(0, tracks[t].time - tracks[t].lastHitTime)
      for (b, box) in boxes.enumerated() where excluding?[b] != true {
        let sizeRatio = box.area / max(1e-6, p.area)
        let similar = sizeRatio > 0.4 && sizeRatio < 2.5
        if similarSize && !similar { continue }
        let iou = p.iou(box)
        if iou >= minimumIoU {
          pairs.append((t, b, iou))
        } else if distanceFallback && similar {
          let dx = p.centreX - box.centreX
          let dy = p.centreY - box.centreY
          let distance = (dx * dx + dy * dy).squareRoot()
          let gate = 0.6 * max(p.width, p.height) * (1 + min(unseen, 0.5))
          if distance < gate { pairs.append((t, b, 0.01 * minimumIoU * (1 - distance / gate))) }
        }
      }
    }
    pairs.sort { ($0.score, -$0.track, -$0.box) > ($1.score, -$1.track, -$1.box) }
    var trackUsed = Set<Int>()
    var boxUsed = Set<Int>()
    var result: [(Int, Int)] = []
    for pair in pairs where !trackUsed.contains(pair.track) && !boxUsed.contains(pair.box) {
      trackUsed.insert(pair.track)
      boxUsed.insert(pair.box)
      result.append((pair.track, pair.box))
    }
    return result
  }
}
