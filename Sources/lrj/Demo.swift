import ArgumentParser
import Consultation
import Foundation
import Index
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

      print("\n4. ingest into a procedure (in a temporary LRJ_HOME)")
      let home = work.appendingPathComponent("lrj-home")
      let workspace = try ProcedureWorkspace(id: "DEMO-2026-001", home: home, create: true)
      let ingested = try workspace.ingest(path: clip, camera: "street", start: nil)
      print(IngestCommand.summary(ingested).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

      var redCars = SearchFilters()
      redCars.classes = ["car"]
      redCars.colours = ["red"]
      redCars.directions = ["right"]
      var lowerLeft = SearchFilters()
      lowerLeft.classes = ["person"]
      lowerLeft.cameras = ["street"]
      lowerLeft.zone = "0,0.5 0.5,0.5 0.5,1 0,1"
      lowerLeft.zoneRule = "enters"
      var dwell = SearchFilters()
      dwell.cameras = ["street"]
      dwell.zone = "0.3,0.3 0.6,0.3 0.6,0.45 0.3,0.45"
      dwell.zoneRule = "dwell:5"
      let searches = [
        ("red cars going right", "--class car --colour red --direction right", redCars),
        ("persons entering the lower-left quadrant", "--class person --camera street --zone \"0,0.5 0.5,0.5 0.5,1 0,1\"", lowerLeft),
        ("anything staying 5 s on the far pavement", "--camera street --zone \"0.3,0.3 0.6,0.3 0.6,0.45 0.3,0.45\" --zone-rule dwell:5", dwell),
      ]
      var firstTrack: String?
      for (n, (title, flags, filters)) in searches.enumerated() {
        print("\n\(5 + n). search: \(title)\n   lrj search \(flags)")
        let result = try workspace.search(filters)
        print(Search.table(result, offset: 0).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        firstTrack = firstTrack ?? result.results.first?.track
      }
      if let track = firstTrack {
        let thumbnail = work.appendingPathComponent("\(track).png")
        try workspace.thumbnail(track: track).write(to: thumbnail, options: .atomic)
        print("\n8. thumbnail of \(track) → \(thumbnail.path)")
        let extract = try workspace.extract(track: track, margin: 1, to: work.appendingPathComponent("\(track).mp4").path)
        print(String(format: "9. original footage of %@, %.1f–%.1f s → %@ (SHA-256 %@)", track, extract.from, extract.to,
                     extract.file, extract.sha256))
      }
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
