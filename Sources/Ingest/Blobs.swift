/// A connected region of foreground pixels.
struct Blob {
  /// Bounding box in model pixels.
  var box: Rect
  /// Foreground pixels in the region.
  var area: Int
}

/// Cleans a foreground mask and finds its connected regions.
enum BlobFinder {
  /// Majority filter (a pixel is foreground when at least 5 of its 3x3 neighbourhood are), which
  /// removes isolated noise and fills pinholes, then one 3x3 dilation that joins the parts of one
  /// object (head, body, legs).
  static func clean(_ mask: Mask) -> Mask {
    var cleaned = Mask(width: mask.width, height: mask.height)
    let majority = threshold(boxSums(mask.bits, width: mask.width, height: mask.height), atLeast: 5,
                             width: mask.width, height: mask.height)
    cleaned.bits = threshold(boxSums(majority, width: mask.width, height: mask.height), atLeast: 1,
                             width: mask.width, height: mask.height)
    return cleaned
  }

  /// For every inner pixel, the sum of its 3x3 neighbourhood (vertical sums first, then
  /// horizontal: six additions a pixel); the border stays 0 (so a mask less than three pixels
  /// wide or high has no inner pixel and sums to 0 everywhere).
  private static func boxSums(_ bits: [UInt8], width w: Int, height h: Int) -> [UInt8] {
    var vertical = [UInt8](repeating: 0, count: w * h)
    var sums = [UInt8](repeating: 0, count: w * h)
    guard w >= 3, h >= 3 else { return sums }
    bits.withUnsafeBufferPointer { m in
      vertical.withUnsafeMutableBufferPointer { v in
        for y in 1..<(h - 1) {
          let row = y * w
          for x in 0..<w { v[row + x] = m[row - w + x] &+ m[row + x] &+ m[row + w + x] }
        }
      }
    }
    vertical.withUnsafeBufferPointer { v in
      sums.withUnsafeMutableBufferPointer { out in
        for y in 1..<(h - 1) {
          let row = y * w
          for x in 1..<(w - 1) { out[row + x] = v[row + x - 1] &+ v[row + x] &+ v[row + x + 1] }
        }
      }
    }
    return sums
  }

  private static func threshold(_ sums: [UInt8], atLeast minimum: UInt8, width: Int, height: Int) -> [UInt8] {
    sums.map { $0 >= minimum ? 1 : 0 }
  }

  /// Connected regions (8-connectivity) of at least `minimumArea` pixels, boxes shrunk by the
  /// one pixel the dilation added.
  static func blobs(in mask: Mask, minimumArea: Int) -> [Blob] {
    let w = mask.width
    let h = mask.height
    var visited = mask.bits  // 1 = foreground not yet visited
    var stack: [Int32] = []
    var found: [Blob] = []
    for start in 0..<(w * h) where visited[start] == 1 {
      visited[start] = 0
      stack.append(Int32(start))
      var minX = w
      var minY = h
      var maxX = 0
      var maxY = 0
      var area = 0
      while let top = stack.popLast() {
        let i = Int(top)
        let x = i % w
        let y = i / w
        area += 1
        minX = min(minX, x)
        maxX = max(maxX, x)
        minY = min(minY, y)
        maxY = max(maxY, y)
        for dy in -1...1 {
          let ny = y + dy
          guard ny >= 0, ny < h else { continue }
          for dx in -1...1 {
            let nx = x + dx
            guard nx >= 0, nx < w else { continue }
            let j = ny * w + nx
            if visited[j] == 1 {
              visited[j] = 0
              stack.append(Int32(j))
            }
          }
        }
      }
      guard area >= minimumArea else { continue }
      let box = Rect(
        x: Double(minX) + 1, y: Double(minY) + 1, width: Double(maxX - minX - 1), height: Double(maxY - minY - 1))
      if box.width >= 1 && box.height >= 1 { found.append(Blob(box: box, area: area)) }
    }
    return found
  }
}
