import Foundation
import Index

/// What the planner aims for.
public enum PlanTarget: Sendable, Hashable {
  /// A target duration in seconds; collisions are minimised within it.
  case length(seconds: Double)
  /// At most this many objects in the picture at once, without collisions.
  case density(Int)
  /// The shortest synopsis whose collision area is at most this fraction (0…1).
  case collision(Double)
}

/// How the planner works.
public struct PlannerSettings: Sendable, Hashable {
  /// Output frames per second (the tubes' boxes are at this rate).
  public var frameRate: Double
  /// What to aim for.
  public var target: PlanTarget
  /// Output frames between two start positions tried; 0 means a fifth of a second.
  public var candidateStep = 0
  /// Every how many frames the collision cost is sampled while searching (the reported figure
  /// uses every frame).
  public var costStride = 2
  /// Margin, as a fraction of the larger box side, under which two simultaneous objects interact.
  public var interactionMargin = 0.1
  /// Seconds two simultaneous objects must stay in contact to interact.
  public var interactionSeconds = 1.5
  /// The longest span of a group of interacting tubes placed together, in seconds.
  public var maxGroupSeconds = 20.0
  /// How many times faster a tube's still stretches play (`Tube.timeLapsed`); 1 plays every
  /// tube at its own speed. Tubes that interact with others are never time-lapsed.
  public var stillSpeedup = 1
  /// Seconds an object must stay put for its stretch to be time-lapsed.
  public var stillSeconds = 2.0
  /// How far an object may drift (centre and size, as a fraction of its larger side) and still be
  /// still.
  public var stillTolerance = 0.1

  /// Creates settings.
  public init(frameRate: Double, target: PlanTarget) {
    self.frameRate = frameRate
    self.target = target
  }
}

/// Where one tube goes in the synopsis.
public struct Placement: Sendable, Hashable {
  /// Index of the tube in the planner's input.
  public var tube: Int
  /// The group of interacting tubes it moves with.
  public var group: Int
  /// Output frame of the tube's first box.
  public var outputStart: Int
  /// Output frame after its last box.
  public var outputEnd: Int
}

/// Overlap between objects shown at the same time in the synopsis.
public struct CollisionMeasure: Sendable, Hashable, Codable {
  /// Sum over output frames and pairs of objects of different groups of their boxes' common area
  /// (square pixels).
  public var overlapArea: Double
  /// Sum over output frames and objects of their box area.
  public var objectArea: Double

  /// `overlapArea / objectArea`, 0 for no object.
  public var fraction: Double { objectArea > 0 ? overlapArea / objectArea : 0 }
}

/// A placement of every tube on the synopsis timeline.
public struct SynopsisPlan: Sendable, Hashable {
  /// Output frames per second.
  public var frameRate: Double
  /// One per input tube, in input order.
  public var placements: [Placement]
  /// The tubes as the synopsis shows them, in input order: the input tubes, with the still stretches
  /// of lone ones time-lapsed when `PlannerSettings.stillSpeedup` is more than 1. Render these.
  public var tubes: [Tube]
  /// Output frames (up to the end of the last tube).
  public var frameCount: Int
  /// Frames of the source timeline from the first tube's start to the last tube's end.
  public var sourceFrames: Int
  /// Collision area of the plan, every frame counted.
  public var collision: CollisionMeasure
  /// The most objects shown in one output frame.
  public var maxConcurrent: Int
  /// Groups of interacting tubes.
  public var groups: Int

  /// Output duration in seconds.
  public var seconds: Double { Double(frameCount) / frameRate }
  /// Source timeline span over output duration.
  public var condensation: Double { frameCount > 0 ? Double(sourceFrames) / Double(frameCount) : 0 }

  /// The placements of tubes visible at output frame `frame`.
  public func visible(at frame: Int) -> [Placement] {
    placements.filter { $0.outputStart <= frame && frame < $0.outputEnd }
  }
}

