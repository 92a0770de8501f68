import Foundation
import Media
import TestSupport
import Testing

/// `lrj search`, `show`, `extract` and `zone save` on the ingested Samples clip, with answers the
/// ground truth fixes.
@Suite(.serialized)
struct SearchCommandTests {
  struct Page: Decodable {
    struct Result: Decodable {
      var track: String
      var exhibit: String
      var camera: String
      var `class`: String
      var classConfidence: Double
      var colours: [Colour]
      var direction: String
      var speed: Double
      var start: String
      var end: String
      var startOffset: Double
      var endOffset: Double
      var firstBox: [Double]
      var lastBox: [Double]
      var frameWidth: Int
      var frameHeight: Int
      var zoneFirst: Double?
      var zoneLast: Double?
    }
    struct Colour: Decodable {
      var colour: String
      var fraction: Double
    }
    var total: Int
    var results: [Result]
  }

  /// A procedure with the Samples clip ingested, and which track is which ground-truth object.
  struct Fixture {
    var installation: TestInstallation
    var objectOfTrack: [String: Int]
    var home: URL { installation.home }
    var env: [String: String] { installation.env() }

    func search(_ arguments: [String]) throws -> (Page?, ProcessResult) {
      let result = try Run.lrj(["search", "--procedure", "P1", "--json"] + arguments, environment: env)
      let page = result.status == 0 ? try JSONDecoder().decode(Page.self, from: result.outputData) : nil
      return (page, result)
    }

    /// The ground-truth objects a search returns.
    func objects(_ arguments: [String]) throws -> Set<Int> {
      let (page, result) = try search(arguments)
      let found = try #require(page, "search \(arguments) failed: \(result.standardError)")
      #expect(found.total == found.results.count)
      return Set(found.results.compactMap { objectOfTrack[$0.track] })
    }
  }

