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
    let x0 = max(0, Int((box.x - pad).rounded(.down))) & ~1
    let y0 = max(0, Int((box.y - pad).rounded(.down))) & ~1
    let x1 = min(background.width, (Int((box.x + box.width + pad).rounded(.up)) + 1) & ~1)
    let y1 = min(background.height, (Int((box.y + box.height + pad).rounded(.up)) + 1) & ~1)
    guard x1 - x0 >= 2, y1 - y0 >= 2 else { return nil }
    let w = x1 - x0
    let h = y1 - y0
    let fw = frame.luma.width
    let cw = frame.cb.width
    let bw = background.luma.width
    let bcw = background.cb.width
    var luma = [UInt8](repeating: 0, count: w * h)
    var cb = [UInt8](repeating: 0, count: (w / 2) * (h / 2))
    var cr = cb
    var mask = [UInt8](repeating: 0, count: w * h)
    frame.luma.pixels.withUnsafeBufferPointer { fl in
      frame.cb.pixels.withUnsafeBufferPointer { fcb in
        frame.cr.pixels.withUnsafeBufferPointer { fcr in
          background.luma.pixels.withUnsafeBufferPointer { bl in
            background.cb.pixels.withUnsafeBufferPointer { bcb in
              background.cr.pixels.withUnsafeBufferPointer { bcr in
                luma.withUnsafeMutableBufferPointer { ol in
                  mask.withUnsafeMutableBufferPointer { om in
                    for y in 0..<h {
                      let sy = y0 + y
                      for x in 0..<w {
                        let sx = x0 + x
                        let l = Int(fl[sy * fw + sx])
                        let ci = (sy >> 1) * cw + (sx >> 1)
                        let bci = (sy >> 1) * bcw + (sx >> 1)
                        let dl = abs(l - Int(bl[sy * bw + sx]))
                        let dc = max(abs(Int(fcb[ci]) - Int(bcb[bci])), abs(Int(fcr[ci]) - Int(bcr[bci])))
                        ol[y * w + x] = UInt8(truncatingIfNeeded: l)
                        om[y * w + x] = dl + 2 * dc > threshold ? 1 : 0
                      }
                    }
                  }
                }
                cb.withUnsafeMutableBufferPointer { ocb in
                  cr.withUnsafeMutableBufferPointer { ocr in
                    for y in 0..<(h / 2) {
                      for x in 0..<(w / 2) {
                        let ci = (y0 / 2 + y) * cw + x0 / 2 + x
                        ocb[y * (w / 2) + x] = fcb[ci]
                        ocr[y * (w / 2) + x] = fcr[ci]
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let alpha = feather(mask, width: w, height: h, radius: max(1, min(3, min(w, h) / 24)))
    return Cutout(x: x0, y: y0, width: w, height: h, luma: luma, cb: cb, cr: cr, alpha: alpha)
  }

  /// A soft matte from a binary mask: dilated once, box-blurred over `radius`, faint specks
  /// dropped, faded to zero at the crop's border.
  static func feather(_ mask: [UInt8], width w: Int, height h: Int, radius r: Int) -> [UInt8] {
    // Dilation (3 x 3) and box blur, both through summed-area tables.
    func summed(_ values: UnsafeBufferPointer<UInt8>) -> [Int32] {
      var table = [Int32](repeating: 0, count: (w + 1) * (h + 1))
      table.withUnsafeMutableBufferPointer { t in
        for y in 0..<h {
          var row: Int32 = 0
          for x in 0..<w {
            row += Int32(values[y * w + x])
            t[(y + 1) * (w + 1) + x + 1] = t[y * (w + 1) + x + 1] + row
          }
        }
      }
      return table
    }
    func boxSum(_ t: UnsafeBufferPointer<Int32>, _ x: Int, _ y: Int, _ radius: Int) -> (sum: Int32, area: Int32) {
      let ya = max(0, y - radius), yb = min(h, y + radius + 1)
      let xa = max(0, x - radius), xb = min(w, x + radius + 1)
      let sum = t[yb * (w + 1) + xb] - t[ya * (w + 1) + xb] - t[yb * (w + 1) + xa] + t[ya * (w + 1) + xa]
      return (sum, Int32((yb - ya) * (xb - xa)))
    }
    let maskTable = mask.withUnsafeBufferPointer(summed)
    var grown = [UInt8](repeating: 0, count: w * h)
    maskTable.withUnsafeBufferPointer { t in
      grown.withUnsafeMutableBufferPointer { g in
        for y in 0..<h { for x in 0..<w where boxSum(t, x, y, 1).sum > 0 { g[y * w + x] = 1 } }
      }
    }
    let table = grown.withUnsafeBufferPointer(summed)
    var alpha = [UInt8](repeating: 0, count: w * h)
    table.withUnsafeBufferPointer { t in
      alpha.withUnsafeMutableBufferPointer { out in
        for y in 0..<h {
          for x in 0..<w {
            let (sum, area) = boxSum(t, x, y, r)
            if sum == 0 { continue }
            var a = Int(sum * 255 / area)
            a = a < 48 ? 0 : min(255, (a - 48) * 255 / 160)
            let edge = min(x, y, w - 1 - x, h - 1 - y)
            if edge <= r { a = a * edge / (r + 1) }
            out[y * w + x] = UInt8(truncatingIfNeeded: a)
          }
        }
      }
    }
    return alpha
  }

  /// Blends `cut` onto `picture` (4:2:0) by its matte.
  static func paste(_ cut: Cutout, into picture: inout YUVImage) {
    let pw = picture.luma.width
    let pcw = picture.cb.width
    cut.alpha.withUnsafeBufferPointer { alpha in
      cut.luma.withUnsafeBufferPointer { luma in
        picture.luma.pixels.withUnsafeMutableBufferPointer { out in
          for y in 0..<cut.height {
            for x in 0..<cut.width {
              let a = Int(alpha[y * cut.width + x])
              if a == 0 { continue }
              let i = (cut.y + y) * pw + cut.x + x
              out[i] = UInt8(truncatingIfNeeded: (a * Int(luma[y * cut.width + x]) + (255 - a) * Int(out[i]) + 127) / 255)
            }
          }
        }
      }
      let cwidth = cut.width / 2
      func blend(_ source: [UInt8], _ plane: inout [UInt8]) {
        source.withUnsafeBufferPointer { chroma in
          plane.withUnsafeMutableBufferPointer { out in
            for y in 0..<(cut.height / 2) {
              for x in 0..<cwidth {
                let top = (2 * y) * cut.width + 2 * x
                let a = (Int(alpha[top]) + Int(alpha[top + 1]) + Int(alpha[top + cut.width]) + Int(alpha[top + cut.width + 1]) + 2) / 4
                if a == 0 { continue }
                let i = (cut.y / 2 + y) * pcw + cut.x / 2 + x
                out[i] = UInt8(truncatingIfNeeded: (a * Int(chroma[y * cwidth + x]) + (255 - a) * Int(out[i]) + 127) / 255)
              }
            }
          }
        }
      }
      blend(cut.cb, &picture.cb.pixels)
      blend(cut.cr, &picture.cr.pixels)
    }
  }
}