/// Shifts tubes in time (Pritch, Rav-Acha & Peleg 2008) greedily: groups of interacting tubes are
/// taken by start time, each placed at the earliest start free of collisions (or, under a length
/// limit, of least collision area), never earlier than a tube it interacted with and never past
/// the target.
///
/// Deterministic: the same tubes and settings give the same plan.
public enum SynopsisPlanner {
  /// Plans `tubes`.
  /// - Throws: `SynopsisError` for no tube, a non-positive frame rate, length or density.
  public static func plan(_ tubes: [Tube], settings: PlannerSettings) throws(SynopsisError) -> SynopsisPlan {
    guard !tubes.isEmpty else { throw SynopsisError("no object to show") }
    guard settings.frameRate.isFinite, settings.frameRate > 0 else {
      throw SynopsisError("the frame rate must be positive")
    }
    let fps = settings.frameRate
    let origin = tubes.map(\.timelineStart).min()!
    let starts = tubes.map { Int((($0.timelineStart - origin) * fps).rounded()) }
    let grouping = Grouping.groups(
      tubes, starts: starts, margin: settings.interactionMargin,
      minimumFrames: max(1, Int((settings.interactionSeconds * fps).rounded())), maxGroupFrames: max(1, Int(settings.maxGroupSeconds * fps)))
    var groups = grouping.groups
    let (groupOfTube, constraints) = (grouping.groupOfTube, grouping.constraints)
    // The source span, from the tubes as recorded.
    let span = zip(tubes, starts).map { $1 + $0.boxes.count }.max()!
    // Lone tubes play their still stretches faster; groups keep their members' relative timing.
    var shown = tubes
    if settings.stillSpeedup > 1 {
      let minimumFrames = max(2, Int((settings.stillSeconds * fps).rounded()))
      for (g, group) in groups.enumerated() where group.members.count == 1 {
        let i = group.members[0].tube
        let lapsed = tubes[i].timeLapsed(frameRate: fps, speedup: settings.stillSpeedup, minimumFrames: minimumFrames,
                                         tolerance: settings.stillTolerance)
        guard lapsed.boxes.count < tubes[i].boxes.count else { continue }
        shown[i] = lapsed
        groups[g].length = lapsed.boxes.count
        groups[g].frames = lapsed.boxes.map { [(box: $0, tube: i)] }
      }
    }
    let longest = groups.map(\.length).max()!
    let packer = Packer(groups: groups, groupOfTube: groupOfTube, constraints: constraints,
                        step: settings.candidateStep > 0 ? settings.candidateStep : max(1, Int((fps / 5).rounded())),
                        stride: max(1, settings.costStride))

    let groupStarts: [Int]
    switch settings.target {
    case .length(let seconds):
      guard seconds.isFinite, seconds > 0 else { throw SynopsisError("the length must be more than 0 seconds") }
      // Clamped so that absurd lengths (1e19 s) mean "no limit" rather than overflow Int.
      groupStarts = packer.place(limit: max(1, Int(min((seconds * fps).rounded(), Double(Int32.max)))), density: nil)
    case .density(let most):
      guard most > 0 else { throw SynopsisError("the density must be at least 1 object") }
      groupStarts = packer.place(limit: nil, density: most)
    case .collision(let bound):
      guard bound.isFinite, bound >= 0 else { throw SynopsisError("the collision bound must be 0 or more") }
      // The shortest limit (to a candidate step) whose plan stays under the bound.
      var best = packer.place(limit: span, density: nil)
      if packer.measure(best).collision.fraction <= bound {
        var low = longest
        var high = span
        let step = packer.step
        while high - low > step {
          let middle = low + (high - low) / 2
          let attempt = packer.place(limit: middle, density: nil)
          if packer.measure(attempt).collision.fraction <= bound {
            best = attempt
            high = middle
          } else {
            low = middle + 1
          }
        }
      }
      groupStarts = best
    }

    let measured = packer.measure(groupStarts)
    var placements: [Placement] = []
    for (i, tube) in shown.enumerated() {
      let g = groupOfTube[i]
      let start = groupStarts[g] + starts[i] - groups[g].timelineStart
      placements.append(Placement(tube: i, group: g, outputStart: start, outputEnd: start + tube.boxes.count))
    }
    return SynopsisPlan(
      frameRate: fps, placements: placements, tubes: shown, frameCount: measured.frames, sourceFrames: span - starts.min()!,
      collision: measured.collision, maxConcurrent: measured.maxConcurrent, groups: groups.count)
  }
}

/// The greedy placement, with the output timeline's occupancy.
struct Packer {
  let groups: [TubeGroup]
  let groupOfTube: [Int]
  /// For each group, the constraints that involve one of its tubes.
  let constraintsOfGroup: [[OrderConstraint]]
  let step: Int
  let stride: Int

