import Testing

@testable import Index

/// Zone rules on hand-made paths whose answers are known exactly.
@Suite struct ZoneRuleTests {
  let square = polygon("0.4,0.4 0.6,0.4 0.6,0.6 0.4,0.6")

  @Test func entersFromOutside() {
    let path = [(0.0, 0.1, 0.5), (4.0, 0.5, 0.5)]
    #expect(approx(evaluate(.enters, square, path), (3, 3)))
    #expect(approx(evaluate(.inside, square, path), (3, 4)))
    #expect(approx(evaluate(.exits, square, path), nil), "ends inside: no exit")
  }

  @Test func startingInsideIsNotEntering() {
    let path = [(0.0, 0.5, 0.5), (4.0, 0.9, 0.5)]
    #expect(approx(evaluate(.enters, square, path), nil))
    #expect(approx(evaluate(.exits, square, path), (1, 1)))
    #expect(approx(evaluate(.inside, square, path), (0, 1)))
  }

  @Test func leavingAndComingBackIsEntering() {
    let path = [(0.0, 0.5, 0.5), (4.0, 0.9, 0.5), (8.0, 0.5, 0.5)]
    #expect(approx(evaluate(.enters, square, path), (7, 7)))
    #expect(approx(evaluate(.exits, square, path), (1, 1)))
    #expect(approx(evaluate(.inside, square, path), (0, 8)))
  }

  @Test func sampleGapAcrossTheZoneIsInterpolated() {
    // Both samples are outside, on opposite sides: the straight line between them passes through.
    let path = [(0.0, 0.1, 0.5), (8.0, 0.9, 0.5)]
    #expect(approx(evaluate(.inside, square, path), (3, 5)))
    #expect(approx(evaluate(.enters, square, path), (3, 3)))
    #expect(approx(evaluate(.exits, square, path), (5, 5)))
    #expect(approx(evaluate(.dwell(seconds: 2), square, path), (3, 5)))
    #expect(approx(evaluate(.dwell(seconds: 2.5), square, path), nil))
  }

  @Test func gapPassingACornerOutsideIsNotInside() {
    // The line x + y = 0.78 passes outside the corner (0.4, 0.4) of the square; x + y = 0.85 clips it.
    #expect(approx(evaluate(.inside, square, [(0, 0.3, 0.48), (1, 0.48, 0.3)]), nil))
    // ... and a line that clips the corner is inside for an instant span.
    #expect(evaluate(.inside, square, [(0, 0.3, 0.55), (1, 0.55, 0.3)]) != nil)
  }

  @Test func touchingTheEdgeCountsAsInside() {
    // The middle sample lies on the top edge (y = 0.4): the polygon is closed, so this touches it.
    let touch = [(0.0, 0.3, 0.3), (1.0, 0.5, 0.4), (2.0, 0.7, 0.3)]
    #expect(approx(evaluate(.inside, square, touch), (1, 1)))
    #expect(approx(evaluate(.enters, square, touch), (1, 1)))
    #expect(approx(evaluate(.exits, square, touch), (1, 1)))
    #expect(approx(evaluate(.dwell(seconds: 0.5), square, touch), nil))
    // Passing just above the edge never touches it.
    #expect(approx(evaluate(.inside, square, [(0.0, 0.3, 0.3), (1.0, 0.5, 0.399), (2.0, 0.7, 0.3)]), nil))
    // Running along the edge is inside while on it.
    #expect(approx(evaluate(.inside, square, [(0.0, 0.3, 0.4), (4.0, 0.7, 0.4)]), (1, 3)))
  }

  @Test func concaveUShape() {
    // A U: the notch x in 0.4…0.6, y in 0.2…0.6 is outside.
    let u = polygon("0.2,0.2 0.4,0.2 0.4,0.6 0.6,0.6 0.6,0.2 0.8,0.2 0.8,0.8 0.2,0.8")
    let acrossArms = [(0.0, 0.1, 0.4), (8.0, 0.9, 0.4)]
    #expect(approx(evaluate(.inside, u, acrossArms), (1, 7)))
    #expect(approx(evaluate(.enters, u, acrossArms), (1, 5)), "enters the left arm, then the right arm")
    #expect(approx(evaluate(.exits, u, acrossArms), (3, 7)))
    #expect(approx(evaluate(.dwell(seconds: 2), u, acrossArms), (1, 7)))
    #expect(approx(evaluate(.dwell(seconds: 2.5), u, acrossArms), nil), "the notch interrupts the stay")
    let acrossBase = [(0.0, 0.1, 0.7), (8.0, 0.9, 0.7)]
    #expect(approx(evaluate(.dwell(seconds: 6), u, acrossBase), (1, 7)))
    let intoNotch = [(0.0, 0.5, 0.1), (4.0, 0.5, 0.5)]
    #expect(approx(evaluate(.inside, u, intoNotch), nil), "the notch is outside the U")
    #expect(approx(evaluate(.enters, u, [(0.0, 0.5, 0.1), (6.0, 0.5, 0.7)]), (5, 5)), "enters at the notch's floor")
  }

