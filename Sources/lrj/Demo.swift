import ArgumentParser
import Foundation
import Media

/// `lrj demo`: the workflow on the Samples clip, in a temporary folder.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the workflow on the Samples clip in a temporary folder and print where everything is.")

  @Option(help: "The Samples folder (default: ./Samples, else the one beside the lrj build).")
  var samples: String?

  func run() throws {
    try reportingErrors {
      let folder = try samples ?? Self.findSamples()
      let clip = (folder as NSString).appendingPathComponent("street.mp4")
      let work = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-demo-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

      print("1. probe \(clip)")
      let decoder = try Decoder(path: clip, format: .analysis())
      print(Probe.table(decoder.info, nil))

      print("\n2. decode every frame at analysis size \(decoder.outputSize)")
      let report = try Probe.decodeAll(decoder)
      print(String(format: "   %d frames, %.2f s of video, %d corrupt packets, %.0f frames/s",
                   report.frames, (report.lastTime ?? 0) + 1 / max(decoder.info.frameRate, 1),
                   report.skippedPackets, report.framesPerSecond))

      let stillTime = 14.0
      print("\n3. a frame at \(stillTime) s, full size, as PNG")
      let source = try Decoder(path: clip, format: .sourceRGB)
      try source.seek(to: stillTime)
      guard let frame = try source.nextFrame(), case .rgb(let image) = frame.image else {
        throw ValidationError("\(clip): no frame at \(stillTime) s")
      }
      let png = (work.path as NSString).appendingPathComponent("frame-\(frame.index).png")
      try Data(try PNG.encode(image)).write(to: URL(fileURLWithPath: png), options: .atomic)
      print(String(format: "   frame %d at %.3f s → %@", frame.index, frame.time, png))

      print("\nEverything is in \(work.path)")
    }
  }

  /// ./Samples, else Samples beside the package the running binary was built in.
  static func findSamples() throws -> String {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var candidates = [FileManager.default.currentDirectoryPath + "/Samples"]
    var folder = executable.deletingLastPathComponent()
    for _ in 0..<5 {
      candidates.append(folder.appendingPathComponent("Samples").path)
      folder = folder.deletingLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/street.mp4") }) else {
      throw ValidationError("cannot find Samples/street.mp4; pass --samples DIR")
    }
    return found
  }
}
