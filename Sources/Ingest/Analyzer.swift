import Crypto
import Foundation
import Index
import Logging
import Media

/// How footage is analysed.
public struct AnalysisSettings: Sendable {
  /// Width of the frames colours and thumbnails are taken from (DESIGN.md §6: at most 640).
  public var analysisWidth = 640
  /// Width of the background model and of blob finding.
  public var modelWidth = 320
  /// Analysed frames per second (the others are decoded but not looked at); path samples come at
  /// this rate, at least 4 Hz.
  public var analysisRate = 12.5
  /// Seconds of footage whose per-pixel median starts the background.
  public var bootstrapSeconds = 4.0
  /// Tracks shorter than this are dropped.
  public var minimumTrackSeconds = 0.5
  /// Blobs smaller than this fraction of the picture are ignored.
  public var minimumBlobFraction = 0.0006
  /// Decoding threads; 0 uses every core.
  public var threads = 0

  public init() {}
}

/// Progress of an analysis, for a progress bar.
public struct AnalysisProgress: Sendable {
  public var frames: Int
  /// Expected frames, when the container states the duration.
  public var expectedFrames: Int?
  public var elapsed: Double
}

/// What the analysis of one file produced.
struct AnalysisResult {
  var info: VideoInfo
  var sha256: String
  var frames: Int
  var firstTime: Double
  var lastTime: Double
  var skippedPackets: Int
  var tracks: [DescribedTrack]
}

/// Hashes a file from the blocks FFmpeg reads, in order, and reads only what it skipped.
final class ExhibitHasher {
  private var hasher = SHA256()
  private(set) var hashedUpTo: Int64 = 0

  /// Feeds the part of a block that extends the hashed prefix.
  func observe(offset: Int64, bytes: UnsafeRawBufferPointer) {
    let end = offset + Int64(bytes.count)
    guard offset <= hashedUpTo, end > hashedUpTo else { return }
    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[Int(hashedUpTo - offset)...]))
    hashedUpTo = end
  }

  /// Reads what FFmpeg did not (often the index at the end of an MP4) and returns the hex digest.
  func finish(path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(hashedUpTo))
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      hashedUpTo += Int64(chunk.count)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }
}

/// Finds, follows and describes every moving object of one video file.
struct Analyzer {
  let settings: AnalysisSettings
  let logger = Logger(label: "lrj.ingest")
  private let namer = ColourNamer()

  init(settings: AnalysisSettings) {
    self.settings = settings
  }

  func analyse(path: String, progress: ((AnalysisProgress) -> Void)? = nil) throws -> AnalysisResult {
    let hasher = ExhibitHasher()
    let decoder = try Decoder(
      path: path, format: .analysis(maxWidth: settings.analysisWidth), threads: settings.threads,
      onRead: { hasher.observe(offset: $0, bytes: $1) })
    let info = decoder.info
    let analysis = decoder.outputSize
    let factor = max(1, analysis.width / settings.modelWidth)
    let model = PixelSize(width: analysis.width / factor, height: analysis.height / factor)
    let frameRate = info.frameRate > 0 ? info.frameRate : 25
    let stride = max(1, Int((frameRate / settings.analysisRate).rounded()))
    let analysedRate = frameRate / Double(stride)
    let describer = Describer(
      sourceWidth: info.width, sourceHeight: info.height,
      scaleX: Double(info.width) / Double(model.width), scaleY: Double(info.height) / Double(model.height),
      frameRate: frameRate, minimumDuration: settings.minimumTrackSeconds)
    let minimumArea = max(4, Int(settings.minimumBlobFraction * Double(model.width * model.height)))
    let expected = info.duration.map { Int($0 * frameRate) }
    let started = Date()

    var background: BackgroundModel?
    var tracker = Tracker(frame: model)
    var evidence: [Int: TrackEvidence] = [:]
    var described: [DescribedTrack] = []
    var bootstrap: [(frame: VideoFrame, model: ModelFrame)] = []
    let bootstrapCount = max(5, Int(settings.bootstrapSeconds * analysedRate))
    var frames = 0
    var firstTime: Double?
    var lastTime = 0.0

    func finish(_ ended: [TrackState]) {
      for state in ended {
        if let track = describer.describe(state, evidence: evidence[state.id] ?? TrackEvidence()) {
          described.append(track)
        }
        evidence[state.id] = nil
      }
    }

    func process(_ frame: VideoFrame, _ modelFrame: ModelFrame, with model: inout BackgroundModel) {
      guard case .yuv(let picture) = frame.image else { return }
      let raw = model.apply(modelFrame)
      let cleaned = BlobFinder.clean(raw)
      var blobs = BlobFinder.blobs(in: cleaned, minimumArea: minimumArea)
      blobs.removeAll { blob in
        guard model.isGhost(blob.box, mask: cleaned, frame: modelFrame) else { return false }
        model.absorb(blob.box, mask: cleaned, frame: modelFrame)
        return true
      }
      finish(tracker.step(blobs: blobs, frameIndex: frame.index, time: frame.time))
      for track in tracker.active where track.observations.last?.frameIndex == frame.index {
        guard let observation = track.observations.last, !observation.grouped else { continue }
        var gathered = evidence[track.id] ?? TrackEvidence()
        if track.hits % 2 == 0 {
          sampleColours(picture, mask: raw, box: observation.box, factor: factor, into: &gathered.colourCounts)
        }
        keepBestView(picture, box: observation.box, factor: factor, model: model.width, into: &gathered)
        evidence[track.id] = gathered
      }
    }

    while true {
      let analyse = frames % stride == 0
      if analyse {
        guard let frame = try decoder.nextFrame() else { break }
        frames += 1
        if firstTime == nil { firstTime = frame.time }
        lastTime = frame.time
        guard case .yuv(let picture) = frame.image else { continue }
        let modelFrame = Self.downscale(picture, factor: factor, to: model)
        if var current = background {
          process(frame, modelFrame, with: &current)
          background = current
        } else {
          bootstrap.append((frame, modelFrame))
          if bootstrap.count >= bootstrapCount {
            var current = BackgroundModel(bootstrap: bootstrap.map(\.model))
            for (buffered, buffeledModel) in bootstrap { process(buffered, buffeledModel, with: &current) }
            bootstrap = []
            background = current
          }
        }
      } else {
        guard let skipped = try decoder.skipFrame() else { break }
        frames += 1
        lastTime = skipped.time
      }
      if frames % 50 == 0 {
        progress?(AnalysisProgress(frames: frames, expectedFrames: expected, elapsed: Date().timeIntervalSince(started)))
      }
    }
    if !bootstrap.isEmpty {
      // Footage shorter than the bootstrap: its own median is the background.
      var current = BackgroundModel(bootstrap: bootstrap.map(\.model))
      for (buffered, bufferedModel) in bootstrap { process(buffered, bufferedModel, with: &current) }
    }
    finish(tracker.finish())
    guard frames > 0 else {
      throw MediaError(.decodeFailed, path: path, "no frame could be decoded")
    }
    let sha256 = try hasher.finish(path: path)
    progress?(AnalysisProgress(frames: frames, expectedFrames: expected, elapsed: Date().timeIntervalSince(started)))
    described.sort { ($0.boxes.first?.frameIndex ?? 0, $0.track.path.count) < ($1.boxes.first?.frameIndex ?? 0, $1.track.path.count) }
    return AnalysisResult(
      info: info, sha256: sha256, frames: frames, firstTime: firstTime ?? 0, lastTime: lastTime,
      skippedPackets: decoder.skippedPackets, tracks: described)
  }

