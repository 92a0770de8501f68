// Plans a synopsis without rendering it: the tracks of one exhibit (MOTChallenge layout, as
// `lrj tracks --format mot` prints them) become tubes at the footage's frame rate, exactly as
// `lrj synopsis` builds them, and SynopsisPlanner places them for each target asked. Prints one
// JSON line per target: length, condensation, collision area, most objects at once, planning time.
// collisionPercent is lrj's measure: overlap between objects of different groups as a share of the
// objects' area. With --size, overlapPercentOfPicture gives the same overlap as a share of the
// synopsis picture (width × height × frames), the laxer reading of "collision area", for comparison.
// Rendering a 30-minute synopsis takes minutes; planning takes seconds, so planner changes can be
// compared on the same tracks in the same run.
//
// Usage: synopsis-plan TRACKS.mot --fps FPS [--collision PCT]... [--condense X]... [--length S]...
//          [--still-speedup N]... [--size WxH]   (default: --collision 5 --condense 20 --still-speedup 1)
import Foundation
import Index
import Synopsis

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("synopsis-plan: \(message)\n".utf8))
  exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var motPath: String?
var fps: Double?
enum Ask { case collision(Double), condense(Double), length(Double) }
var asks: [Ask] = []
var stillSpeedups: [Int] = []
var pictureArea: Double?
while !arguments.isEmpty {
  let a = arguments.removeFirst()
  func value() -> Double {
    guard !arguments.isEmpty, let v = Double(arguments.removeFirst()) else { fail("\(a) needs a number") }
    return v
  }
  switch a {
  case "--fps": fps = value()
  case "--collision": asks.append(.collision(value()))
  case "--condense": asks.append(.condense(value()))
  case "--length": asks.append(.length(value()))
  case "--still-speedup": stillSpeedups.append(Int(value()))
  case "--size":
    let wh = arguments.isEmpty ? [] : arguments.removeFirst().split(separator: "x").compactMap { Double($0) }
    guard wh.count == 2, wh[0] > 0, wh[1] > 0 else { fail("--size needs WIDTHxHEIGHT") }
    pictureArea = wh[0] * wh[1]
  default:
    guard motPath == nil, !a.hasPrefix("--") else { fail("unknown argument \(a)") }
    motPath = a
  }
}
guard let motPath, let fps, fps > 0 else { fail("usage: synopsis-plan TRACKS.mot --fps FPS [--collision PCT] [--condense X] [--length S]") }
if asks.isEmpty { asks = [.collision(5), .condense(20)] }
if stillSpeedups.isEmpty { stillSpeedups = [1] }

guard let text = try? String(contentsOfFile: motPath, encoding: .utf8) else { fail("cannot read \(motPath)") }
var paths: [Int: [PathSample]] = [:]
for line in text.split(separator: "\n") {
  let p = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
  guard p.count >= 6, let f = p[0], let id = p[1], let x = p[2], let y = p[3], let w = p[4], let h = p[5] else { continue }
  let frame = Int(f) - 1
  paths[Int(id), default: []].append(
    PathSample(time: Double(frame) / fps, frameIndex: frame, box: Box(x: x, y: y, width: w, height: h)))
}
let rate = Double(max(1, Int(fps.rounded())))
let start = WallClockTime(date: Date(timeIntervalSince1970: 0), utcOffsetSeconds: 0)
let tubes = paths.keys.sorted().compactMap { id in
  Tube(track: "T\(id)", exhibit: "E1", objectClass: .car, exhibitStart: start,
       path: paths[id]!.sorted { $0.frameIndex < $1.frameIndex }, frameRate: rate)
}
let source = Double(tubes.map { Int(($0.sourceOffset * rate).rounded()) + $0.boxes.count }.max()!
  - tubes.map { Int(($0.sourceOffset * rate).rounded()) }.min()!) / rate

for speedup in stillSpeedups {
for ask in asks {
  let target: PlanTarget
  let label: String
  switch ask {
  case .collision(let pct): target = .collision(pct / 100); label = "collision<=\(pct)%"
  case .condense(let x): target = .length(seconds: source / x); label = "\(x)x"
  case .length(let s): target = .length(seconds: s); label = "\(s)s"
  }
  let clock = ContinuousClock.now
  var settings = PlannerSettings(frameRate: rate, target: target)
  settings.stillSpeedup = speedup
  let plan = try SynopsisPlanner.plan(tubes, settings: settings)
  let d = ContinuousClock.now - clock
  let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  var line: [String: Any] = [
    "target": label, "stillSpeedup": speedup, "tubes": tubes.count, "groups": plan.groups, "sourceSeconds": (source * 10).rounded() / 10,
    "seconds": (plan.seconds * 10).rounded() / 10, "condensation": (plan.condensation * 100).rounded() / 100,
    "collisionPercent": (plan.collision.fraction * 10000).rounded() / 100, "maxConcurrent": plan.maxConcurrent,
    "planSeconds": (seconds * 100).rounded() / 100,
  ]
  if let pictureArea, plan.frameCount > 0 {
    let share = plan.collision.overlapArea / (pictureArea * Double(plan.frameCount))
    line["overlapPercentOfPicture"] = (share * 10000).rounded() / 100
  }
  print(String(data: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), encoding: .utf8)!)
}
}
