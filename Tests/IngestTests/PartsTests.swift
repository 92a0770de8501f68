@testable import Ingest
import Index
import Media
import Testing

struct ColourNamingTests {
  @Test(arguments: [
    (200, 28, 30, Colour.red), (235, 120, 20, .orange), (225, 200, 40, .yellow), (40, 150, 60, .green),
    (30, 70, 190, .blue), (120, 40, 150, .purple), (240, 110, 180, .pink), (235, 235, 232, .white),
    (22, 22, 25, .black), (128, 128, 130, .grey), (120, 70, 30, .brown),
    (220, 30, 90, .red), (250, 170, 200, .pink),
  ])
  func basicColours(r: Int, g: Int, b: Int, expected: Colour) {
    #expect(ColourNamer.name(r: Double(r) / 255, g: Double(g) / 255, b: Double(b) / 255) == expected)
  }

  @Test func tableAgreesWithTheRuleThroughYCbCr() {
    let namer = ColourNamer()
    // Pure red in BT.601 limited range: Y 81, Cb 90, Cr 240.
    #expect(namer.colour(y: 81, cb: 90, cr: 240) == .red)
    #expect(namer.colour(y: 235, cb: 128, cr: 128) == .white)
    #expect(namer.colour(y: 16, cb: 128, cr: 128) == .black)
  }
}

struct DirectionTests {
  @Test(arguments: [
    (10.0, 0.0, Direction.right), (-10, 0, .left), (0, -10, .up), (0, 10, .down), (10, -10, .upRight),
    (-10, 10, .downLeft), (10, 10, .downRight), (-10, -10, .upLeft), (0, 0, .stationary),
  ])
  func eightWays(dx: Double, dy: Double, expected: Direction) {
    #expect(Describer.direction(dx: dx, dy: dy) == expected)
  }
}

struct BackgroundModelTests {
  /// A 64x48 grey scene with a dark square at `x`.
  static func frame(squareAt x: Int?, level: UInt8 = 120) -> ModelFrame {
    var y = [UInt8](repeating: level, count: 64 * 48)
    if let x {
      for row in 20..<30 { for column in x..<(x + 8) { y[row * 64 + column] = 30 } }
    }
    return ModelFrame(width: 64, height: 48, y: y, cb: [UInt8](repeating: 128, count: 64 * 48),
                      cr: [UInt8](repeating: 128, count: 64 * 48))
  }

  @Test func bootstrapIgnoresAnObjectAlreadyMoving() {
    // The square moves through the first frames: the median is the empty scene.
    let frames = (0..<9).map { Self.frame(squareAt: 2 + $0 * 6) }
    var model = BackgroundModel(bootstrap: frames)
    #expect(model.background.y.allSatisfy { abs(Int($0) - 120) <= 1 })
    let mask = model.apply(Self.frame(squareAt: 30))
    let foreground = mask.bits.reduce(0) { $0 + Int($1) }
    #expect(foreground == 80, "exactly the 8x10 square is foreground")
  }

  @Test func gradualLightChangeIsNotForeground() {
    var model = BackgroundModel(bootstrap: [Self.frame(squareAt: nil)])
    var level: UInt8 = 120
    for _ in 0..<40 {
      level += 1
      let mask = model.apply(Self.frame(squareAt: nil, level: level))
      #expect(mask.bits.allSatisfy { $0 == 0 })
    }
  }

  @Test func aStillObjectIsAbsorbedInTheEnd() {
    var settings = BackgroundModel.Settings()
    settings.absorbAfter = 20
    var model = BackgroundModel(bootstrap: [Self.frame(squareAt: nil)], settings: settings)
    var last = 0
    for _ in 0..<25 { last = model.apply(Self.frame(squareAt: 10)).bits.reduce(0) { $0 + Int($1) } }
    #expect(last == 0, "after absorbAfter frames the parked square is background")
  }
}

struct TrackerTests {
  /// Two boxes crossing horizontally keep their identities.
  @Test func crossingObjectsKeepTheirIdentity() {
    var tracker = Tracker(frame: PixelSize(width: 320, height: 180))
    var ended: [TrackState] = []
    for step in 0..<60 {
      let t = Double(step) * 0.1
      let a = Rect(x: 20 + Double(step) * 4, y: 80, width: 12, height: 30)
      let b = Rect(x: 280 - Double(step) * 4, y: 84, width: 12, height: 30)
      var blobs: [Blob]
      if a.intersectionArea(b) > 0 {
        blobs = [Blob(box: a.union(b), area: Int(a.union(b).area))]
      } else {
        blobs = [Blob(box: a, area: 360), Blob(box: b, area: 360)]
      }
      ended += tracker.step(blobs: blobs, frameIndex: step, time: t)
    }
    ended += tracker.finish()
    #expect(ended.count == 2)
    for track in ended {
      let first = track.observations.first!.box.centreX
      let last = track.observations.last { !$0.grouped }!.box.centreX
      #expect(abs(last - first) > 200, "track \(track.id) went all the way across: \(first) → \(last)")
    }
  }

  @Test func shortOcclusionKeepsTheTrack() {
    var tracker = Tracker(frame: PixelSize(width: 320, height: 180))
    var ended: [TrackState] = []
    for step in 0..<50 {
      let box = Rect(x: 20 + Double(step) * 5, y: 80, width: 12, height: 30)
      let hidden = (20..<28).contains(step)  // 0.8 s behind something
      ended += tracker.step(blobs: hidden ? [] : [Blob(box: box, area: 360)], frameIndex: step, time: Double(step) * 0.1)
    }
    ended += tracker.finish()
    #expect(ended.count == 1)
  }
}

struct TopColoursTests {
  /// Rounded fractions never add up to more than 1 (the index refuses that).
  @Test func fractionsNeverExceedOne() {
    let colours = Describer.topColours([3335, 3333, 3332, 0, 0, 0, 0, 0, 0, 0, 0])
    #expect(colours.count == 3)
    #expect(colours.map(\.fraction).reduce(0, +) <= 1)
    #expect(Describer.topColours([Int](repeating: 0, count: 11)).isEmpty)
  }
}
