import Foundation
import Media
import TestSupport
import Testing

/// The built `lrj` binary, run as a user would run it.
struct AboutTests {
  static let biometricTerms = ["face", "facial", "biometric", "gender", "sex", "age", "skin", "hair", "gait", "ethnic"]

  @Test func aboutStatesThereIsNoBiometricCapability() throws {
    let result = try Run.lrj(["about"])
    #expect(result.status == 0)
    let lines = result.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix("lrj has no biometric capability") })
    #expect(result.standardOutput.contains("FFmpeg 5.") || result.standardOutput.contains("FFmpeg "))
    #expect(result.standardOutput.contains("libpng 1.6"))
    #expect(result.standardOutput.contains("h264"))
    // The capability lines name no biometric term; only the statement of absence may.
    let capabilities = lines.filter { line in
      ["  object classes", "  colours", "  directions", "  query predicates"].contains { line.hasPrefix($0) }
    }
    #expect(capabilities.count == 4)
    for line in capabilities {
      let words = Set(line.lowercased().split { !$0.isLetter }.map(String.init))
      #expect(words.isDisjoint(with: Self.biometricTerms), "\(line)")
    }
    let hash = try #require(lines.first { $0.hasPrefix("Manifest SHA-256: ") })
    #expect(hash.dropFirst("Manifest SHA-256: ".count).count == 64)
  }

  @Test func aboutJSONIsStableAndComplete() throws {
    struct About: Decodable {
      struct Manifest: Decodable {
        var objectClasses: [String]
        var colours: [String]
        var directions: [String]
        var videoDecoders: [String]
        var exclusionStatement: String
      }
      var manifest: Manifest
      var sha256: String
    }
    let first = try JSONDecoder().decode(About.self, from: try Run.lrj(["about", "--json"]).outputData)
    let second = try JSONDecoder().decode(About.self, from: try Run.lrj(["about", "--json"]).outputData)
    #expect(first.sha256 == second.sha256 && first.sha256.count == 64)
    #expect(first.manifest.objectClasses == ["person", "car", "two-wheeler", "bus-truck", "other"])
    #expect(first.manifest.colours.count == 11)
    #expect(first.manifest.directions.count == 9)
    #expect(first.manifest.videoDecoders.contains("h264"))
    #expect(first.manifest.exclusionStatement.hasPrefix("lrj has no biometric capability"))
  }

  @Test func unknownCommandIsAnError() throws {
    let result = try Run.lrj(["frobnicate"])
    #expect(result.status != 0)
    #expect(result.standardError.lowercased().contains("error"))
  }

  /// A mistake on the command line is one `error:` line naming it and the help to read.
  @Test func commandLineMistakesAreOneErrorLine() throws {
    let cases: [([String], String)] = [
      (["search", "--procedure", "P1", "--bogus"], "Unknown option '--bogus' (see `lrj search --help`)"),
      (["search", "--procedure", "P1", "--limit", "abc"], "see `lrj search --help`"),
      (["search", "--class", "car"], "see `lrj search --help`"),
      (["log", "verify", "--nope"], "see `lrj log verify --help`"),
      (["--nope"], "see `lrj --help`"),
    ]
    for (arguments, message) in cases {
      let result = try Run.lrj(arguments, environment: ["LRJ_HOME": "/nonexistent"])
      #expect(result.status != 0, "\(arguments)")
      #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(message), "\(arguments): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1, "\(arguments): \(result.standardError)")
    }
    let help = try Run.lrj(["search", "--help"])
    #expect(help.status == 0 && help.standardOutput.contains("USAGE: lrj search"))
  }
}

struct ProbeTests {
  @Test func probeTableShowsWhatTheDecoderReports() throws {
    let result = try Run.lrj(["probe", TestPaths.samplesClip])
    #expect(result.status == 0)
    #expect(result.standardError.isEmpty)
    for expected in ["h264", "1280x720", "25.000 fps", "40.000 s", "1000 (declared)", "2026-03-01T09:00:00"] {
      #expect(result.standardOutput.contains(expected), "table shows \(expected)")
    }
  }

  @Test func probeJSONDecodesEveryFrameOnRequest() throws {
    struct Report: Decodable {
      struct Info: Decodable {
        var width: Int
        var height: Int
        var codec: String
        var frameRate: Double
        var creationTime: String?
      }
      struct Decoded: Decodable {
        var frames: Int
        var skippedPackets: Int
      }
      var info: Info
      var decoded: Decoded?
    }
    let result = try Run.lrj(["probe", "--json", "--decode", TestPaths.samplesClip])
    #expect(result.status == 0)
    let reports = try JSONDecoder().decode([Report].self, from: result.outputData)
    #expect(reports.count == 1)
    #expect(reports[0].info.width == 1280 && reports[0].info.codec == "h264")
    #expect(reports[0].decoded?.frames == 1000)
    #expect(reports[0].decoded?.skippedPackets == 0)
  }

