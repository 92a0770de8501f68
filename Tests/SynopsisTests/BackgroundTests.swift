import Index
import Media
@testable import Synopsis
import Testing

/// Backgrounds and cut-outs on synthetic pictures.
struct BackgroundTests {
  static func picture(width: Int = 64, height: Int = 48, luma: UInt8, rect: (x: Int, y: Int, w: Int, h: Int)? = nil,
                      inside: UInt8 = 250) -> YUVImage {
    var l = GrayImage(width: width, height: height, value: luma)
    if let rect {
      for y in rect.y..<(rect.y + rect.h) { for x in rect.x..<(rect.x + rect.w) { l[x, y] = inside } }
    }
    let c = GrayImage(width: width / 2, height: height / 2, value: 128)
    return YUVImage(luma: l, cb: c, cr: c)
  }

  @Test func theMedianIgnoresTrackedObjects() {
    // An object stands in the same place in three samples of five.
    let clear = Self.picture(luma: 100)
    let object = Self.picture(luma: 100, rect: (20, 10, 10, 10))
    let samples = [object, clear, object, clear, object]
    let box = Box(x: 20, y: 10, width: 10, height: 10)
    let masked = SceneBackground.median(samples, occupied: [[box], [], [box], [], [box]])
    #expect(masked.luma.pixels.allSatisfy { $0 == 100 }, "the object is not in the background")
    let plain = SceneBackground.median(samples, occupied: Array(repeating: [], count: 5))
    #expect(plain.luma[25, 15] == 250, "without masks the majority wins")
    #expect(plain.luma[5, 5] == 100)
  }

  @Test func lightChangesAreToldFromPassingObjects() {
    let day = SceneBackground.lightLevels(Self.picture(luma: 120))
    let dusk = SceneBackground.lightLevels(Self.picture(luma: 90))
    let car = SceneBackground.lightLevels(Self.picture(luma: 120, rect: (0, 0, 20, 20), inside: 20))
    #expect(SceneBackground.lightChanged(day, dusk, threshold: 10))
    #expect(!SceneBackground.lightChanged(day, car, threshold: 10))
    #expect(!SceneBackground.lightChanged(day, day, threshold: 10))
  }

  @Test func cutOutsHoldTheObjectNotItsBox() throws {
    // A 10 x 16 object inside a generous 24 x 30 box.
    let background = Self.picture(luma: 60)
    let frame = Self.picture(luma: 60, rect: (26, 14, 10, 16), inside: 220)
    let cut = try #require(Matte.cut(frame, background: background, box: Box(x: 20, y: 8, width: 24, height: 30)))
    #expect(cut.x % 2 == 0 && cut.y % 2 == 0 && cut.width % 2 == 0 && cut.height % 2 == 0)
    func alpha(_ x: Int, _ y: Int) -> UInt8 { cut.alpha[(y - cut.y) * cut.width + (x - cut.x)] }
    #expect(alpha(31, 22) == 255, "the object's middle is opaque")
    #expect(alpha(21, 9) == 0, "the box's corner, background, is transparent")
    #expect((1...254).contains(alpha(25, 22)) || (1...254).contains(alpha(24, 22)), "the edge is soft")

    var target = Self.picture(luma: 10)
    Matte.paste(cut, into: &target)
    #expect(target.luma[31, 22] == 220)
    #expect(target.luma[21, 9] == 10, "the new background shows around the object")
  }
}