  /// Averages factor x factor blocks of an analysis picture into a model frame.
  static func downscale(_ picture: YUVImage, factor: Int, to size: PixelSize) -> ModelFrame {
    func plane(_ source: GrayImage) -> [UInt8] {
      if factor == 1 && source.width == size.width { return source.pixels }
      var out = [UInt8](repeating: 0, count: size.width * size.height)
      let area = factor * factor
      source.pixels.withUnsafeBufferPointer { p in
        for y in 0..<size.height {
          for x in 0..<size.width {
            var sum = 0
            for dy in 0..<factor {
              let row = (y * factor + dy) * source.width + x * factor
              for dx in 0..<factor { sum += Int(p[row + dx]) }
            }
            out[y * size.width + x] = UInt8(truncatingIfNeeded: (sum + area / 2) / area)
          }
        }
      }
      return out
    }
    return ModelFrame(width: size.width, height: size.height, y: plane(picture.luma), cb: plane(picture.cb),
                      cr: plane(picture.cr))
  }

  /// Counts the colour names of the foreground pixels inside `box` (model pixels).
  private func sampleColours(_ picture: YUVImage, mask: Mask, box: Rect, factor: Int, into counts: inout [Int]) {
    let x0 = max(0, Int(box.x))
    let y0 = max(0, Int(box.y))
    let x1 = min(mask.width, Int(box.maxX.rounded(.up)))
    let y1 = min(mask.height, Int(box.maxY.rounded(.up)))
    guard x0 < x1, y0 < y1 else { return }
    let offset = factor / 2
    for y in y0..<y1 {
      for x in x0..<x1 where mask.bits[y * mask.width + x] == 1 {
        let i = (y * factor + offset) * picture.width + x * factor + offset
        counts[Int(namer.colourIndex(y: picture.luma.pixels[i], cb: picture.cb.pixels[i], cr: picture.cr.pixels[i]))] += 1
      }
    }
  }

  /// Keeps a crop of the largest view of the object that does not touch the picture's edge.
  private func keepBestView(_ picture: YUVImage, box: Rect, factor: Int, model: Int, into evidence: inout TrackEvidence) {
    let modelHeight = picture.height / factor
    let touchesEdge = box.x < 1 || box.y < 1 || box.maxX > Double(model - 1) || box.maxY > Double(modelHeight - 1)
    let area = box.area * (touchesEdge ? 0.5 : 1)
    guard area > evidence.bestArea * 1.1 || evidence.thumbnail == nil else { return }
    let margin = 0.15
    let scale = Double(factor)
    let x0 = max(0, Int(((box.x - margin * box.width) * scale).rounded(.down)))
    let y0 = max(0, Int(((box.y - margin * box.height) * scale).rounded(.down)))
    let x1 = min(picture.width, Int(((box.maxX + margin * box.width) * scale).rounded(.up)))
    let y1 = min(picture.height, Int(((box.maxY + margin * box.height) * scale).rounded(.up)))
    guard x1 - x0 >= 2, y1 - y0 >= 2 else { return }
    var pixels = [UInt8](repeating: 0, count: (x1 - x0) * (y1 - y0) * 3)
    var o = 0
    for y in y0..<y1 {
      for x in x0..<x1 {
        let i = y * picture.width + x
        let (r, g, b) = ColourNamer.rgb(
          y: Int(picture.luma.pixels[i]), cb: Int(picture.cb.pixels[i]), cr: Int(picture.cr.pixels[i]))
        pixels[o] = UInt8(r * 255)
        pixels[o + 1] = UInt8(g * 255)
        pixels[o + 2] = UInt8(b * 255)
        o += 3
      }
    }
    evidence.bestArea = area
    evidence.thumbnail = RGBImage(width: x1 - x0, height: y1 - y0, pixels: pixels)
  }
}
