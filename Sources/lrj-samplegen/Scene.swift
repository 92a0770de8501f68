import Foundation

/// The kind of object drawn, named like lrj's classes.
enum Shape: String, Codable {
  case person
  case car
  case twoWheeler = "two-wheeler"
  case busTruck = "bus-truck"

  /// Size in pixels when standing at the bottom edge of a 1280x720 picture.
  var baseSize: (width: Double, height: Double) {
    switch self {
    case .person: (60, 170)
    case .car: (260, 110)
    case .twoWheeler: (130, 140)
    case .busTruck: (560, 250)
    }
  }
}

/// A point of an object's route: at `time` seconds its bottom-centre is at (x, y), normalised.
struct Waypoint {
  var time: Double
  var x: Double
  var y: Double
}

/// One object of the scene and its route (linear between waypoints; equal points mean a stop).
struct SceneObject {
  var id: Int
  var label: String
  var shape: Shape
  var colourName: String
  var colour: RGB
  var route: [Waypoint]

  var start: Double { route.first!.time }
  var end: Double { route.last!.time }

  /// Bottom-centre position (normalised) at time t, or nil outside the route.
  func position(at t: Double) -> (x: Double, y: Double)? {
    guard t >= start, t <= end else { return nil }
    for (a, b) in zip(route, route.dropFirst()) where t <= b.time {
      let f = b.time > a.time ? (t - a.time) / (b.time - a.time) : 0
      return (a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f)
    }
    return (route.last!.x, route.last!.y)
  }

  /// Whether the object is moving at time t.
  func isMoving(at t: Double) -> Bool {
    for (a, b) in zip(route, route.dropFirst()) where t >= a.time && t < b.time {
      return a.x != b.x || a.y != b.y
    }
    return false
  }

  /// The horizontal sign of travel at time t (+1 right, -1 left, 0 none), for drawing the front.
  func heading(at t: Double) -> Double {
    for (a, b) in zip(route, route.dropFirst()) where t >= a.time && t <= b.time && b.x != a.x {
      return b.x > a.x ? 1 : -1
    }
    return route.last!.x >= route.first!.x ? 1 : -1
  }
}

/// The street scene of the Samples clip: its size, length and objects.
struct StreetScene {
  let width = 1280
  let height = 720
  let fps = 25
  let duration = 40.0

  /// Perspective: the scale of an object whose feet are at normalised height y.
  static func scale(atFootY y: Double) -> Double {
    max(0.3, 0.45 + 0.55 * (y - 0.3) / 0.7)
  }

  /// The object's box in pixels (x, y, w, h), unclipped, at time t.
  func box(of object: SceneObject, at t: Double) -> (x: Double, y: Double, w: Double, h: Double)? {
    guard let p = object.position(at: t) else { return nil }
    let s = Self.scale(atFootY: p.y)
    let w = object.shape.baseSize.width * s
    let h = object.shape.baseSize.height * s
    return (p.x * Double(width) - w / 2, p.y * Double(height) - h, w, h)
  }

  let objects: [SceneObject] = [
    SceneObject(
      id: 1, label: "red car going right", shape: .car, colourName: "red", colour: RGB(200, 28, 30),
      route: [Waypoint(time: 1, x: -0.12, y: 0.66), Waypoint(time: 6.5, x: 1.12, y: 0.66)]),
    SceneObject(
      id: 2, label: "blue car going left", shape: .car, colourName: "blue", colour: RGB(30, 70, 190),
      route: [Waypoint(time: 3, x: 1.12, y: 0.55), Waypoint(time: 9, x: -0.12, y: 0.55)]),
    SceneObject(
      id: 3, label: "person in green walking right (crosses person 4)", shape: .person, colourName: "green",
      colour: RGB(40, 150, 60),
      route: [Waypoint(time: 2, x: -0.03, y: 0.93), Waypoint(time: 22, x: 1.03, y: 0.93)]),
    SceneObject(
      id: 4, label: "person in yellow walking left (crosses person 3)", shape: .person, colourName: "yellow",
      colour: RGB(225, 200, 40),
      route: [Waypoint(time: 5, x: 1.03, y: 0.89), Waypoint(time: 24, x: -0.03, y: 0.89)]),
    SceneObject(
      id: 5, label: "person in purple walking right, stopping 7 s", shape: .person, colourName: "purple",
      colour: RGB(120, 40, 150),
      route: [
        Waypoint(time: 4, x: -0.03, y: 0.39), Waypoint(time: 12, x: 0.45, y: 0.39),
        Waypoint(time: 19, x: 0.45, y: 0.39), Waypoint(time: 28, x: 1.03, y: 0.39),
      ]),
    SceneObject(
      id: 6, label: "black car parked, leaving to the left at 22 s", shape: .car, colourName: "black",
      colour: RGB(22, 22, 25),
      route: [
        Waypoint(time: 0, x: 0.32, y: 0.77), Waypoint(time: 22, x: 0.32, y: 0.77),
        Waypoint(time: 27, x: -0.14, y: 0.77),
      ]),
    SceneObject(
      id: 7, label: "orange two-wheeler going left", shape: .twoWheeler, colourName: "orange",
      colour: RGB(235, 120, 20),
      route: [Waypoint(time: 10, x: 1.08, y: 0.62), Waypoint(time: 16, x: -0.08, y: 0.62)]),
    SceneObject(
      id: 8, label: "white truck going right", shape: .busTruck, colourName: "white", colour: RGB(235, 235, 232),
      route: [Waypoint(time: 13, x: -0.25, y: 0.70), Waypoint(time: 24, x: 1.25, y: 0.70)]),
    SceneObject(
      id: 9, label: "person in red walking down across the road", shape: .person, colourName: "red",
      colour: RGB(205, 30, 35),
      route: [Waypoint(time: 25, x: 0.12, y: 0.40), Waypoint(time: 35, x: 0.12, y: 0.99)]),
    SceneObject(
      id: 10, label: "person in blue walking up and right", shape: .person, colourName: "blue",
      colour: RGB(35, 75, 200),
      route: [Waypoint(time: 28, x: 0.60, y: 0.99), Waypoint(time: 38, x: 0.85, y: 0.40)]),
    SceneObject(
      id: 11, label: "pink two-wheeler going right", shape: .twoWheeler, colourName: "pink", colour: RGB(240, 110, 180),
      route: [Waypoint(time: 30, x: -0.08, y: 0.68), Waypoint(time: 36, x: 1.08, y: 0.68)]),
    SceneObject(
      id: 12, label: "green car going left", shape: .car, colourName: "green", colour: RGB(30, 140, 50),
      route: [Waypoint(time: 31, x: 1.12, y: 0.55), Waypoint(time: 37, x: -0.12, y: 0.55)]),
  ]
}
