import Index
import Media

/// An object's pixels cut out of a source frame: a 4:2:0 crop with a soft alpha matte.
struct Cutout: Sendable {
  /// Top-left corner (even) and size (even) of the crop in the picture.
  var x: Int
  var y: Int
  var width: Int
  var height: Int
  var luma: [UInt8]
  var cb: [UInt8]
  var cr: [UInt8]
  /// Opacity of each luma pixel, 0…255.
  var alpha: [UInt8]
}

/// Separates an object's foreground pixels from the background inside its box, with a feathered
/// edge, and pastes them onto another picture.
enum Matte {
  /// Luma-equivalent difference from the background above which a pixel is foreground.
  static let threshold = 26

  /// The top-left `size` part of `picture` (sizes even).
  static func cropped(_ picture: YUVImage, to size: PixelSize) -> YUVImage {
    if picture.width == size.width && picture.height == size.height { return picture }
    func crop(_ plane: GrayImage, _ w: Int, _ h: Int) -> GrayImage {
      var pixels = [UInt8](repeating: 0, count: w * h)
      for y in 0..<h { for x in 0..<w { pixels[y * w + x] = plane.pixels[y * plane.width + x] } }
      return GrayImage(width: w, height: h, pixels: pixels)
    }
    return YUVImage(luma: crop(picture.luma, size.width, size.height), cb: crop(picture.cb, size.width / 2, size.height / 2),
                    cr: crop(picture.cr, size.width / 2, size.height / 2))
  }

  /// The object in `box` of `frame` (4:2:0), against `background` (4:2:0, the output size).
  static func cut(_ frame: YUVImage, background: YUVImage, box: Box) -> Cutout? {
    let pad = max(4, 0.15 * max(box.width, box.height))
    let limitX = background.width
    let limitY = background.height
    let x0 = max(0, Int((box.x - pad).rounded(.down))) & ~1
    let y0 = max(0, Int((box.y - pad).rounded(.down))) & ~1
    let x1 = min(limitX, (Int((box.x + box.width + pad).rounded(.up)) + 1) & ~1)
    let y1 = min(limitY, (Int((box.y + box.height + pad).rounded(.up)) + 1) & ~1)
    guard x1 - x0 >= 2, y1 - y0 >= 2 else { return nil }
    let w = x1 - x0
    let h = y1 - y0
    var cut = Cutout(x: x0, y: y0, width: w, height: h, luma: [], cb: [], cr: [], alpha: [])
    cut.luma.reserveCapacity(w * h)
    var mask = [UInt8](repeating: 0, count: w * h)
    let fw = frame.luma.width
    let cw = frame.cb.width
    let bw = background.luma.width
    let bcw = background.cb.width
    for y in 0..<h {
      for x in 0..<w {
        let sy = y0 + y
        let sx = x0 + x
        let l = Int(frame.luma.pixels[sy * fw + sx])
        let ci = (sy / 2) * cw + sx / 2
        let bci = (sy / 2) * bcw + sx / 2
        let dl = abs(l - Int(background.luma.pixels[sy * bw + sx]))
        let dc = max(abs(Int(frame.cb.pixels[ci]) - Int(background.cb.pixels[bci])),
                     abs(Int(frame.cr.pixels[ci]) - Int(background.cr.pixels[bci])))
        cut.luma.append(UInt8(l))
        mask[y * w + x] = dl + 2 * dc > threshold ? 1 : 0
      }
    }
    for y in 0..<(h / 2) {
      for x in 0..<(w / 2) {
        let ci = (y0 / 2 + y) * cw + x0 / 2 + x
        cut.cb.append(frame.cb.pixels[ci])
        cut.cr.append(frame.cr.pixels[ci])
      }
    }
    cut.alpha = feather(mask, width: w, height: h, radius: max(1, min(3, min(w, h) / 24)))
    return cut
  }

  /// A soft matte from a binary mask: dilated once, box-blurred over `radius`, faint specks
  /// dropped, faded to zero at the crop's border.
  static func feather(_ mask: [UInt8], width w: Int, height h: Int, radius r: Int) -> [UInt8] {
    // Dilate (3 x 3).
    var grown = [Int32](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w where mask[y * w + x] != 0 {
        for yy in max(0, y - 1)...min(h - 1, y + 1) { for xx in max(0, x - 1)...min(w - 1, x + 1) { grown[yy * w + xx] = 1 } }
      }
    }
    // Box blur through a summed-area table.
    var table = [Int32](repeating: 0, count: (w + 1) * (h + 1))
    for y in 0..<h {
      var row: Int32 = 0
      for x in 0..<w {
        row += grown[y * w + x]
        table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row
      }
    }
    var alpha = [UInt8](repeating: 0, count: w * h)
    for y in 0..<h {
      let ya = max(0, y - r), yb = min(h, y + r + 1)
      for x in 0..<w {
        let xa = max(0, x - r), xb = min(w, x + r + 1)
        let sum = table[yb * (w + 1) + xb] - table[ya * (w + 1) + xb] - table[yb * (w + 1) + xa] + table[ya * (w + 1) + xa]
        let area = Int32((yb - ya) * (xb - xa))
        var a = Int(sum * 255 / area)
        a = a < 48 ? 0 : min(255, (a - 48) * 255 / 160)
        let edge = min(x, y, w - 1 - x, h - 1 - y)
        if edge <= r { a = a * edge / (r + 1) }
        alpha[y * w + x] = UInt8(a)
      }
    }
    return alpha
  }

  /// Blends `cut` onto `picture` (4:2:0) by its matte.
  static func paste(_ cut: Cutout, into picture: inout YUVImage) {
    let pw = picture.luma.width
    let pcw = picture.cb.width
    for y in 0..<cut.height {
      for x in 0..<cut.width {
        let a = Int(cut.alpha[y * cut.width + x])
        if a == 0 { continue }
        let i = (cut.y + y) * pw + cut.x + x
        picture.luma.pixels[i] = UInt8((a * Int(cut.luma[y * cut.width + x]) + (255 - a) * Int(picture.luma.pixels[i]) + 127) / 255)
      }
    }
    let cwidth = cut.width / 2
    for y in 0..<(cut.height / 2) {
      for x in 0..<cwidth {
        let a00 = Int(cut.alpha[(2 * y) * cut.width + 2 * x]), a01 = Int(cut.alpha[(2 * y) * cut.width + 2 * x + 1])
        let a10 = Int(cut.alpha[(2 * y + 1) * cut.width + 2 * x]), a11 = Int(cut.alpha[(2 * y + 1) * cut.width + 2 * x + 1])
        let a = (a00 + a01 + a10 + a11 + 2) / 4
        if a == 0 { continue }
        let i = (cut.y / 2 + y) * pcw + cut.x / 2 + x
        picture.cb.pixels[i] = UInt8((a * Int(cut.cb[y * cwidth + x]) + (255 - a) * Int(picture.cb.pixels[i]) + 127) / 255)
        picture.cr.pixels[i] = UInt8((a * Int(cut.cr[y * cwidth + x]) + (255 - a) * Int(picture.cr.pixels[i]) + 127) / 255)
      }
    }
  }
}
