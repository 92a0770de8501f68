import Index
import Media

extension SceneBackground {
  /// A picture of the scene without its moving objects, to draw zones on: the per-pixel median of
  /// `samples` frames spread evenly over the footage, each with the source's tracked boxes masked
  /// out; at most `maxWidth` pixels wide.
  /// - Throws: `MediaError` when the footage cannot be decoded, `SynopsisError` when it yields no frame.
  public static func still(of source: SynopsisSource, maxWidth: Int = 960, samples: Int = 15) throws -> RGBImage {
    let decoder = try Decoder(path: source.path, format: FrameFormat(layout: .yuv420, maxWidth: maxWidth))
    var pictures: [YUVImage] = []
    var occupied: [[Box]] = []
    for j in 0..<max(1, samples) {
      let time = (Double(j) + 0.5) * source.duration / Double(max(1, samples))
      try decoder.seek(to: time)
      guard let frame = try decoder.nextFrame(), case .yuv(let picture) = frame.image else { continue }
      guard pictures.isEmpty || (picture.width, picture.height) == (pictures[0].width, pictures[0].height) else { continue }
      let scale = Double(picture.width) / Double(max(1, source.size.width))
      pictures.append(picture)
      occupied.append(source.boxes(near: frame.time).map {
        Box(x: $0.x * scale, y: $0.y * scale, width: $0.width * scale, height: $0.height * scale)
      })
    }
    guard !pictures.isEmpty else { throw SynopsisError("\(source.path): no frame to show") }
    let background = median(pictures, occupied: occupied)
    return background.rgbCrop(x: 0, y: 0, width: background.width, height: background.height)
  }
}
