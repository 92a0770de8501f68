import ArgumentParser
import Foundation
import Media

/// Renders the synthetic street clip of `Samples/` and its ground truth.
struct SampleGenerator: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lrj-samplegen",
    abstract: "Render the synthetic Samples clip (1280x720, 25 fps) and its ground-truth JSON.")

  @Option(help: "Folder to write street.mp4 and street.json into.")
  var out: String = "Samples"

  @Option(help: "Average video bit rate in kbit/s.")
  var kbps: Int = 600

  @Option(help: "Seconds to render (default: the whole scene).")
  var seconds: Double?

  func run() throws {
    let scene = StreetScene()
    let creationTime = "2026-03-01T09:00:00Z"
    let clipPath = (out as NSString).appendingPathComponent("street.mp4")
    let truthPath = (out as NSString).appendingPathComponent("street.json")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

    var settings = Encoder.Settings(
      size: PixelSize(width: scene.width, height: scene.height), frameRate: scene.fps,
      quality: .bitRate(kbps * 1000), preset: "slow")
    settings.metadata = ["creation_time": creationTime]
    let encoder = try Encoder(path: clipPath, settings: settings)
    var renderer = SceneRenderer(scene: scene)
    let frames = Int(min(seconds ?? scene.duration, scene.duration) * Double(scene.fps))
    for frame in 0..<frames {
      try encoder.append(.rgb(renderer.frame(at: Double(frame) / Double(scene.fps))))
    }
    try encoder.finish()

    var truth = scene.groundTruth(clipName: "street.mp4", creationTime: creationTime)
    truth.frames = frames
    let coder = JSONEncoder()
    coder.outputFormatting = [.sortedKeys]
    try coder.encode(truth).write(to: URL(fileURLWithPath: truthPath), options: .atomic)
    print("wrote \(clipPath) (\(frames) frames, \(encoder.codecName)) and \(truthPath)")
  }
}

SampleGenerator.main()
