import Index

/// Tubes that interacted in the original footage (shown at the same time, boxes touching) and are
/// therefore placed together, keeping their relative timing (Pritch et al. §4: interacting tubes
/// keep their chronological relation).
struct TubeGroup: Sendable {
  /// Members as (tube index, frames after the group's first frame).
  var members: [(tube: Int, offset: Int)]
  /// Frame of the group's first box on the source timeline.
  var timelineStart: Int
  /// Frames from the group's first box to its last, inclusive.
  var length: Int
  /// Boxes by frame relative to the group's start, with the member each belongs to.
  var frames: [[(box: Box, tube: Int)]]
}

/// A pair of tubes that interacted but belong to different groups: the first must not appear
/// later than the second in the synopsis.
struct OrderConstraint: Sendable, Hashable {
  var earlier: Int
  var later: Int
}

/// Finds interacting tubes and groups them.
enum Grouping {
  /// Groups `tubes` (their first frames on the source timeline in `starts`, at the output rate).
  ///
  /// Two tubes interact when they are in the picture at the same time and their boxes, each grown
  /// by `margin` of its larger side, intersect for `minimumFrames` frames or more. Interacting tubes join one
  /// group unless the group would span more than `maxGroupFrames`; then only their order is kept.
  static func groups(_ tubes: [Tube], starts: [Int], margin: Double, minimumFrames: Int, maxGroupFrames: Int)
    -> (groups: [TubeGroup], groupOfTube: [Int], constraints: [OrderConstraint])
  {
    let order = tubes.indices.sorted { (starts[$0], $0) < (starts[$1], $1) }
    var parent = Array(tubes.indices)
    var spanStart = starts
    var spanEnd = tubes.indices.map { starts[$0] + tubes[$0].boxes.count }
    func find(_ i: Int) -> Int {
      var i = i
      while parent[i] != i {
        parent[i] = parent[parent[i]]
        i = parent[i]
      }
      return i
    }
    var pending: [OrderConstraint] = []
    for (position, i) in order.enumerated() {
      let endI = starts[i] + tubes[i].boxes.count
      for j in order[(position + 1)...] {
        if starts[j] >= endI { break }
        guard interact(tubes[i], starts[i], tubes[j], starts[j], margin: margin, minimumFrames: minimumFrames) else {
          continue
        }
        let a = find(i)
        let b = find(j)
        if a == b { continue }
        let lower = min(spanStart[a], spanStart[b])
        let upper = max(spanEnd[a], spanEnd[b])
        if upper - lower <= maxGroupFrames {
          let (root, child) = a < b ? (a, b) : (b, a)
          parent[child] = root
          spanStart[root] = lower
          spanEnd[root] = upper
        } else {
          pending.append(OrderConstraint(earlier: i, later: j))
        }
      }
    }
    // Groups in order of their first frame, members in order of theirs.
    var membersOfRoot: [Int: [Int]] = [:]
    for i in order { membersOfRoot[find(i), default: []].append(i) }
    let roots = membersOfRoot.keys.sorted { (spanStart[$0], $0) < (spanStart[$1], $1) }
    var groupOfTube = Array(repeating: 0, count: tubes.count)
    var groups: [TubeGroup] = []
    for (g, root) in roots.enumerated() {
      let members = membersOfRoot[root]!
      let start = members.map { starts[$0] }.min()!
      let length = members.map { starts[$0] + tubes[$0].boxes.count }.max()! - start
      var frames = Array(repeating: [(box: Box, tube: Int)](), count: length)
      for m in members {
        groupOfTube[m] = g
        for (k, box) in tubes[m].boxes.enumerated() { frames[starts[m] - start + k].append((box, m)) }
      }
      groups.append(TubeGroup(members: members.map { ($0, starts[$0] - start) }, timelineStart: start, length: length,
                              frames: frames))
    }
    let constraints = pending.filter { groupOfTube[$0.earlier] != groupOfTube[$0.later] }
    return (groups, groupOfTube, constraints)
  }

  /// Whether two tubes stay in contact (boxes grown by `margin` intersecting) for at least
  /// `minimumFrames` of the frames both are in the picture. A car passing in front of a walker
  /// touches them briefly and does not count; two people walking together do.
  static func interact(_ a: Tube, _ startA: Int, _ b: Tube, _ startB: Int, margin: Double, minimumFrames: Int) -> Bool {
    let from = max(startA, startB)
    let to = min(startA + a.boxes.count, startB + b.boxes.count)
    guard to - from >= minimumFrames else { return false }
    var touching = 0
    for frame in from..<to {
      let boxA = a.boxes[frame - startA].expanded(by: margin)
      let boxB = b.boxes[frame - startB].expanded(by: margin)
      if boxA.overlapArea(boxB) > 0 {
        touching += 1
        if touching >= minimumFrames { return true }
      }
    }
    return false
  }
}
