import Foundation
import Index
import Media

/// The clock time drawn beside each object: `HH:MM:SS`, white on a black plate, above the
/// object's box (below it when there is no room), inside the picture.
public enum ClockLabel {
  /// `HH:MM:SS` of `time` in its own UTC offset, seconds truncated.
  public static func text(_ time: WallClockTime) -> String {
    let local = Int((time.date.timeIntervalSince1970 + Double(time.utcOffsetSeconds)).rounded(.down))
    let second = ((local % 86400) + 86400) % 86400
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))"
  }

  /// The font scale for a picture `height` pixels high: 2 up to 720 lines, then one more per 360.
  public static func scale(forHeight height: Int) -> Int { max(2, (height + 180) / 360) }

  /// Top-left corner (even coordinates) of a `size` label for an object in `box`, in a picture of `frame` size.
  public static func origin(for box: Box, label size: PixelSize, frame: PixelSize) -> (x: Int, y: Int) {
    let gap = 2
    var y = Int(box.y.rounded(.down)) - size.height - gap
    if y < 0 { y = Int((box.y + box.height).rounded(.up)) + gap }
    y = min(max(0, y), frame.height - size.height)
    let x = min(max(0, Int(box.x.rounded(.down))), frame.width - size.width)
    return (max(0, x) & ~1, max(0, y) & ~1)
  }

  /// Where a label lies in the picture (pixels).
  public struct Placement: Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// Creates a placement.
    public init(x: Int, y: Int, width: Int, height: Int) {
      self.x = x
      self.y = y
      self.width = width
      self.height = height
    }

    /// Whether the two labels share a pixel.
    public func overlaps(_ other: Placement) -> Bool {
      x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
    }
  }

  /// Where a `size` label for an object in `box` goes, clear of the labels already `placed` in the
  /// picture when it can be: where ``origin(for:label:frame:)`` puts it, else below the box, else
  /// stacked up to `maxShift` label heights above or below those; where every one of these overlaps
  /// a label, the first.
  public static func place(
    for box: Box, label size: PixelSize, frame: PixelSize, avoiding placed: [Placement], maxShift: Int = 4
  ) -> Placement {
    let first = origin(for: box, label: size, frame: frame)
    return clearPlace(for: box, label: size, frame: frame, avoiding: placed, maxShift: maxShift)
      ?? Placement(x: first.x, y: first.y, width: size.width, height: size.height)
  }

  /// Like ``place(for:label:frame:avoiding:maxShift:)``, but `nil` when no place is clear.
  public static func clearPlace(
    for box: Box, label size: PixelSize, frame: PixelSize, avoiding placed: [Placement], maxShift: Int = 4
  ) -> Placement? {
    let first = origin(for: box, label: size, frame: frame)
    let step = size.height + 2
    let below = Int((box.y + box.height).rounded(.up)) + 2
    var ys = [first.y, below]
    for k in 1...max(1, maxShift) { ys += [first.y - k * step, below + k * step] }
    for y in ys {
      let candidate = Placement(x: first.x, y: max(0, min(max(0, y), frame.height - size.height) & ~1),
                                width: size.width, height: size.height)
      if !placed.contains(where: { $0.overlaps(candidate) }) { return candidate }
    }
    return nil
  }

  /// Draws `text` (rendered by `ClockFont`) at `origin` in a 4:2:0 picture: ink at luma 235,
  /// plate at luma 16, no colour. Parts outside the picture are clipped.
  public static func draw(_ rendered: GrayImage, at origin: (x: Int, y: Int), into picture: inout YUVImage) {
    let width = picture.luma.width
    let height = picture.luma.height
    for y in 0..<rendered.height where origin.y + y >= 0 && origin.y + y < height {
      let row = (origin.y + y) * width
      for x in 0..<rendered.width where origin.x + x >= 0 && origin.x + x < width {
        picture.luma.pixels[row + origin.x + x] = rendered[x, y] > 127 ? 235 : 16
      }
    }
    let cw = picture.cb.width
    for y in stride(from: 0, to: rendered.height, by: 2) where (origin.y + y) / 2 < picture.cb.height && origin.y + y >= 0 {
      for x in stride(from: 0, to: rendered.width, by: 2) where (origin.x + x) / 2 < cw && origin.x + x >= 0 {
        let i = (origin.y + y) / 2 * cw + (origin.x + x) / 2
        picture.cb.pixels[i] = 128
        picture.cr.pixels[i] = 128
      }
    }
  }
}
