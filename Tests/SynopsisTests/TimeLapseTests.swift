import Foundation
import Index
import Media
import Synopsis
import Testing

/// Objects that stay put play faster (Pritch et al. let a tube's speed change), with true clocks.
struct TimeLapseTests {
  static let origin = PlannerTests.origin

  /// At 10 fps from `start` s: 2 s driving right into `x`, `still` s parked there (1 px jitter),
  /// 2 s driving on.
  static func parking(_ id: Int, start: Double, still: Double, x: Double = 200, y: Double = 100) -> Tube {
    let stillFrames = Int(still * 10)
    var boxes: [Box] = []
    for k in 0..<20 { boxes.append(Box(x: x - 200 + Double(k) * 10, y: y, width: 40, height: 40)) }
    for k in 0..<stillFrames { boxes.append(Box(x: x + Double(k % 2), y: y, width: 40, height: 40)) }
    for k in 0..<20 { boxes.append(Box(x: x + 10 + Double(k) * 10, y: y, width: 40, height: 40)) }
    return Tube(track: "T\(id)", exhibit: "E1", objectClass: .car, sourceOffset: start, exhibitStart: origin, boxes: boxes)
  }

  @Test func stillStretchesPlayFasterWithTrueTimes() throws {
    let tube = Self.parking(1, start: 100, still: 30)
    let lapsed = tube.timeLapsed(frameRate: 10, speedup: 8, minimumFrames: 20, tolerance: 0.1)
    // 20 moving boxes, the 300 still ones one in 8 plus the last (39), 20 moving boxes.
    #expect(lapsed.boxes.count == 20 + 39 + 20)
    #expect(lapsed.boxTimes.count == lapsed.boxes.count)
    #expect(lapsed.sourceOffset == tube.sourceOffset)
    #expect(lapsed.sourceTime(ofBox: 0, frameRate: 10) == tube.sourceTime(ofBox: 0, frameRate: 10))
    #expect(abs(lapsed.sourceTime(ofBox: lapsed.boxes.count - 1, frameRate: 10)
      - tube.sourceTime(ofBox: tube.boxes.count - 1, frameRate: 10)) < 1e-9, "the last time does not change")
    let times = (0..<lapsed.boxes.count).map { lapsed.sourceTime(ofBox: $0, frameRate: 10) }
    #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
    // Moving parts keep every box at its own time; each kept box is the one recorded at its time.
    for k in 0..<20 { #expect(abs(times[k] - tube.sourceTime(ofBox: k, frameRate: 10)) < 1e-9) }
    for (k, t) in times.enumerated() {
      let original = Int(((t - tube.sourceOffset) * 10).rounded())
      #expect(lapsed.boxes[k] == tube.boxes[original])
      #expect(lapsed.clockTime(ofBox: k, frameRate: 10) == tube.clockTime(ofBox: original, frameRate: 10))
    }
    #expect(abs(times[21] - times[20] - 0.8) < 1e-9, "parked: 8 source frames between two shown")
  }

  @Test func movingOrBrieflyStillTubesAreUnchanged() {
    let moving = PlannerTests.tube(1, start: 0, seconds: 10)
    #expect(moving.timeLapsed(frameRate: 10, speedup: 8, minimumFrames: 20, tolerance: 0.1) == moving)
    let brief = Self.parking(2, start: 0, still: 1.5)
    #expect(brief.timeLapsed(frameRate: 10, speedup: 8, minimumFrames: 20, tolerance: 0.1) == brief)
    let parked = Self.parking(3, start: 0, still: 30)
    #expect(parked.timeLapsed(frameRate: 10, speedup: 1, minimumFrames: 20, tolerance: 0.1) == parked)
  }

  @Test func parkedObjectsNoLongerHoldTheSynopsis() throws {
    // Eight cars park 30 s at the same spot, a minute apart: played at their own speed they queue.
    let tubes = (0..<8).map { Self.parking($0, start: Double($0) * 60, still: 30) }
    var settings = PlannerSettings(frameRate: 10, target: .collision(0.05))
    let plain = try SynopsisPlanner.plan(tubes, settings: settings)
    settings.stillSpeedup = 8
    let lapsed = try SynopsisPlanner.plan(tubes, settings: settings)
    #expect(lapsed == (try SynopsisPlanner.plan(tubes, settings: settings)), "deterministic")
    #expect(plain.tubes == tubes)
    #expect(lapsed.frameCount * 2 < plain.frameCount, "\(lapsed.frameCount) against \(plain.frameCount) frames")
    #expect(lapsed.collision.fraction <= 0.05)
    #expect(lapsed.sourceFrames == plain.sourceFrames, "the source span is the recording's")
    for (p, tube) in zip(lapsed.placements, lapsed.tubes) {
      #expect(p.outputEnd - p.outputStart == tube.boxes.count)
      let original = tubes[p.tube]
      #expect(tube.track == original.track && tube.boxes.count < original.boxes.count)
      #expect(abs(tube.sourceTime(ofBox: tube.boxes.count - 1, frameRate: 10)
        - original.sourceTime(ofBox: original.boxes.count - 1, frameRate: 10)) < 1e-9)
    }
    let index = SynopsisIndex(plan: lapsed, tubes: lapsed.tubes, video: "s.mp4", camera: "c", size: PixelSize(width: 320, height: 180))
    #expect(index.objects.allSatisfy { $0.timeLapsed })
    for object in index.objects {
      let original = try #require(tubes.first { $0.track == object.track })
      #expect(abs(object.sourceEndOffset - original.sourceTime(ofBox: original.boxes.count - 1, frameRate: 10)) < 1e-9,
              "the index gives the source span as recorded")
    }
  }

  @Test func interactingObjectsKeepTheirSpeed() throws {
    // Two cars parked side by side, touching, for 15 s (19 s in all, within a group's 20 s): one
    // group, neither time-lapsed.
    let a = Self.parking(1, start: 10, still: 15, y: 100)
    let b = Self.parking(2, start: 10, still: 15, y: 142)
    var settings = PlannerSettings(frameRate: 10, target: .collision(0.05))
    settings.stillSpeedup = 8
    let plan = try SynopsisPlanner.plan([a, b], settings: settings)
    #expect(plan.groups == 1)
    #expect(plan.tubes == [a, b])
  }
}
