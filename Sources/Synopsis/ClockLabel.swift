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
