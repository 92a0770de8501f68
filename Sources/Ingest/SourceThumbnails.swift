import Foundation
import Index
import Logging
import Media

/// Cuts tracks' thumbnails again from fully decoded frames (DESIGN.md §6: no skipped deblocking for
/// anything a person will look at). The analysis decodes fast, skipping the loop filter, which leaves
/// blocks where the source has none; a thumbnail is evidence a person looks at. Each thumbnail's frame
/// is decoded again at full quality, in time order (seeking only across gaps), converted to RGB at the
/// source's size, cut, and reduced only by averaging whole blocks of pixels.
enum SourceThumbnails {
  static let logger = Logger(label: "lrj.ingest")
  /// Frames further apart than this are reached by seeking rather than decoding every frame between.
  static let seekGap = 2.0

  /// `tracks` with their thumbnails cut from fully decoded frames; a thumbnail that cannot be cut
  /// again keeps the analysis's one.
  static func refine(_ tracks: [DescribedTrack], path: String, threads: Int) -> [DescribedTrack] {
    let wanted = tracks.indices.filter { tracks[$0].thumbnailSource != nil }
      .sorted { tracks[$0].thumbnailSource!.time < tracks[$1].thumbnailSource!.time }
    guard !wanted.isEmpty, let decoder = try? Decoder(path: path, format: .sourceRGB, threads: threads, fast: false) else {
      return tracks
    }
    let frameRate = decoder.info.frameRate > 0 ? decoder.info.frameRate : 25
    let halfFrame = 0.5 / frameRate
    var result = tracks
    var current: VideoFrame?
    var lastTime = -Double.infinity
    for index in wanted {
      let source = tracks[index].thumbnailSource!
      do {
        if let frame = current, abs(frame.time - source.time) <= halfFrame {
          // The same frame as the previous thumbnail.
        } else if source.time < lastTime || source.time - lastTime > seekGap {
          try decoder.seek(to: source.time)
          current = try decoder.nextFrame()
        } else {
          // Close ahead: decode forward, converting only the frame wanted.
          while lastTime + 1 / frameRate < source.time - halfFrame, let skipped = try decoder.skipFrame() {
            lastTime = skipped.time
          }
          current = try decoder.nextFrame()
          if let frame = current, abs(frame.time - source.time) > halfFrame {
            // Frames not where the frame rate puts them: seek to it instead.
            try decoder.seek(to: source.time)
            current = try decoder.nextFrame()
          }
        }
        guard let frame = current, abs(frame.time - source.time) <= halfFrame, case .rgb(let picture) = frame.image else {
          lastTime = current?.time ?? lastTime
          logger.debug("thumbnail frame not found again", metadata: ["time": "\(source.time)"])
          continue
        }
        lastTime = frame.time
        let crop = picture.averagedCrop(x: source.x, y: source.y, width: source.width, height: source.height, step: source.step)
        result[index].track.thumbnail = Thumbnail(format: "png", data: Data(try PNG.encode(crop)))
      } catch {
        logger.debug("thumbnail kept from the analysis", metadata: ["error": "\(error)"])
        current = nil
        lastTime = -Double.infinity
      }
    }
    return result
  }
}

extension RGBImage {
  /// The region `x..<x+width`, `y..<y+height`, reduced `step` times by averaging each `step`×`step`
  /// block (clipped to the picture).
  func averagedCrop(x: Int, y: Int, width: Int, height: Int, step: Int) -> RGBImage {
    let step = max(1, step)
    let x0 = max(0, min(self.width - 1, x)), y0 = max(0, min(self.height - 1, y))
    let w = max(1, min(width, self.width - x0)), h = max(1, min(height, self.height - y0))
    let outWidth = max(1, w / step), outHeight = max(1, h / step)
    var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
    for row in 0..<outHeight {
      for column in 0..<outWidth {
        var sum = (0, 0, 0)
        var count = 0
        for dy in 0..<step {
          let sy = y0 + row * step + dy
          guard sy < self.height else { continue }
          for dx in 0..<step {
            let sx = x0 + column * step + dx
            guard sx < self.width else { continue }
            let i = (sy * self.width + sx) * 3
            sum.0 += Int(pixels[i]); sum.1 += Int(pixels[i + 1]); sum.2 += Int(pixels[i + 2])
            count += 1
          }
        }
        let o = (row * outWidth + column) * 3
        let c = max(1, count)
        out[o] = UInt8((sum.0 + c / 2) / c); out[o + 1] = UInt8((sum.1 + c / 2) / c); out[o + 2] = UInt8((sum.2 + c / 2) / c)
      }
    }
    return RGBImage(width: outWidth, height: outHeight, pixels: out)
  }
}
