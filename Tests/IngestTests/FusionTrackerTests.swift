import Foundation
import Index
@testable import Ingest
import TestSupport
import Testing

/// The detector-first tracker on synthetic observations (no network, no pixels).
struct FusionTrackerTests {
  typealias Observed = FusionTracker.Observed

  func person(_ x: Double, _ y: Double = 100, score: Double = 0.8) -> Observed {
    Observed(box: Rect(x: x, y: y, width: 20, height: 50), score: score, objectClass: .person)
  }

  /// Runs `steps` analysed frames at `rate` per second; `observe` gives the detections (nil: the
  /// detector did not run) and blobs of step i.
  func run(steps: Int, rate: Double = 8, settings: FusionTracker.Settings = .init(),
           _ observe: (Int) -> (detections: [Observed]?, blobs: [Blob])) -> [TrackState] {
    var tracker = FusionTracker(settings: settings)
    var ended: [TrackState] = []
    for i in 0..<steps {
      let (detections, blobs) = observe(i)
      ended += tracker.step(detections: detections, blobs: blobs, frameIndex: i * 3, time: Double(i) / rate)
    }
    return ended + tracker.finish()
  }

  @Test func crossingPeopleKeepTheirIdentitiesByMotion() {
    // Same class, same size, same score: only their motion tells them apart.
    let tracks = run(steps: 40) { i in ([person(20 + Double(i) * 6), person(260 - Double(i) * 6, 104)], []) }
    #expect(tracks.count == 2)
    for track in tracks {
      let first = track.observations.first!.box.centreX
      let last = track.observations.last!.box.centreX
      #expect(abs(last - first) > 200, "track \(track.id) went all the way across: \(first) → \(last)")
      #expect(track.votes[.person] ?? 0 > 0 && track.detectionHits >= 38)
    }
  }

  @Test func aSpansStartTakesUpWhatStandsThereWithALowerThreshold() {
    // A parked car the detector finds at 0.65: below the threshold that starts tracks, not below a
    // span's start threshold (its first second, where what stands still is in the background).
    let car = Observed(box: Rect(x: 200, y: 100, width: 80, height: 40), score: 0.65, objectClass: .car)
    func tracks(startScore: Double?) -> [TrackState] {
      var tracker = FusionTracker(settings: .init())
      var ended: [TrackState] = []
      for i in 0..<16 {
        let time = Double(i) / 8
        ended += tracker.step(detections: [car], blobs: [], frameIndex: i * 3, time: time,
                              newTrackScore: time < 1 ? startScore : nil)
      }
      return ended + tracker.finish()
    }
    #expect(tracks(startScore: nil).isEmpty)
    let started = tracks(startScore: 0.6)
    #expect(started.count == 1)
    #expect(started.first?.observations.first?.time == 0)
  }

  @Test func aStopAndAShortOcclusionKeepOneTrack() {
    let tracks = run(steps: 60) { i in
      let x = i < 20 ? 20 + Double(i) * 5 : (i < 32 ? 120 : 120 + Double(i - 32) * 5)  // stops 1.5 s
      let hidden = (40..<48).contains(i)  // 1 s behind something
      return (hidden ? [] : [person(x)], [])
    }
    #expect(tracks.count == 1, "\(tracks.map(\.id))")
  }

  @Test func aLostTrackEndsAfterItsBufferInSeconds() {
    var settings = FusionTracker.Settings()
    settings.lostSeconds = 1
    // Seen for 2 s, then gone for 3 s while the detector keeps looking.
    let tracks = run(steps: 40, settings: settings) { i in (i < 16 ? [person(20 + Double(i) * 5)] : [], []) }
    #expect(tracks.count == 1)
    // Where the detector does not run, nothing is missed: the same object found again later is the same track.
    let sleeping = run(steps: 40, settings: settings) { i in
      i < 16 ? ([person(100)], []) : (i < 36 ? (nil, []) : ([person(101)], []))
    }
    #expect(sleeping.count == 1)
  }

  @Test func blobsNoDetectionExplainsBecomeMotionTracks() {
    func blob(_ x: Double) -> Blob { Blob(box: Rect(x: x, y: 50, width: 12, height: 6), area: 60) }
    // A small mover the detector never finds, for 2 s: a motion-only track.
    let alone = run(steps: 16) { i in ([], [blob(10 + Double(i) * 4)]) }
    #expect(alone.count == 1 && alone[0].detectionHits == 0)
    // Too short to be kept.
    let short = run(steps: 16) { i in ([], i < 5 ? [blob(10 + Double(i) * 4)] : []) }
    #expect(short.isEmpty)
    // The blob of a detected person is explained: one track, the detector's.
    let explained = run(steps: 16) { i in
      let p = person(20 + Double(i) * 5)
      return ([p], [Blob(box: p.box, area: 900)])
    }
    #expect(explained.count == 1 && explained[0].detectionHits == 16)
    // A motion track the detector starts to see becomes a detector track (one track, not two).
    let handover = run(steps: 24) { i in
      let box = Rect(x: 20 + Double(i) * 5, y: 100, width: 20, height: 50)
      return (i < 12 ? [] : [Observed(box: box, score: 0.8, objectClass: .person)], [Blob(box: box, area: 900)])
    }
    #expect(handover.count == 1 && handover[0].detectionHits == 12, "\(handover.map(\.detectionHits))")
  }

