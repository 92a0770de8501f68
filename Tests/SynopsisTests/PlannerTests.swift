import Foundation
import Index
import Synopsis
import Testing

/// The planner on synthetic tubes whose best placement is known.
struct PlannerTests {
  static let origin = WallClockTime(date: Date(timeIntervalSince1970: 1_772_355_600), utcOffsetSeconds: 3600)

  /// A tube of `seconds` at 10 fps starting `start` seconds into the exhibit, moving right from `x`
  /// along row `y` by `speed` pixels a frame.
  static func tube(_ id: Int, start: Double, seconds: Double, x: Double = 0, y: Double = 100, speed: Double = 10)
    -> Tube
  {
    let count = Int(seconds * 10)
    let boxes = (0..<count).map { Box(x: x + Double($0) * speed, y: y, width: 40, height: 40) }
    return Tube(track: "T\(id)", exhibit: "E1", objectClass: .car, sourceOffset: start, exhibitStart: origin, boxes: boxes)
  }

  @Test func separateObjectsOverlapInTimeWithoutCollision() throws {
    // Ten objects, one a minute, each 5 s on its own row: they can all play at once.
    let tubes = (0..<10).map { Self.tube($0, start: Double($0) * 60, seconds: 5, y: Double($0) * 50) }
    let plan = try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .collision(0.05)))
    #expect(plan.frameCount == 50, "all ten fit in the length of one: \(plan.frameCount)")
    #expect(plan.collision.overlapArea == 0)
    #expect(plan.maxConcurrent == 10)
    #expect(plan.condensation > 100)
    #expect(plan.placements.map(\.tube) == Array(0..<10))
  }

  @Test func objectsOnTheSamePathAreQueuedAndKeepTheirOrder() throws {
    // Same row, same motion, 30 s apart: any time overlap is a collision.
    let tubes = (0..<6).map { Self.tube($0, start: Double($0) * 30, seconds: 4) }
    let plan = try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .collision(0)))
    #expect(plan.collision.overlapArea == 0)
    let starts = plan.placements.map(\.outputStart)
    #expect(starts == starts.sorted(), "first come, first shown: \(starts)")
    // A follower may enter once the previous object has moved on by its own width (4 frames) and
    // the candidate step (2 frames): far less than the 40-frame tube.
    #expect(plan.frameCount < 6 * 40 / 2, "\(plan.frameCount) frames")
    #expect(plan.frameCount >= 40 + 5 * 4)
  }

  @Test func aLengthTargetIsHonouredAtTheCostOfCollisions() throws {
    let tubes = (0..<6).map { Self.tube($0, start: Double($0) * 30, seconds: 4) }
    let plan = try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .length(seconds: 5)))
    #expect(plan.frameCount <= 50)
    #expect(plan.collision.fraction > 0, "six objects on one path in 5 s must collide")
    let free = try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .length(seconds: 60)))
    #expect(free.collision.overlapArea == 0, "with room enough nothing collides")
  }

  @Test func densityLimitsObjectsAtOnce() throws {
    let tubes = (0..<9).map { Self.tube($0, start: Double($0) * 60, seconds: 5, y: Double($0) * 50) }
    let plan = try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .density(3)))
    #expect(plan.maxConcurrent == 3)
    #expect(plan.frameCount == 150, "three waves of three: \(plan.frameCount)")
  }

  @Test func interactingTubesMoveTogether() throws {
    // Two objects side by side (touching) for 5 s, and a third alone much later.
    let a = Self.tube(1, start: 100, seconds: 5, y: 100)
    let b = Self.tube(2, start: 101, seconds: 5, x: 100, y: 142)
    let c = Self.tube(3, start: 500, seconds: 5, y: 400)
    let plan = try SynopsisPlanner.plan([a, b, c], settings: PlannerSettings(frameRate: 10, target: .collision(0.05)))
    let pa = plan.placements[0]
    let pb = plan.placements[1]
    #expect(pa.group == pb.group && plan.placements[2].group != pa.group)
    #expect(pb.outputStart - pa.outputStart == 10, "their 1 s lag is kept")
    #expect(plan.groups == 2)
  }

  @Test func plansAreDeterministic() throws {
    var generator = SplitMix(seed: 7)
    let tubes = (0..<40).map { i in
      Self.tube(i, start: Double(generator.next() % 3600), seconds: Double(2 + generator.next() % 8),
                x: Double(generator.next() % 600), y: Double(generator.next() % 400))
    }
    let settings = PlannerSettings(frameRate: 10, target: .collision(0.05))
    let first = try SynopsisPlanner.plan(tubes, settings: settings)
    let second = try SynopsisPlanner.plan(tubes, settings: settings)
    #expect(first == second)
    #expect(first.collision.fraction <= 0.05)
    #expect(first.condensation > 20)
    #expect(Set(first.placements.map(\.tube)) == Set(0..<40), "every tube exactly once")
  }

  @Test func badTargetsAreRefused() {
    let tubes = [Self.tube(1, start: 0, seconds: 2)]
    #expect(throws: SynopsisError.self) { try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .length(seconds: 0))) }
    #expect(throws: SynopsisError.self) { try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .length(seconds: -3))) }
    #expect(throws: SynopsisError.self) { try SynopsisPlanner.plan(tubes, settings: PlannerSettings(frameRate: 10, target: .density(0))) }
    #expect(throws: SynopsisError.self) { try SynopsisPlanner.plan([], settings: PlannerSettings(frameRate: 10, target: .density(2))) }
  }

  @Test func tubesResamplePathsAtTheOutputRate() throws {
    let path = [PathSample(time: 2.0, frameIndex: 50, box: Box(x: 0, y: 0, width: 10, height: 10)),
                PathSample(time: 3.0, frameIndex: 75, box: Box(x: 100, y: 0, width: 30, height: 10))]
    let tube = try #require(Tube(track: "T1", exhibit: "E1", objectClass: .person, exhibitStart: Self.origin, path: path,
                                 frameRate: 10))
    #expect(tube.boxes.count == 11)
    #expect(tube.boxes[5] == Box(x: 50, y: 0, width: 20, height: 10))
    #expect(tube.sourceOffset == 2)
    #expect(tube.clockTime(ofBox: 10, frameRate: 10).iso8601(fractionDigits: 0) == "2026-03-01T10:00:03+01:00")
  }
}

/// A small deterministic generator for test data.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> Int {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
  }
}