  init(groups: [TubeGroup], groupOfTube: [Int], constraints: [OrderConstraint], step: Int, stride: Int) {
    self.groups = groups
    self.groupOfTube = groupOfTube
    var byGroup = Array(repeating: [OrderConstraint](), count: groups.count)
    for c in constraints {
      byGroup[groupOfTube[c.earlier]].append(c)
      byGroup[groupOfTube[c.later]].append(c)
    }
    constraintsOfGroup = byGroup
    self.step = step
    self.stride = stride
  }

  /// Output start frame of each group.
  func place(limit: Int?, density: Int?) -> [Int] {
    var boxes: [[Box]] = []
    var counts: [Int] = []
    var end = 0
    var starts = Array(repeating: -1, count: groups.count)
    func offset(_ tube: Int) -> Int { groups[groupOfTube[tube]].members.first { $0.tube == tube }!.offset }

    for (g, group) in groups.enumerated() {
      var low = 0
      var high = Int.max
      for c in constraintsOfGroup[g] {
        if groupOfTube[c.later] == g, starts[groupOfTube[c.earlier]] >= 0 {
          low = max(low, starts[groupOfTube[c.earlier]] + offset(c.earlier) - offset(c.later))
        } else if groupOfTube[c.earlier] == g, starts[groupOfTube[c.later]] >= 0 {
          high = min(high, starts[groupOfTube[c.later]] + offset(c.later) - offset(c.earlier))
        }
      }
      if high < low { high = Int.max }
      let last = max(low, min(high, limit.map { $0 - group.length } ?? end))
      var chosen: (cost: Double, start: Int)?
      var s = low
      while s <= last {
        if density.map({ fits(group, at: s, counts: counts, most: $0) }) ?? true {
          let cost = self.cost(group, at: s, boxes: boxes)
          if chosen == nil || cost < chosen!.cost { chosen = (cost, s) }
          if cost == 0 { break }
        }
        s = s < last && s + step > last ? last : s + step
      }
      let start = chosen?.start ?? max(low, end)
      starts[g] = start
      let needed = start + group.length
      if boxes.count < needed {
        boxes += Array(repeating: [], count: needed - boxes.count)
        counts += Array(repeating: 0, count: needed - counts.count)
      }
      for (r, frame) in group.frames.enumerated() {
        for item in frame { boxes[start + r].append(item.box) }
        counts[start + r] += frame.count
      }
      end = max(end, needed)
    }
    return starts
  }

  /// Common area of the group's boxes at `start` with those already placed (sampled every `stride` frames).
  func cost(_ group: TubeGroup, at start: Int, boxes: [[Box]]) -> Double {
    var total = 0.0
    var r = 0
    while r < group.length, start + r < boxes.count {
      let placed = boxes[start + r]
      if !placed.isEmpty {
        for item in group.frames[r] {
          for other in placed { total += item.box.overlapArea(other) }
        }
      }
      r += stride
    }
    return total
  }

  func fits(_ group: TubeGroup, at start: Int, counts: [Int], most: Int) -> Bool {
    for r in 0..<group.length where start + r < counts.count {
      let here = group.frames[r].count
      if here > 0 && counts[start + r] + here > max(most, here) { return false }
    }
    return true
  }

  /// Collision area, output length and most objects at once, every frame counted.
  func measure(_ starts: [Int]) -> (collision: CollisionMeasure, frames: Int, maxConcurrent: Int) {
    let frames = zip(groups, starts).map { $1 + $0.length }.max() ?? 0
    var byFrame = Array(repeating: [(box: Box, group: Int)](), count: frames)
    for (g, group) in groups.enumerated() {
      for (r, frame) in group.frames.enumerated() {
        for item in frame { byFrame[starts[g] + r].append((item.box, g)) }
      }
    }
    var measure = CollisionMeasure(overlapArea: 0, objectArea: 0)
    var most = 0
    for frame in byFrame {
      most = max(most, frame.count)
      for (i, a) in frame.enumerated() {
        measure.objectArea += a.box.area
        for b in frame[(i + 1)...] where b.group != a.group { measure.overlapArea += a.box.overlapArea(b.box) }
      }
    }
    return (measure, frames, most)
  }
}
