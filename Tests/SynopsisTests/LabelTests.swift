import Foundation
import Index
import Media
import Synopsis
import Testing

/// The clock-time font and labels.
struct LabelTests {
  @Test func everyCharacterHasItsOwnGlyph() {
    let characters: [Character] = Array("0123456789:")
    var shapes: Set<[Bool]> = []
    for c in characters {
      #expect(ClockFont.canDraw(c))
      let cells = (0..<ClockFont.glyphHeight).flatMap { row in
        (0..<ClockFont.glyphWidth).map { ClockFont.isInk(c, column: $0, row: row) }
      }
      #expect(cells.contains(true), "\(c) has ink")
      shapes.insert(cells)
    }
    #expect(shapes.count == characters.count, "no two characters look alike")
    #expect(!ClockFont.canDraw("A"))
  }

  @Test func renderingScalesCellsAndKeepsEvenSides() {
    let one = ClockFont.render("1", scale: 1)
    let ink1 = one.pixels.filter { $0 == 255 }.count
    let cells = (0..<7).flatMap { r in (0..<5).map { (r, $0) } }.filter { ClockFont.isInk("1", column: $0.1, row: $0.0) }.count
    #expect(ink1 == cells)
    let label = ClockFont.render("12:34:56", scale: 2)
    #expect(label.width == 98 && label.height == 18)
    #expect(label.width % 2 == 0 && label.height % 2 == 0)
    #expect(label.pixels.filter { $0 == 255 }.count > 0)
    // The margin is plate.
    #expect((0..<label.width).allSatisfy { label[$0, 0] == 0 && label[$0, 1] == 0 })
    // A digit changes the picture.
    #expect(ClockFont.render("12:34:57", scale: 2) != label)
  }

  @Test func clockTextIsLocalTimeTruncated() throws {
    #expect(ClockLabel.text(try WallClockTime(iso8601: "2026-03-01T23:59:59.900+01:00")) == "23:59:59")
    #expect(ClockLabel.text(try WallClockTime(iso8601: "2026-03-01T00:00:00-05:00")) == "00:00:00")
    #expect(ClockLabel.text(try WallClockTime(iso8601: "2026-03-01T09:07:05.5Z")) == "09:07:05")
  }

  @Test func labelsOfNearbyObjectsDoNotOverlap() {
    let frame = PixelSize(width: 320, height: 180)
    let size = PixelSize(width: 98, height: 18)
    let box = Box(x: 100, y: 100, width: 40, height: 40)
    // Alone, a label goes where origin(for:) puts it.
    let alone = ClockLabel.place(for: box, label: size, frame: frame, avoiding: [])
    let origin = ClockLabel.origin(for: box, label: size, frame: frame)
    #expect((alone.x, alone.y) == (origin.x, origin.y))
    // Three objects at nearly the same place: three labels, none over another, all in the picture.
    var placed = [alone]
    for dx in [4.0, 8.0] {
      let next = ClockLabel.place(for: Box(x: 100 + dx, y: 102, width: 40, height: 40), label: size, frame: frame, avoiding: placed)
      #expect(!placed.contains { $0.overlaps(next) }, "\(next) over \(placed)")
      #expect(next.y >= 0 && next.y + size.height <= frame.height && next.x + size.width <= frame.width)
      placed.append(next)
    }
    // No room anywhere: the first place, overlapping.
    let crowded = (0..<10).map { ClockLabel.Placement(x: 0, y: $0 * 18, width: 320, height: 18) }
    let forced = ClockLabel.place(for: box, label: size, frame: frame, avoiding: crowded)
    #expect((forced.x, forced.y) == (origin.x, origin.y))
  }

  @Test func labelsAreDrawnBesideTheBoxInsideThePicture() {
    let frame = PixelSize(width: 320, height: 180)
    let size = PixelSize(width: 98, height: 18)
    let above = ClockLabel.origin(for: Box(x: 100, y: 100, width: 40, height: 40), label: size, frame: frame)
    #expect(above.y + size.height <= 100 && above.y >= 100 - size.height - 4 && above.x == 100)
    let below = ClockLabel.origin(for: Box(x: 10, y: 2, width: 40, height: 40), label: size, frame: frame)
    #expect(below.y >= 42)
    let right = ClockLabel.origin(for: Box(x: 300, y: 100, width: 20, height: 20), label: size, frame: frame)
    #expect(right.x + size.width <= 320)

    let grey = GrayImage(width: 320, height: 180, value: 128)
    let chroma = GrayImage(width: 160, height: 90, value: 90)
    var picture = YUVImage(luma: grey, cb: chroma, cr: chroma)
    let rendered = ClockFont.render("09:00:05", scale: 2)
    ClockLabel.draw(rendered, at: (40, 60), into: &picture)
    for y in 0..<rendered.height {
      for x in 0..<rendered.width {
        #expect(picture.luma[40 + x, 60 + y] == (rendered[x, y] == 255 ? 235 : 16))
      }
    }
    #expect(picture.cb[20, 30] == 128 && picture.cr[20, 30] == 128, "the plate has no colour")
    #expect(picture.luma[39, 60] == 128 && picture.luma[40, 59] == 128, "nothing drawn outside")
    #expect(picture.cb[10, 10] == 90)
  }
}