  static func makeFixture() throws -> Fixture {
    let installation = try TestInstallation.make()
    let env = installation.env()
    let ingest = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], environment: env)
    try #require(ingest.status == 0, "\(ingest.standardError)")
    let mot = try Run.lrj(["tracks", "--procedure", "P1", "--exhibit", "E1"], environment: env)
    let boxes = TrackBox.parseMOT(mot.standardOutput)
    let truth = try SamplesTruth.load()
    var objectOfTrack: [String: Int] = [:]
    for object in truth.objects {
      if let best = Coverage.of(object.judgedBoxes(fps: truth.fps), by: boxes).best { objectOfTrack["T\(best)"] = object.id }
    }
    return Fixture(installation: installation, objectOfTrack: objectOfTrack)
  }

  @Test func searchesReturnWhatTheGroundTruthFixes() throws {
    let fixture = try Self.makeFixture()
    defer { fixture.installation.remove() }
    #expect(fixture.objectOfTrack.count == 12, "every object has a track")

    // Red cars going right: object 1 only.
    #expect(try fixture.objects(["--class", "car", "--colour", "red", "--direction", "right"]) == [1])
    // OR within a kind: both two-wheelers.
    #expect(try fixture.objects(["--class", "two-wheeler"]) == [7, 11])
    #expect(try fixture.objects(["--colour", "pink,orange"]) == [7, 11])
    // Persons entering the lower-left quadrant (those starting inside it do not "enter").
    #expect(try fixture.objects(["--class", "person", "--camera", "street", "--zone", "0,0.5 0.5,0.5 0.5,1 0,1"]) == [4, 9])
    // Objects dwelling at least 5 s on the far pavement's middle: the person who stops.
    let dwell = ["--camera", "street", "--zone", "0.3,0.3 0.6,0.3 0.6,0.45 0.3,0.45", "--zone-rule", "dwell:5"]
    #expect(try fixture.objects(dwell) == [5])
    let (dwellPage, _) = try fixture.search(dwell)
    let stop = try #require(dwellPage?.results.first)
    #expect(abs((stop.zoneFirst ?? 0) - 9.3) < 1.5 && (stop.zoneLast ?? 0) > 19, "in the zone from \(stop.zoneFirst ?? -1) to \(stop.zoneLast ?? -1)")
    // Crossing the vertical middle line, either way.
    #expect(try fixture.objects(["--camera", "street", "--zone", "0.5,0 0.5,1"]) == [1, 2, 3, 4, 5, 7, 8, 11, 12])
    // Wall-clock range [09:00:30, 09:00:40) with the offset written out.
    #expect(try fixture.objects(["--from", "2026-03-01T10:00:30+01:00", "--to", "2026-03-01T10:00:40+01:00"]) == [9, 10, 11, 12])

    // A zone saved under a name and reused.
    let save = try Run.lrj(["zone", "save", "--procedure", "P1", "--camera", "street", "--name", "lower-left",
                            "0,0.5 0.5,0.5 0.5,1 0,1"], environment: fixture.env)
    #expect(save.status == 0, "\(save.standardError)")
    #expect(try fixture.objects(["--class", "person", "--camera", "street", "--zone", "@lower-left"]) == [4, 9])

    // The JSON contract and paging.
    let (all, _) = try fixture.search(["--limit", "5", "--offset", "2"])
    let page = try #require(all)
    // Twelve objects, and at most the short ghost of the parked car's place besides.
    #expect((12...13).contains(page.total) && page.results.count == 5, "total \(page.total)")
    let first = try #require(page.results.first)
    #expect(first.frameWidth == 1280 && first.frameHeight == 720 && first.exhibit == "E1" && first.camera == "street")
    #expect(first.start.hasPrefix("2026-03-01T09:00:") && first.start.hasSuffix("+00:00"))
    #expect(first.firstBox.count == 4 && first.lastBox.count == 4)
    let table = try Run.lrj(["search", "--procedure", "P1", "--class", "car"], environment: fixture.env)
    #expect(table.standardOutput.contains("tracks (showing 1–"), "\(table.standardOutput)")

    // Thumbnail and original footage of the red car.
    let red = try #require(fixture.objectOfTrack.first { $0.value == 1 }?.key)
    let png = fixture.installation.folder.appendingPathComponent("red.png").path
    let show = try Run.lrj(["show", "--procedure", "P1", red, "--out", png], environment: fixture.env)
    #expect(show.status == 0, "\(show.standardError)")
    guard case .rgb(let thumbnail) = try PNG.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))) else {
      Issue.record("the thumbnail is a colour PNG")
      return
    }
    #expect(thumbnail.width > thumbnail.height, "a car seen from the side is wider than tall")
    let clip = fixture.installation.folder.appendingPathComponent("red.mp4").path
    let extract = try Run.lrj(["extract", "--procedure", "P1", red, "--out", clip, "--margin", "1"], environment: fixture.env)
    #expect(extract.status == 0, "\(extract.standardError)")
    let sha = try Run.program("sha256sum", [clip]).standardOutput.prefix(64)
    #expect(extract.standardOutput.contains("SHA-256 \(sha)"))
    #expect(extract.standardOutput.contains("stream copy"))
    let decoder = try Decoder(path: clip, format: FrameFormat(layout: .gray, maxWidth: 160))
    var frames = 0
    while try decoder.nextFrame() != nil { frames += 1 }
    #expect(frames >= 5 * 25, "the clip covers the car's 5 s and more: \(frames) frames")
  }

  @Test func badQueriesAreClearErrors() throws {
    let installation = try TestInstallation.make()
    defer { installation.remove() }
    let env = installation.env()
    // A procedure with an empty store is enough to check the parsing.
    let ingest = try Run.lrj(["ingest", "--procedure", "P1", "--camera", "street", "/no/such.mp4"], environment: env)
    #expect(ingest.status != 0)
    let cases: [([String], String)] = [
      (["--class", "face"], "no biometric capability"),
      (["--colour", "skin"], "no biometric capability"),
      (["--class", "tree"], "person, car, two-wheeler, bus-truck, other"),
      (["--colour", "mauve"], "black, white, grey"),
      (["--direction", "north"], "up-right"),
      (["--camera", "street", "--zone", "0.1,0.1 0.2,0.2 0.3"], "malformed point"),
      (["--camera", "street", "--zone", "0.1,0.1"], "points"),
      (["--camera", "street", "--zone", "0.1,0.1 1.5,0.2 0.3,0.3"], "outside 0..1"),
      (["--camera", "street", "--zone", "0,0 1,1 1,0 0,1"], "crosses itself"),
      (["--zone", "0,0 1,0 1,1"], "one --camera"),
      (["--camera", "street", "--zone", "0,0 1,0 1,1", "--zone-rule", "hovers"], "valid rules"),
      (["--from", "2026-03-01T10:00:00+01:00", "--to", "2026-03-01T09:00:00+01:00"], "before"),
      (["--from", "2026-03-01 10:00"], "2026-03-01 10:00"),
      (["--offset", "9223372036854775807", "--limit", "1"], "offset must be 0 to"),
      (["--bogus"], "Unknown option '--bogus'"),
    ]
    for (arguments, expected) in cases {
      let result = try Run.lrj(["search", "--procedure", "P1"] + arguments, environment: env)
      #expect(result.status != 0, "\(arguments) must fail")
      #expect(result.standardError.hasPrefix("error: "), "\(arguments): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1, "\(arguments): one line")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }
}
