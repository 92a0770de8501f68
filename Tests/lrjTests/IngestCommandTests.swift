import Foundation
import Index
import TestSupport
import Testing

/// `lrj ingest` and `lrj tracks` run as a user would, in a temporary LRJ_HOME.
@Suite(.serialized)
struct IngestCommandTests {
  struct Summary: Decodable {
    var exhibit: String
    var file: String
    var sha256: String
    var camera: String
    var start: String
    var frames: Int
    var width: Int
    var height: Int
    var fps: Double
    var tracks: [String: Int]
    var seconds: Double
    var framesPerSecond: Double
    var skippedPackets: Int
    var alreadyIngested: Bool
    var classifier: String?
    var modelSHA256: String?
    var classifiedCrops: Int?
  }

  static func exhibits(home: URL, procedure: String) throws -> [Exhibit] {
    let path = home.appendingPathComponent("procedures/\(procedure)/index.sqlite").path
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    // Exhibits are routing rows: nothing sealed is opened.
    return try IndexStore(path: path, sealing: NoSealing()).exhibits(includingIncomplete: true)
  }

  @Test func ingestPrintsTheSummaryAndTracksExportsMOT() throws {
    let installation = try TestInstallation.make(procedure: "P-2026-001")
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let result = try Run.lrj(
      ["ingest", "--procedure", "P-2026-001", "--camera", "Rue de la Paix 3", "--start", "2026-03-01T10:00:00+01:00",
       "--json", TestPaths.samplesClip], environment: env)
    #expect(result.status == 0, "\(result.standardError)")
    // Quiet when not a terminal (no progress bar); the home has no classifier model, which is
    // said once, and classes come from geometry.
    let warnings = result.standardError.split(separator: "\n")
    #expect(warnings.count == 1 && warnings[0].hasPrefix("warning: no detector model"),
            "only the missing model is reported: \(result.standardError)")
    let summary = try JSONDecoder().decode(Summary.self, from: result.outputData)
    #expect(summary.exhibit == "E1")
    #expect(summary.camera == "Rue de la Paix 3")
    #expect(summary.start == "2026-03-01T10:00:00.000+01:00")
    #expect(summary.frames == 1000 && summary.width == 1280 && summary.height == 720 && summary.fps == 25)
    #expect(summary.sha256.count == 64 && summary.skippedPackets == 0)
    #expect(summary.tracks["person"] ?? 0 >= 4 && summary.tracks["car"] ?? 0 >= 3)
    #expect(summary.classifier == "geometry" && summary.modelSHA256 == nil)

    // Every box of every track, MOTChallenge layout, 1-based frames, inside the picture.
    let mot = try Run.lrj(["tracks", "--procedure", "P-2026-001", "--exhibit", "E1", "--format", "mot"], environment: env)
    #expect(mot.status == 0, "\(mot.standardError)")
    let boxes = TrackBox.parseMOT(mot.standardOutput)
    #expect(boxes.count > 1000)
    #expect(mot.standardOutput.split(separator: "\n").allSatisfy { $0.split(separator: ",").count == 10 })
    for box in boxes {
      #expect(box.frame >= 0 && box.frame < 1000)
      #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 1280.5 && box.y + box.height <= 720.5)
    }
    let perTrack = Dictionary(grouping: boxes, by: \.track)
    #expect(perTrack.count == summary.tracks.values.reduce(0, +))