  @Test func dwellInterruptedThenResumed() {
    let path = [(0.0, 0.5, 0.5), (3.0, 0.5, 0.5), (4.0, 0.9, 0.5), (5.0, 0.9, 0.5), (6.0, 0.5, 0.5), (9.0, 0.5, 0.5)]
    // Stays: [0, 3.25] and [5.75, 9], each 3.25 s; together 6.5 s but not continuous.
    #expect(approx(evaluate(.dwell(seconds: 4), square, path), nil))
    #expect(approx(evaluate(.dwell(seconds: 3), square, path), (0, 9)))
    #expect(approx(evaluate(.enters, square, path), (5.75, 5.75)))
    #expect(approx(evaluate(.exits, square, path), (3.25, 3.25)))
  }

  @Test func stationaryTrack() {
    #expect(approx(evaluate(.dwell(seconds: 10), square, [(0, 0.5, 0.5), (12, 0.5, 0.5)]), (0, 12)))
    #expect(approx(evaluate(.inside, square, [(2, 0.5, 0.5)]), (2, 2)), "a single sample")
    #expect(approx(evaluate(.inside, square, [(2, 0.1, 0.1)]), nil))
  }

  @Test func lineCrossedTwice() {
    // A horizontal line drawn left to right: its right side (seen from A towards B) is below it.
    let line = ZoneShape.line(Point(x: 0.2, y: 0.5), Point(x: 0.8, y: 0.5))
    let downAndUp = [(0.0, 0.5, 0.3), (4.0, 0.5, 0.7), (8.0, 0.5, 0.3)]
    #expect(approx(evaluate(.crosses(.either), line, downAndUp), (2, 6)))
    #expect(approx(evaluate(.crosses(.leftToRight), line, downAndUp), (2, 2)), "going down crosses left to right")
    #expect(approx(evaluate(.crosses(.rightToLeft), line, downAndUp), (6, 6)))
  }

  @Test func lineCrossingEdgeCases() {
    let line = ZoneShape.line(Point(x: 0.2, y: 0.5), Point(x: 0.8, y: 0.5))
    #expect(approx(evaluate(.crosses(.either), line, [(0, 0.9, 0.3), (1, 0.9, 0.7)]), nil), "beyond the segment's end")
    #expect(
      approx(evaluate(.crosses(.either), line, [(0, 0.5, 0.3), (1, 0.5, 0.5), (2, 0.5, 0.3)]), nil), "touch and back")
    #expect(
      approx(
        evaluate(.crosses(.leftToRight), line, [(0, 0.5, 0.3), (1, 0.5, 0.5), (2, 0.6, 0.5), (3, 0.6, 0.7)]), (1, 1)),
      "reaches the line, runs along it, then goes across")
    #expect(approx(evaluate(.crosses(.either), line, [(0, 0.1, 0.1), (1, 0.9, 0.9)]), (0.5, 0.5)), "diagonal gap")
    // A vertical line drawn downwards: its right side is the image's left.
    let vertical = ZoneShape.line(Point(x: 0.5, y: 0.2), Point(x: 0.5, y: 0.8))
    #expect(approx(evaluate(.crosses(.rightToLeft), vertical, [(0, 0.3, 0.5), (4, 0.7, 0.5)]), (2, 2)))
  }

  @Test func fromZoneToZone() {
    let a = Zone(camera: "c", shape: polygon("0.1,0.1 0.3,0.1 0.3,0.3 0.1,0.3"))
    let b = polygon("0.7,0.7 0.9,0.7 0.9,0.9 0.7,0.9")
    #expect(approx(evaluate(.from(a), b, [(0, 0.2, 0.2), (6, 0.8, 0.8)]), (0, 6)))
    #expect(approx(evaluate(.from(a), b, [(0, 0.8, 0.8), (6, 0.2, 0.2)]), nil), "B then A is the wrong order")
    #expect(approx(evaluate(.from(a), b, [(0, 0.2, 0.2), (6, 0.5, 0.5)]), nil), "never reaches B")
    // Passing through A (between samples) then into B still counts.
    #expect(approx(evaluate(.from(a), b, [(0, 0.0, 0.2), (2, 0.4, 0.2), (4, 0.8, 0.8)]), (0.5, 4)))
  }
}
