import Foundation
import Index
@testable import Ingest
import TestSupport
import Testing

/// The frames an ingest looks at depend on the footage alone, never on how its decoding and
/// analysis threads happen to run: the same file always gives the same tracks.
struct FrameScheduleTests {
  /// A decoder and an analysis on two threads, as in an ingest: the decoder sends every third frame,
  /// every ninth where the schedule says idle; the analysis rules "idle" on frames of the quiet
  /// stretches of `quiet`. Returns the frames sent.
  static func framesSent(frames: Int, quiet: @escaping @Sendable (Int) -> Bool, analysisDelay: @escaping @Sendable (Int) -> Double)
    -> [Int]
  {
    let schedule = FrameSchedule()
    let queue = BoundedQueue<Int?>(capacity: 8)
    let stride = 3
    let factor = 3
    let decoder = Thread {
      schedule.begin(lead: 2 * stride * factor)
      for index in 0..<frames where index % (schedule.isIdle(at: index) ? stride * factor : stride) == 0 {
        schedule.sent()
        queue.put(index)
      }
      queue.put(nil)
    }
    decoder.start()
    var sent: [Int] = []
    while let index = queue.take() {
      let delay = analysisDelay(index)
      if delay > 0 { Thread.sleep(forTimeInterval: delay) }
      sent.append(index)
      schedule.analysed(index, idle: quiet(index))
    }
    return sent
  }

  @Test func theFramesSentDoNotDependOnTheThreadsSpeeds() {
    // Quiet stretches of varying length, as footage where people come and go.
    let quiet: @Sendable (Int) -> Bool = { index in (index / 90) % 3 != 0 && index % 211 > 20 }
    let lockstep = Self.framesSent(frames: 1_500, quiet: quiet, analysisDelay: { _ in 0.000_3 })
    let fastAnalysis = Self.framesSent(frames: 1_500, quiet: quiet, analysisDelay: { _ in 0 })
    let jittery = Self.framesSent(frames: 1_500, quiet: quiet, analysisDelay: { index in index % 7 == 0 ? 0.002 : 0 })
    #expect(fastAnalysis == lockstep)
    #expect(jittery == lockstep)
    // The schedule did thin out the quiet stretches, and kept every third frame elsewhere.
    #expect(lockstep.count < 1_500 / 3 && lockstep.count > 1_500 / 9)
    #expect(lockstep.prefix(10) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27])
  }

  @Test func aClosedScheduleReleasesAWaitingDecoder() {
    let schedule = FrameSchedule()
    schedule.begin(lead: 4)
    schedule.sent()  // a frame the analysis never gets to
    let released = Flag()
    let decoder = Thread {
      _ = schedule.isIdle(at: 0)
      _ = schedule.isIdle(at: 100)  // beyond what is ruled: waits
      released.set()
    }
    decoder.start()
    Thread.sleep(forTimeInterval: 0.05)
    #expect(!released.isSet)
    schedule.close()
    for _ in 0..<200 where !released.isSet { Thread.sleep(forTimeInterval: 0.01) }
    #expect(released.isSet)
  }

  static var intelClip: String? {
    guard TestPaths.classifierModel != nil,
      let path = TestPaths.footage?.appendingPathComponent("intel-sample-videos/person-bicycle-car-detection.mp4").path,
      FileManager.default.fileExists(atPath: path)
    else { return nil }
    return path
  }

  /// Footage where the scene goes quiet between passers-by (the decoder then sends fewer frames):
  /// ingested twice, the same boxes. Two ingests ran different frames before the schedule.
  @Test(.enabled(if: intelClip != nil, "../shared/footage or ../shared/models is absent"))
  func theSameFootageIngestedTwiceGivesTheSameTracks() throws {
    var settings = AnalysisSettings()
    settings.classifierModel = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    settings.openVINOFolder = DetectorBackendTests.openVINOFolder  // faster than OpenCV DNN when installed
    var runs: [[String]] = []
    for _ in 0..<2 {
      let store = try IndexStore.inMemory()
      let report = try Ingestor(store: store, settings: settings).ingest(
        path: try #require(Self.intelClip), camera: "intel", start: try WallClockTime(iso8601: "2026-03-01T10:00:00+00:00"))
      runs.append(try store.boxes(ofExhibit: report.exhibit).map {
        "\($0.track) \($0.frameIndex) \($0.box.x) \($0.box.y) \($0.box.width) \($0.box.height)"
      })
    }
    #expect(!runs[0].isEmpty)
    #expect(runs[0] == runs[1])
  }
}