    // The same file again: recognised, nothing stored twice.
    let again = try Run.lrj(
      ["ingest", "--procedure", "P-2026-001", "--camera", "Rue de la Paix 3", "--json", TestPaths.samplesClip],
      environment: env)
    #expect(again.status == 0)
    let second = try JSONDecoder().decode(Summary.self, from: again.outputData)
    #expect(second.alreadyIngested && second.exhibit == "E1" && second.sha256 == summary.sha256)
    #expect(try Self.exhibits(home: home, procedure: "P-2026-001").count == 1)
  }

  @Test func badInputsAreOneLineErrorsAndStoreNothing() throws {
    let installation = try TestInstallation.make()
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let files = try BadFiles()
    defer { files.remove() }
    for (path, cause) in files.fatal {
      let result = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "cam", path], environment: env)
      #expect(result.status != 0)
      #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
      #expect(result.standardError.hasPrefix("error: \(path): ") && result.standardError.contains(cause))
    }
    let cases: [([String], String)] = [
      (["--camera", "cam", "--start", "yesterday"], "--start \"yesterday\""),
      (["--camera", "cam", "--start", "2026-13-45T99:00:00Z"], "--start"),
      (["--camera", "cam/../../etc"], "camera name"),
      (["--camera", ""], "camera name"),
    ]
    for (arguments, expected) in cases {
      let result = try Run.lrj(["ingest", "--procedure", "P1"] + arguments + [TestPaths.samplesClip], environment: env)
      #expect(result.status != 0, "\(arguments)")
      #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(expected),
              "\(arguments): \(result.standardError)")
    }
    let unwritable = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "c", TestPaths.samplesClip],
                                 environment: env.merging(["LRJ_HOME": "/proc/lrj-cannot-be-here"]) { $1 })
    #expect(unwritable.status != 0)
    #expect(unwritable.standardError.hasPrefix("error: no lrj installation in /proc/lrj-cannot-be-here"),
            "\(unwritable.standardError)")
    let notOpened = try Run.lrj(["ingest", "--procedure", "P2", "--camera", "c", TestPaths.samplesClip], environment: env)
    #expect(notOpened.status != 0 && notOpened.standardError.contains("no procedure P2"), "\(notOpened.standardError)")
    let badProcedure = try Run.lrj(["ingest", "--procedure", "../x", "--camera", "c", TestPaths.samplesClip], environment: env)
    #expect(badProcedure.status != 0 && badProcedure.standardError.contains("invalid procedure id"))
    #expect(try Self.exhibits(home: home, procedure: "P1").isEmpty)
  }

  @Test func aFileWithoutCreationTimeNeedsStart() throws {
    let installation = try TestInstallation.make()
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let clip = installation.folder.appendingPathComponent("no-date.mp4").path
    let made = try Run.program(
      "ffmpeg", ["-v", "error", "-i", TestPaths.samplesClip, "-t", "2", "-c", "copy", "-map_metadata", "-1", clip])
    try #require(made.status == 0)
    let result = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "c", clip], environment: env)
    #expect(result.status != 0)
    #expect(result.standardError.contains("no start time") && result.standardError.contains("--start"))
  }

  @Test func corruptPacketsAreCountedInTheSummary() throws {
    let installation = try TestInstallation.make()
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let files = try BadFiles()
    defer { files.remove() }
    let result = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "c", "--json", files.corruptMiddle],
                             environment: env)
    #expect(result.status == 0, "\(result.standardError)")
    let summary = try JSONDecoder().decode(Summary.self, from: result.outputData)
    #expect(summary.skippedPackets > 0)
    #expect(summary.frames > 900)
  }

  /// kill -9 in the middle of an ingest leaves no exhibit; running it again ingests fully.
  @Test func killedIngestLeavesNothingAndCanBeRerun() throws {
    let installation = try TestInstallation.make()
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let process = Process()
    process.executableURL = TestPaths.products.appendingPathComponent("lrj")
    process.arguments = ["ingest", "--procedure", "P1", "--camera", "c", TestPaths.samplesClip]
    process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    Thread.sleep(forTimeInterval: 2)
    #expect(process.isRunning, "the ingest takes longer than 2 s")
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(try Self.exhibits(home: home, procedure: "P1").filter(\.isComplete).isEmpty)

    let rerun = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "c", "--json", TestPaths.samplesClip],
                            environment: env)
    #expect(rerun.status == 0, "\(rerun.standardError)")
    let exhibits = try Self.exhibits(home: home, procedure: "P1")
    #expect(exhibits.count == 1 && exhibits[0].isComplete && exhibits[0].completion?.framesDecoded == 1000)
  }
}
