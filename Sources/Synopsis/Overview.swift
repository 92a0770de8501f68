import Index
import Media

/// The still overview: the background with a stroboscopic view of every object (a few instances
/// along its path, in time order), the first and last labelled with their clock time.
struct Overview {
  let tubes: [Tube]
  let sourceOfTube: [Int]
  let reader: FootageReader
  let frameRate: Double
  let background: YUVImage

  /// Instances shown per object.
  static let instances = 4

  /// Boxes of `tube` shown: evenly spread from 10 % to 90 % of its path (whole at the picture's
  /// edges less often).
  static func instances(of tube: Tube) -> [Int] {
    let n = tube.boxes.count
    let count = min(instances, n)
    guard count > 1 else { return [n / 2] }
    let first = (n - 1) / 10
    let last = (n - 1) - (n - 1) / 10
    return (0..<count).map { first + ($0 * (last - first)) / (count - 1) }
  }

  /// The overview as an RGB picture.
  func render(progress: (Int) -> Void) throws -> RGBImage {
    var picture = background
    let order = tubes.indices.sorted { (tubes[$0].timelineStart, $0) < (tubes[$1].timelineStart, $1) }
    let scale = ClockLabel.scale(forHeight: reader.outputSize.height)
    let batch = 32
    var done = 0
    var placed: [ClockLabel.Placement] = []
    for chunkStart in stride(from: 0, to: order.count, by: batch) {
      let chunk = order[chunkStart..<min(order.count, chunkStart + batch)]
      var requests: [CutoutRequest] = []
      var labels: [(tube: Int, box: Int)] = []
      for t in chunk {
        let shown = Self.instances(of: tubes[t])
        for k in shown {
          requests.append(CutoutRequest(source: sourceOfTube[t], time: tubes[t].sourceTime(ofBox: k, frameRate: frameRate),
                                        box: tubes[t].boxes[k]))
        }
        // The first and last instances carry the clock time (all four would hide the scene).
        labels.append((t, shown.first!))
        if shown.count > 1 { labels.append((t, shown.last!)) }
      }
      for cut in try reader.cutouts(requests) { if let cut { Matte.paste(cut, into: &picture) } }
      for (t, k) in labels {
        // A crowded overview keeps the labels it has room for (the index lists every time).
        Renderer.label(tubes[t], box: k, frameRate: frameRate, scale: scale, size: reader.outputSize, avoiding: &placed,
                       onlyWhereClear: true, into: &picture)
      }
      done += chunk.count
      progress(done)
    }
    return picture.rgbCrop(x: 0, y: 0, width: picture.width, height: picture.height)
  }
}
