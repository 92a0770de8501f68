import Foundation
import Index
import Logging
import Media

/// What to make.
public struct SynopsisOptions: Sendable, Hashable {
  /// Target length, density or collision bound (default: the shortest synopsis with at most 5 %
  /// collision area).
  public var target: PlanTarget = .collision(0.05)
  /// How many times faster objects play while they stay put (1: every tube at its own speed);
  /// see `PlannerSettings.stillSpeedup`.
  public var stillSpeedup = 1
  /// x264 constant quality (lower is better).
  public var quality = 20
  /// How backgrounds are built.
  public var background = BackgroundSettings()
  /// Bytes of object cut-outs held in memory at once, at most (roughly).
  public var memoryBudget = 64 << 20

  /// Creates the default options.
  public init() {}
}

/// Where to write: the MP4, optionally the PNG overview, and the JSON index.
public struct SynopsisOutputs: Sendable, Hashable {
  public var video: String
  public var overview: String?
  public var index: String
  /// The video's file name as the index names it (when the files are written under temporary names).
  public var videoName: String

  /// Creates outputs; `index` defaults to the video's path with the extension `.json`.
  public init(video: String, overview: String? = nil, index: String? = nil, videoName: String? = nil) {
    self.video = video
    self.overview = overview
    self.index = index ?? SynopsisOutputs.indexPath(forVideo: video)
    self.videoName = videoName ?? URL(fileURLWithPath: video).lastPathComponent
  }

  /// `F.mp4` → `F.json`; other names get `.json` appended.
  public static func indexPath(forVideo video: String) -> String {
    let url = URL(fileURLWithPath: video)
    return url.pathExtension.lowercased() == "mp4" ? url.deletingPathExtension().appendingPathExtension("json").path : video + ".json"
  }
}

/// Makes a synopsis: plans the tubes, builds the backgrounds, renders the MP4, the PNG overview
/// and the JSON index. Files appear only when all of them are complete.
public enum SynopsisMaker {
  static let logger = Logger(label: "lrj.synopsis")

  /// Makes the synopsis of `tubes` drawn from `sources` (one camera).
  /// - Returns: the index written.
  /// - Throws: `SynopsisError` (nothing to show, sources of different sizes, bad target) or
  ///   `MediaError` (decoding, encoding, writing); no output is left behind.
  public static func make(tubes: [Tube], sources: [SynopsisSource], camera: String, options: SynopsisOptions,
                          outputs: SynopsisOutputs, progress: ((SynopsisProgress) -> Void)? = nil) throws -> SynopsisIndex
  {
    let clock = ContinuousClock.now
    func elapsed() -> Double {
      let d = ContinuousClock.now - clock
      return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    guard !tubes.isEmpty else { throw SynopsisError("no object to show") }
    guard let first = sources.first else { throw SynopsisError("no footage to draw from") }
    let size = PixelSize(width: first.size.width & ~1, height: first.size.height & ~1)
    guard size.width >= 2, size.height >= 2 else { throw SynopsisError("picture too small (\(first.size))") }
    for s in sources where s.size != first.size {
      throw SynopsisError("exhibits \(first.exhibit) (\(first.size)) and \(s.exhibit) (\(s.size)) differ in picture size")
    }
    var sourceOfExhibit: [String: Int] = [:]
    for (i, s) in sources.enumerated() { sourceOfExhibit[s.exhibit] = i }
    let sourceOfTube = try tubes.map { tube throws(SynopsisError) -> Int in
      guard let s = sourceOfExhibit[tube.exhibit] else { throw SynopsisError("no footage for exhibit \(tube.exhibit)") }
      return s
    }
    let rate = max(1, Int(first.frameRate.rounded()))
    var plannerSettings = PlannerSettings(frameRate: Double(rate), target: options.target)
    plannerSettings.stillSpeedup = options.stillSpeedup
    let plan = try SynopsisPlanner.plan(tubes, settings: plannerSettings)
    // The tubes as shown (still stretches time-lapsed); the same tracks, the same first and last times.
    let tubes = plan.tubes
    logger.info("planned", metadata: ["frames": "\(plan.frameCount)", "collision": "\(plan.collision.fraction)"])

    // Backgrounds, exhibit by exhibit.
    var backgrounds: [SceneBackground] = []
    let reader0 = FootageReader(sources: sources, backgrounds: [], outputSize: size)
    for (i, source) in sources.enumerated() {
      let decoder = try reader0.decoder(i)
      backgrounds.append(
        try SceneBackground.build(decoder: decoder, from: 0, to: source.duration, size: size,
                                  occupied: source.boxes(near:), settings: options.background, logger: logger) { done, total in
          progress?(SynopsisProgress(stage: .background, done: done + i * total, total: total * sources.count, elapsed: elapsed()))
        })
    }
    let reader = FootageReader(sources: sources, backgrounds: backgrounds, outputSize: size)

    // Everything is written beside its final path and moved into place at the end.
    var temporary: [String] = []
    var moved: [String] = []
    var succeeded = false
    defer {
      if !succeeded {
        for path in temporary + moved { try? FileManager.default.removeItem(atPath: path) }
      }
    }
    var settings = Encoder.Settings(size: size, frameRate: rate, quality: .constant(options.quality))
    settings.metadata = ["comment": "lrj synopsis of camera \(camera)"]
    let encoder = try Encoder(path: outputs.video, settings: settings)
    let renderer = Renderer(plan: plan, tubes: tubes, sourceOfTube: sourceOfTube, reader: reader,
                            memoryBudget: options.memoryBudget)
    try renderer.render(into: encoder) { done in
      progress?(SynopsisProgress(stage: .rendering, done: done, total: plan.frameCount, elapsed: elapsed()))
    }

    let index = SynopsisIndex(plan: plan, tubes: tubes, video: outputs.videoName, camera: camera, size: size)
    let json = try JSONEncoder.synopsis.encode(index)
    try write(json, to: outputs.index + ".partial")
    temporary.append(outputs.index + ".partial")
    if let overviewPath = outputs.overview {
      let middle = renderer.backgroundTime(ofFrame: plan.frameCount / 2)
      let overview = Overview(tubes: tubes, sourceOfTube: sourceOfTube, reader: reader, frameRate: Double(rate),
                              background: backgrounds[middle.source].picture(at: middle.time))
      let picture = try overview.render { done in
        progress?(SynopsisProgress(stage: .overview, done: done, total: tubes.count, elapsed: elapsed()))
      }
      try write(Data(try PNG.encode(picture)), to: overviewPath + ".partial")
      temporary.append(overviewPath + ".partial")
    }
    try encoder.finish()
    moved.append(outputs.video)
    for path in temporary {
      let final = String(path.dropLast(".partial".count))
      do {
        if FileManager.default.fileExists(atPath: final) { try FileManager.default.removeItem(atPath: final) }
        try FileManager.default.moveItem(atPath: path, toPath: final)
      } catch {
        throw SynopsisError("cannot write \(final): \(error.localizedDescription)")
      }
      moved.append(final)
    }
    temporary = []
    succeeded = true
    return index
  }

  static func write(_ data: Data, to path: String) throws {
    do {
      try data.write(to: URL(fileURLWithPath: path))
    } catch {
      throw SynopsisError("cannot write \(path): \(error.localizedDescription)")
    }
  }
}

extension JSONEncoder {
  /// Sorted keys, readable, no escaped slashes.
  static var synopsis: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return encoder
  }
}
