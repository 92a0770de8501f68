import Foundation
import Index
import Ingest
import TestSupport
import Testing

/// Real footage with public MOTChallenge ground truth (skipped when ../shared is absent).
struct RealFootageTests {
  static var townCentre: URL? { TestPaths.footage?.appendingPathComponent("oxford-towncentre") }

  /// Search recall on Oxford TownCentre: the share of ground-truth persons one track overlaps
  /// (IoU ≥ 0.3) on at least half of their frames. Target 0.6 (a plain MOG2 pipeline: 0.32).
  @Test(.enabled(if: townCentre != nil, "../shared/footage is absent"))
  func townCentreSearchRecall() throws {
    let folder = try #require(Self.townCentre)
    let store = try IndexStore.inMemory()
    let report = try Ingestor(store: store).ingest(
      path: folder.appendingPathComponent("TownCentreXVID.mp4").path, camera: "towncentre",
      start: try WallClockTime(iso8601: "2026-03-01T10:00:00+00:00"))
    let ours = try store.boxes(ofExhibit: report.exhibit).map {
      TrackBox(frame: $0.frameIndex, track: Int($0.track.dropFirst())!, x: $0.box.x, y: $0.box.y, width: $0.box.width,
               height: $0.box.height)
    }
    let text = try String(
      contentsOf: folder.appendingPathComponent("gt_mot_body_frames0-125_matching_TownCentreXVID.mp4.txt"), encoding: .utf8)
    var truth: [Int: [[Int]]] = [:]
    for box in TrackBox.parseMOT(text) {
      truth[box.track, default: []].append([box.frame, Int(box.x), Int(box.y), Int(box.width), Int(box.height)])
    }
    let found = truth.values.filter { Coverage.of($0, by: ours).bestShare >= 0.5 }.count
    let recall = Double(found) / Double(truth.count)
    #expect(recall >= 0.6, "search recall \(found)/\(truth.count) = \(recall)")
  }
}
