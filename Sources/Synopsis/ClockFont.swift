import Media

/// A 5 x 7 pixel bitmap font with the characters of a clock time: the digits and ':'.
///
/// Drawn for lrj; each glyph is seven rows of five cells, `#` for ink.
public enum ClockFont {
  /// Glyph width and height in cells.
  public static let glyphWidth = 5
  public static let glyphHeight = 7
  /// Cells between two glyphs.
  public static let spacing = 1

  static let glyphs: [Character: [String]] = [
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
    ":": [".....", "..#..", "..#..", ".....", "..#..", "..#..", "....."],
  ]

  /// Whether the font can draw `character`.
  public static func canDraw(_ character: Character) -> Bool { glyphs[character] != nil }

  /// Whether cell (`column`, `row`) of `character`'s glyph is ink; false for characters the font lacks.
  public static func isInk(_ character: Character, column: Int, row: Int) -> Bool {
    guard let rows = glyphs[character], (0..<glyphHeight).contains(row), (0..<glyphWidth).contains(column) else {
      return false
    }
    return rows[row].utf8[rows[row].utf8.index(rows[row].utf8.startIndex, offsetBy: column)] == UInt8(ascii: "#")
  }

  /// `text` drawn on a plate: 255 for ink, 0 for the plate, each cell `scale` x `scale` pixels,
  /// with a margin of `scale` pixels all round. Width and height are even (for 4:2:0 pictures).
  public static func render(_ text: String, scale: Int) -> GrayImage {
    precondition(scale >= 1, "scale is at least 1")
    let characters = Array(text)
    let advance = (glyphWidth + spacing) * scale
    let inkWidth = max(1, characters.count * advance - spacing * scale)
    let width = (inkWidth + 2 * scale + 1) & ~1
    let height = (glyphHeight * scale + 2 * scale + 1) & ~1
    var image = GrayImage(width: width, height: height, value: 0)
    for (i, character) in characters.enumerated() {
      for row in 0..<glyphHeight {
        for column in 0..<glyphWidth where isInk(character, column: column, row: row) {
          let left = scale + i * advance + column * scale
          let top = scale + row * scale
          for y in top..<(top + scale) {
            for x in left..<(left + scale) { image[x, y] = 255 }
          }
        }
      }
    }
    return image
  }
}
