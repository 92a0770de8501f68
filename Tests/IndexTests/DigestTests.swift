import Foundation
import Store
import Testing

@testable import Index

/// The exhibit digest the consultation log vouches for: it follows every stored value, and nothing
/// but the stored values (issue 20).
struct DigestTests {
  static func staged(_ engine: TestEngine) throws -> (IndexStore, String, ExhibitDigest)? {
    guard let store = try engine.store() else { return nil }
    let tracks = [makeTrack(), makeTrack(.person, from: 2, to: 8), makeTrack(.busTruck, from: 3, to: 9)]
    let staged = try store.stageExhibit(metadata(), tracks: tracks, completion: completion, operation: String(repeating: "0", count: 32))
    return (store, staged.exhibit, staged.digest)
  }

  @Test(arguments: TestEngine.allCases) func aStagedExhibitIsInvisibleUntilPublishedWithItsDigest(_ engine: TestEngine) throws {
    guard let (store, exhibit, digest) = try Self.staged(engine) else { return }
    #expect(try store.search(TrackQuery()).total == 0, "staged: not searched")
    #expect(try store.stagedExhibits().map(\.exhibit) == [exhibit])
    #expect(throws: IndexError.self) { try store.publishExhibit(exhibit, digest: String(repeating: "0", count: 64)) }
    try store.publishExhibit(exhibit, digest: digest.digest)
    #expect(try store.search(TrackQuery()).total == 3)
    #expect(try store.stagedExhibits().isEmpty)
    // The same file cannot be staged again, and a removed staged exhibit's id is never reused.
    #expect(throws: IndexError.self) {
      try store.stageExhibit(metadata(), tracks: [makeTrack()], completion: completion, operation: String(repeating: "1", count: 32))
    }
    let other = try store.stageExhibit(metadata(sha: "b"), tracks: [makeTrack()], completion: completion, operation: String(repeating: "2", count: 32))
    try store.removeStagedExhibit(other.exhibit)
    let next = try store.stageExhibit(metadata(sha: "c"), tracks: [makeTrack()], completion: completion, operation: String(repeating: "3", count: 32))
    #expect(next.exhibit != other.exhibit)
  }

  @Test(arguments: TestEngine.allCases) func theDigestIsStableAndFollowsEveryStoredValue(_ engine: TestEngine) throws {
    guard let (store, exhibit, digest) = try Self.staged(engine) else { return }
    #expect(try store.digest(ofExhibit: exhibit) == digest, "recomputed the same")
    #expect(digest.trackIDs.count == 3 && digest.trackDigests.count == 3)
    #expect(ExhibitDigest.hints(digest.trackHints) == digest.trackDigests.map { String($0.prefix(16)) })
    let edits =
      engine == .sqlite
      ? [
        "UPDATE track SET detail = CAST(substr(detail, 1, 30) || x'7f' || substr(detail, 32) AS BLOB) WHERE id = 2",
        "UPDATE track SET camera_id = camera_id WHERE 1 = 0",  // no change: same digest (checked below)
        "UPDATE search_block SET data = CAST(substr(data, 1, 10) || x'ff' || substr(data, 12) AS BLOB)",
      ]
      : [
        "UPDATE track SET detail = overlay(detail PLACING '\\x7f'::bytea FROM 31 FOR 1) WHERE id = 2",
        "UPDATE track SET camera_id = camera_id WHERE 1 = 0",
        "UPDATE search_block SET data = overlay(data PLACING '\\xff'::bytea FROM 11 FOR 1)",
      ]
    for sql in edits + ["UPDATE exhibit SET frames_decoded = frames_decoded + 1", "DELETE FROM track WHERE id = 3"] {
      let (copy, id, original) = try #require(try Self.staged(engine))
      try copy.write { try $0.execute(sql) }
      let now = try copy.digest(ofExhibit: id)
      if sql.hasSuffix("WHERE 1 = 0") { #expect(now == original) } else { #expect(now.digest != original.digest, "\(sql)") }
    }
    _ = store
  }
}


/// The digest the log holds does not depend on the engine: the same exhibit stored on SQLite and on
/// PostgreSQL has the same digest (an installation can move between engines and keep its log).
@Suite struct DigestAcrossEnginesTests {
  @Test func theSameExhibitHasTheSameDigestOnBothEngines() throws {
    guard let sqlite = try DigestTests.staged(.sqlite), let postgres = try DigestTests.staged(.postgres) else { return }
    #expect(sqlite.2 == postgres.2)
  }
}
