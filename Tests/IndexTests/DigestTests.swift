import Foundation
import GRDB
import Testing

@testable import Index

/// The exhibit digest the consultation log vouches for: it follows every stored value, and nothing
/// but the stored values (issue 20).
struct DigestTests {
  static func staged() throws -> (IndexStore, String, ExhibitDigest) {
    let store = try IndexStore.inMemory()
    let tracks = [makeTrack(), makeTrack(.person, from: 2, to: 8), makeTrack(.busTruck, from: 3, to: 9)]
    let staged = try store.stageExhibit(metadata(), tracks: tracks, completion: completion, operation: String(repeating: "0", count: 32))
    return (store, staged.exhibit, staged.digest)
  }

  @Test func aStagedExhibitIsInvisibleUntilPublishedWithItsDigest() throws {
    let (store, exhibit, digest) = try Self.staged()
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

  @Test func theDigestIsStableAndFollowsEveryStoredValue() throws {
    let (store, exhibit, digest) = try Self.staged()
    #expect(try store.digest(ofExhibit: exhibit) == digest, "recomputed the same")
    #expect(digest.trackIDs.count == 3 && digest.trackDigests.count == 3)
    #expect(ExhibitDigest.hints(digest.trackHints) == digest.trackDigests.map { String($0.prefix(16)) })
    let edits = [
      "UPDATE track SET detail = CAST(substr(detail, 1, 30) || x'7f' || substr(detail, 32) AS BLOB) WHERE id = 2",
      "UPDATE track SET camera_id = camera_id WHERE 0",  // no change: same digest (checked below)
      "UPDATE search_block SET data = CAST(substr(data, 1, 10) || x'ff' || substr(data, 12) AS BLOB)",
      "UPDATE exhibit SET frames_decoded = frames_decoded + 1",
      "DELETE FROM track WHERE id = 3",
    ]
    for sql in edits {
      let (copy, id, original) = try Self.staged()
      try copy.writer.write { try $0.execute(sql: sql) }
      let now = try copy.digest(ofExhibit: id)
      if sql.hasSuffix("WHERE 0") { #expect(now == original) } else { #expect(now.digest != original.digest, "\(sql)") }
    }
    _ = store
  }
}

