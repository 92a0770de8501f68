import Foundation
import Index
import Ingest
import TestSupport
import Testing

/// The whole pipeline on the Samples clip, whose ground truth is exact.
@Suite(.serialized)
struct SamplesIngestTests {
  /// One ingest of the Samples clip shared by the tests of this suite.
  struct Run: Sendable {
    var store: IndexStore
    var report: IngestReport
    var boxes: [TrackBox]
    var tracks: [TrackSummary]
  }

  static let run: Result<Run, any Error> = Result {
    let store = try IndexStore.inMemory()
    let report = try Ingestor(store: store).ingest(path: TestPaths.samplesClip, camera: "street", start: nil)
    let boxes = try store.boxes(ofExhibit: report.exhibit).map { b in
      TrackBox(frame: b.frameIndex, track: Int(b.track.dropFirst())!, x: b.box.x, y: b.box.y, width: b.box.width,
               height: b.box.height)
    }
    var query = TrackQuery()
    query.limit = 1000
    let tracks = try store.search(query).results
    return Run(store: store, report: report, boxes: boxes, tracks: tracks)
  }

  @Test func reportDescribesTheExhibit() throws {
    let run = try Self.run.get()
    #expect(run.report.frames == 1000)
    #expect(run.report.width == 1280 && run.report.height == 720 && run.report.fps == 25)
    #expect(run.report.start == "2026-03-01T09:00:00.000+00:00", "creation_time is the start when --start is absent")
    #expect(run.report.skippedPackets == 0)
    #expect(!run.report.alreadyIngested)
    let expected = try Run_sha256(TestPaths.samplesClip)
    #expect(run.report.sha256 == expected, "SHA-256 computed while decoding equals sha256sum")
  }

  /// Every moving object found by exactly one track, with the right class, direction and first
  /// colour, starting within 0.5 s of when it starts to move.
  @Test func everyObjectFoundOnceAndDescribed() throws {
    let run = try Self.run.get()
    let truth = try SamplesTruth.load()
    for object in truth.objects {
      let judged = object.judgedBoxes(fps: truth.fps)
      let coverage = Coverage.of(judged, by: run.boxes)
      let check = {
        let best = try #require(coverage.best, "object \(object.id) (\(object.label)) is found")
        #expect(coverage.bestShare >= 0.5, "object \(object.id): one track covers \(coverage.bestShare) of it")
        #expect(coverage.significantTracks == [best], "object \(object.id) is one track, not \(coverage.significantTracks)")
        let track = try #require(run.tracks.first { $0.track == "T\(best)" })
        #expect(track.objectClass.rawValue == object.class, "object \(object.id) class")
        #expect(track.direction.rawValue == object.direction, "object \(object.id) direction")
        #expect(track.colours.first?.colour.rawValue == object.colour, "object \(object.id) colour: \(track.colours)")
        let movingFrom = object.moving.first?.first ?? object.start
        #expect(abs(track.startOffset - movingFrom) <= 0.5, "object \(object.id) starts at \(track.startOffset), truth \(movingFrom)")
      }
      if object.id == 6 {
        // The car parked from the first frame is part of the first background; when it drives
        // off, the hole it leaves (a ghost) splits and delays its track.
        withKnownIssue("a parked car leaving: ghost of its parking place", isIntermittent: true) { try check() }
      } else {
        try check()
      }
    }
  }

  /// No track for the static background (the swaying tree, the texture, the light change).
  @Test func noTrackWithoutAnObject() throws {
    let run = try Self.run.get()
    let truth = try SamplesTruth.load()
    var matched = Set<Int>()
    for object in truth.objects {
      matched.formUnion(Coverage.of(object.boxes, by: run.boxes).significantTracks)
    }
    let unmatched = run.tracks.filter { !matched.contains(Int($0.track.dropFirst())!) }
    // The only tolerated extra is the short-lived ghost of the parked car's place (object 6).
    let ghosts = unmatched.filter { $0.endOffset - $0.startOffset < 3 && $0.startOffset > 21.5 && $0.startOffset < 23.5 }
    #expect(unmatched.count == ghosts.count, "tracks matching no object: \(unmatched.map(\.track))")
  }

  @Test func pathsAreSampledAtFourHertzOrMore() throws {
    let run = try Self.run.get()
    for track in run.tracks {
      let path = try run.store.path(ofTrack: track.track)
      #expect(path.count >= 2)
      for (a, b) in zip(path, path.dropFirst()) {
        #expect(b.time - a.time <= 0.25 + 1e-9, "\(track.track) gap \(b.time - a.time) s")
        #expect(b.frameIndex > a.frameIndex)
      }
    }
  }

  @Test func thumbnailsAreColourPNGs() throws {
    let run = try Self.run.get()
    for track in run.tracks {
      let thumbnail = try #require(try run.store.thumbnail(ofTrack: track.track), "\(track.track) has a thumbnail")
      #expect(thumbnail.format == "png")
      #expect(thumbnail.data.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }
  }

  @Test func sameFileTwiceIsRecognised() throws {
    let run = try Self.run.get()
    let again = try Ingestor(store: run.store).ingest(path: TestPaths.samplesClip, camera: "street", start: nil)
    #expect(again.alreadyIngested)
    #expect(again.exhibit == run.report.exhibit)
    #expect(try run.store.exhibits().count == 1)
  }
}

/// SHA-256 of a file as `sha256sum` computes it.
func Run_sha256(_ path: String) throws -> String {
  let result = try TestSupport.Run.program("sha256sum", [path])
  return String(result.standardOutput.prefix(64))
}

struct IngestBadInputTests {
  @Test func fatalInputsStoreNothing() throws {
    let files = try BadFiles()
    defer { files.remove() }
    let store = try IndexStore.inMemory()
    for (path, cause) in files.fatal {
      do {
        _ = try Ingestor(store: store).ingest(path: path, camera: "street", start: nil)
        Issue.record("\(path) must be refused")
      } catch {
        #expect(String(describing: error).contains(cause), "\(error)")
      }
    }
    #expect(try store.exhibits(includingIncomplete: true).isEmpty)
  }

  @Test func badCameraNameIsRefusedBeforeAnyWork() throws {
    let store = try IndexStore.inMemory()
    #expect(throws: (any Error).self) {
      _ = try Ingestor(store: store).ingest(path: TestPaths.samplesClip, camera: "../etc/passwd", start: nil)
    }
    #expect(try store.exhibits(includingIncomplete: true).isEmpty)
  }
}