  @Test func aBlobOnAFollowedObjectDoesNotMakeASecondTrack() {
    // A walker the detector follows, and a small blob that starts beside them (a bag swung out,
    // a shadow) and then stays inside their box: the walker's motion, not a second object.
    let beside = run(steps: 24) { i in
      let p = person(20 + Double(i) * 5)
      let bag = Rect(x: p.box.x + (i < 2 ? 24 : 4), y: 130, width: 10, height: 14)
      return ([p], [Blob(box: bag, area: 140)])
    }
    #expect(beside.count == 1, "tracks \(beside.map { ($0.id, $0.detectionHits) })")
    // A car the detector misses, passing in front of a parked car it follows: the passing car's
    // blobs are covered by the parked car's box for part of the way only; still its own track.
    let parked = Observed(box: Rect(x: 200, y: 100, width: 80, height: 40), score: 0.9, objectClass: .car)
    let passing = run(steps: 40) { i in
      ([parked], [Blob(box: Rect(x: Double(i) * 8, y: 110, width: 30, height: 15), area: 450)])
    }
    #expect(passing.count == 2, "tracks \(passing.map { ($0.id, $0.detectionHits) })")
  }

  @Test func weakDetectionsOnlyExtendTracks() {
    // A weak detection alone never starts a track; after confident ones it continues the track.
    let weakOnly = run(steps: 16) { i in ([person(20 + Double(i) * 5, score: 0.3)], []) }
    #expect(weakOnly.isEmpty)
    let mixed = run(steps: 24) { i in ([person(20 + Double(i) * 5, score: i < 8 ? 0.8 : 0.3)], []) }
    #expect(mixed.count == 1 && mixed[0].detectionHits == 24)
  }

  /// L7: association uses motion and overlap only. The tracker is given boxes, scores and classes,
  /// never pixels, and its sources hold no appearance model of any kind.
  @Test func associationUsesMotionAndOverlapOnly() throws {
    let fields = Mirror(reflecting: person(0)).children.compactMap(\.label).sorted()
    #expect(fields == ["box", "objectClass", "score", "withTwoWheeler"], "what the tracker sees of a detection: \(fields)")
    let blobFields = Mirror(reflecting: Blob(box: Rect(x: 0, y: 0, width: 1, height: 1), area: 1)).children
      .compactMap(\.label).sorted()
    #expect(blobFields == ["area", "box"])
    let folder = TestPaths.repository.appendingPathComponent("Sources/Ingest")
    for file in ["FusionTracker.swift", "Kalman.swift"] {
      let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      for word in ["YUVImage", "RGBImage", "GrayImage", "ModelFrame", "Mask", "embedding", "histogram", "feature",
                   "import Media"] {
        #expect(!text.contains(word), "\(file) mentions \(word)")
      }
    }
  }
}

/// The detector-first pipeline on small pictures and unusual pixel formats: no crash, no
/// out-of-bounds crop or plane arithmetic (skipped without the model or ffmpeg).
struct SmallPictureDetectionTests {
  static var available: Bool {
    TestPaths.classifierModel != nil && (try? Run.program("ffmpeg", ["-version"]).status) == 0
  }

  @Test(.enabled(if: available, "../shared/models or ffmpeg is absent"))
  func smallPicturesInEveryFormat() throws {
    let folder = try TestPaths.temporaryFolder("lrj-small")
    defer { try? FileManager.default.removeItem(at: folder) }
    var settings = AnalysisSettings()
    settings.classifierModel = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    settings.detectorRuntime = .openCV
    settings.bootstrapSeconds = 0.5
    for (width, height) in [(16, 16), (17, 23), (40, 17), (33, 40)] {
      for format in ["yuv420p", "yuv444p", "gray", "rgb24", "yuvj422p"] {
        let clip = folder.appendingPathComponent("c\(width)x\(height)-\(format).mkv").path
        // A moving square over noise, 2 s at 10 frames/s, lossless so odd sizes stay as they are.
        let made = try Run.program(
          "ffmpeg",
          ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=10:duration=2", "-pix_fmt", format,
           "-c:v", "ffv1", "-y", clip])
        try #require(made.status == 0, "ffmpeg: \(made.standardError)")
        let store = try IndexStore.inMemory()
        let report = try Ingestor(store: store, settings: settings).ingest(
          path: clip, camera: "small", start: try WallClockTime(iso8601: "2026-03-01T10:00:00+00:00"))
        #expect(report.frames >= 19, "\(clip): \(report.frames) frames")
        #expect(abs(report.width - width) <= 1 && abs(report.height - height) <= 1,
                "\(clip): \(report.width)x\(report.height)")
      }
    }
  }
}
