import Index
import Media

/// The footage of one exhibit a synopsis draws from.
public struct SynopsisSource: Sendable {
  /// The exhibit's id (`E1`).
  public var exhibit: String
  /// The file to decode (already checked by the caller to be the exhibit ingested).
  public var path: String
  /// Wall-clock time of the first frame.
  public var start: WallClockTime
  /// Seconds from the first frame to the last.
  public var duration: Double
  /// Frames per second of the footage.
  public var frameRate: Double
  /// Picture size in pixels (the boxes' coordinate system).
  public var size: PixelSize
  /// Every stored box of every track of the exhibit (selected or not), masked out of the
  /// background median; may be empty.
  public var trackedBoxes: [ExhibitBox]

  /// Creates a source.
  public init(exhibit: String, path: String, start: WallClockTime, duration: Double, frameRate: Double, size: PixelSize,
              trackedBoxes: [ExhibitBox]) {
    self.exhibit = exhibit
    self.path = path
    self.start = start
    self.duration = duration
    self.frameRate = frameRate
    self.size = size
    self.trackedBoxes = trackedBoxes.sorted { $0.time < $1.time }
  }

  /// The tracked boxes within half a frame of `time`.
  func boxes(near time: Double) -> [Box] {
    let half = 0.5 / max(1, frameRate)
    var low = 0
    var high = trackedBoxes.count
    while low < high {
      let middle = (low + high) / 2
      if trackedBoxes[middle].time < time - half { low = middle + 1 } else { high = middle }
    }
    var result: [Box] = []
    while low < trackedBoxes.count && trackedBoxes[low].time <= time + half {
      result.append(trackedBoxes[low].box)
      low += 1
    }
    return result
  }
}

/// A cut-out wanted from the footage: an object's box at a source time.
struct CutoutRequest: Sendable {
  /// Index of the source.
  var source: Int
  /// Seconds from the source's first frame.
  var time: Double
  var box: Box
}

/// Decodes the sources in order of time, only the spans asked for, and cuts objects out of them.
///
/// Not `Sendable`: it owns decoders.
final class FootageReader {
  let sources: [SynopsisSource]
  let backgrounds: [SceneBackground]
  let outputSize: PixelSize
  private var decoders: [Int: Decoder] = [:]
  /// Decoding through a gap shorter than this is cheaper than seeking.
  static let maximumGap = 1.5

  init(sources: [SynopsisSource], backgrounds: [SceneBackground], outputSize: PixelSize) {
    self.sources = sources
    self.backgrounds = backgrounds
    self.outputSize = outputSize
  }

  func decoder(_ source: Int) throws -> Decoder {
    if let decoder = decoders[source] { return decoder }
    let decoder = try Decoder(path: sources[source].path, format: FrameFormat(layout: .yuv420))
    decoders[source] = decoder
    return decoder
  }

  /// The cut-outs for `requests`, in their order (`nil` where the frame could not be decoded or
  /// the box is outside the picture). Frames are decoded once each, source by source, in time order.
  func cutouts(_ requests: [CutoutRequest]) throws -> [Cutout?] {
    var result = [Cutout?](repeating: nil, count: requests.count)
    let order = requests.indices.sorted { (requests[$0].source, requests[$0].time, $0) < (requests[$1].source, requests[$1].time, $1) }
    var position = 0
    while position < order.count {
      // A run: one source, consecutive times closer than the gap.
      let source = requests[order[position]].source
      var end = position + 1
      while end < order.count, requests[order[end]].source == source,
        requests[order[end]].time - requests[order[end - 1]].time <= Self.maximumGap
      {
        end += 1
      }
      let half = 0.5 / max(1, sources[source].frameRate)
      let decoder = try decoder(source)
      var next = position
      try decoder.decodeSpan(from: requests[order[position]].time - half, to: requests[order[end - 1]].time + half) { frame in
        guard case .yuv(let picture) = frame.image else { return }
        while next < end && requests[order[next]].time < frame.time - half { next += 1 }
        var q = next
        let background = backgrounds[source].picture(at: frame.time)
        while q < end && requests[order[q]].time <= frame.time + half {
          result[order[q]] = Matte.cut(picture, background: background, box: requests[order[q]].box)
          q += 1
        }
        next = q
      }
      position = end
    }
    return result
  }
}