  @Test func eachBadFileIsOneClearErrorLine() throws {
    let files = try BadFiles()
    defer { files.remove() }
    for (path, cause) in files.fatal {
      let result = try Run.lrj(["probe", path])
      #expect(result.status != 0, "\(path) exits non-zero")
      #expect(result.standardOutput.isEmpty)
      let lines = result.standardError.split(separator: "\n")
      #expect(lines.count == 1, "one line: \(result.standardError)")
      #expect(lines.first?.hasPrefix("error: \(path): ") == true, "\(result.standardError)")
      #expect(result.standardError.contains(cause))
    }
  }

  @Test func corruptPacketsInTheMiddleAreCountedNotFatal() throws {
    struct Report: Decodable {
      struct Decoded: Decodable {
        var frames: Int
        var skippedPackets: Int
      }
      var decoded: Decoded
    }
    let files = try BadFiles()
    defer { files.remove() }
    let result = try Run.lrj(["probe", "--json", "--decode", files.corruptMiddle])
    #expect(result.status == 0, "\(result.standardError)")
    let report = try JSONDecoder().decode([Report].self, from: result.outputData)
    #expect(report.first?.decoded.skippedPackets ?? 0 > 0)
    #expect(report.first?.decoded.frames ?? 0 > 900)
  }

  @Test func goodFilesAreReportedEvenWhenOthersFail() throws {
    let result = try Run.lrj(["probe", TestPaths.samplesClip, "/no/such/clip.mp4"])
    #expect(result.status != 0)
    #expect(result.standardOutput.contains("1280x720"))
    #expect(result.standardError == "error: /no/such/clip.mp4: no such file\n")
  }
}

struct DemoTests {
  @Test func demoWritesAFrameOfTheSamplesClip() throws {
    let result = try Run.lrj(["demo"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("1000 frames"))
    let pngLine = try #require(result.standardOutput.split(separator: "\n").first { $0.contains(".png") })
    let path = String(try #require(pngLine.split(separator: " ").last))
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let decoded = try PNG.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    guard case .rgb(let image) = decoded else {
      Issue.record("the demo frame is a colour PNG")
      return
    }
    #expect(image.width == 1280 && image.height == 720)
    // It is frame 350 of the clip, as the decoder gives it.
    let decoder = try Decoder(path: TestPaths.samplesClip, format: .sourceRGB)
    try decoder.seek(to: 14)
    let frame = try #require(try decoder.nextFrame())
    #expect(frame.index == 350)
    #expect(frame.image == .rgb(image))

    // The whole lawful workflow: authorisation, open, ingest, searches, synopsis, log, verify, closure.
    let output = result.standardOutput
    #expect(output.contains("lrj procedure open --token"))
    #expect(output.contains("\tjudge.martin\tauthorise\tsuccess") && output.contains("\topj.durand\tsearch\tsuccess"), "\(output)")
    #expect(output.contains("objects of camera street") && output.contains("\topj.durand\tsynopsis\tsuccess"), "\(output)")
    #expect(output.contains("14. lrj log verify: verified"))
    #expect(output.contains("a search after closure is refused: procedure DEMO-2026-001 was closed"))
    #expect(output.contains("lrj log verify after closure: verified"))
    let work = URL(fileURLWithPath: (path as NSString).deletingLastPathComponent)
    let manifest = try JSONSerialization.jsonObject(
      with: Data(contentsOf: work.appendingPathComponent("closure-report/closure-DEMO-2026-001.json"))) as? [String: Any]
    #expect(manifest?["procedure"] as? String == "DEMO-2026-001")
    #expect((manifest?["exhibits"] as? [Any])?.count == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("lrj-home/procedures").path).isEmpty)
  }
}

struct SampleGeneratorTests {
  @Test func generatorReproducesTheSamplesScene() throws {
    let folder = try TestPaths.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let generator = TestPaths.products.appendingPathComponent("lrj-samplegen").path
    let result = try Run.program(generator, ["--out", folder.path, "--seconds", "2"])
    #expect(result.status == 0, "\(result.standardError)")
    // The ground truth does not depend on the encoder: the objects are those committed.
    let made = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("street.json")))
    let committed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.samplesTruth)))
    let madeObjects = (made as? [String: Any])?["objects"] as? [[String: Any]]
    let committedObjects = (committed as? [String: Any])?["objects"] as? [[String: Any]]
    #expect(madeObjects.map { NSArray(array: $0) } == committedObjects.map { NSArray(array: $0) })
    #expect((made as? [String: Any])?["frames"] as? Int == 50)
    // The pictures are those of the committed clip.
    let fresh = try Decoder(path: folder.appendingPathComponent("street.mp4").path, format: FrameFormat(layout: .gray))
    let original = try Decoder(path: TestPaths.samplesClip, format: FrameFormat(layout: .gray))
    var count = 0
    while let a = try fresh.nextFrame(), let b = try original.nextFrame() {
      guard case .gray(let x) = a.image, case .gray(let y) = b.image else { break }
      #expect(Compare.psnr(x.pixels, y.pixels) > 30)
      count += 1
    }
    #expect(count == 50)
  }
}
