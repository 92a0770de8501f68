import Crypto
import Foundation
import Store

/// What an exhibit's ingest stored, reduced to hashes, so that the consultation log can vouch for the
/// index: the ingest logs it, and `lrj log verify` recomputes it and names a track or an exhibit edited,
/// added or deleted behind lrj's back.
///
/// The definition is engine-neutral: a SHA-256 over the stored values in a canonical order and encoding
/// (see ``DigestEncoder``), not over a database file's pages, so any engine that stores the same values
/// gives the same digest.
///
/// - `trackDigests[i]` is the SHA-256 of track `trackIDs[i]`'s canonical record: its row (ids and sealed
///   detail, as stored) and its thumbnail (format and bytes as stored).
/// - `digest` is the SHA-256 of `"lrj exhibit digest 2"`, the exhibit's canonical record (file, SHA-256,
///   size, formats, geometry, camera name, start, offset, duration, frames, skipped packets), every track's
///   digest in id order, and every search block (sealed, as stored) in block order.
public struct ExhibitDigest: Sendable, Hashable, Codable {
  /// `E12`.
  public var exhibit: String
  /// The exhibit's digest, 64 hexadecimal digits.
  public var digest: String
  /// The exhibit's tracks, in id order.
  public var trackIDs: [String]
  /// Each track's digest, 64 hexadecimal digits, in the order of `trackIDs`.
  public var trackDigests: [String]

  public init(exhibit: String, digest: String, trackIDs: [String], trackDigests: [String]) {
    self.exhibit = exhibit
    self.digest = digest
    self.trackIDs = trackIDs
    self.trackDigests = trackDigests
  }

  /// The first 8 bytes of each track digest, concatenated and in base64: a compact list that lets a
  /// verifier name which track changed (the full exhibit digest is what proves it).
  public var trackHints: String {
    var bytes = Data()
    for digest in trackDigests { bytes.append(contentsOf: Self.bytes(hex: String(digest.prefix(16)))) }
    return bytes.base64EncodedString()
  }

  /// Splits `trackHints` back into 16-hex-digit prefixes; nil when malformed.
  public static func hints(_ base64: String) -> [String]? {
    guard let data = Data(base64Encoded: base64), data.count % 8 == 0 else { return base64.isEmpty ? [] : nil }
    return stride(from: 0, to: data.count, by: 8).map { start in
      data[data.startIndex + start..<data.startIndex + start + 8].map { String(format: "%02x", $0) }.joined()
    }
  }

  static func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
      result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
      index = next
    }
    return result
  }
}

/// The canonical encoding the digests hash: each value is a type byte then its bytes, big-endian:
/// `0` null; `1` integer (8 bytes); `2` real (IEEE 754 binary64 bits, 8 bytes); `3` text (8-byte UTF-8
/// length, bytes); `4` blob (8-byte length, bytes); `5` a record's start (8-byte column count).
public struct DigestEncoder {
  private var hasher = SHA256()

  public init() {}

  mutating func record(_ values: [StoreValue]) {
    byte(5)
    integer(Int64(values.count))
    for value in values { self.value(value) }
  }

  mutating func text(_ text: String) { value(.text(text)) }

  mutating func raw(_ data: Data) { hasher.update(data: data) }

  private mutating func value(_ value: StoreValue) {
    switch value {
    case .null: byte(0)
    case .integer(let v): byte(1); integer(v)
    case .real(let v): byte(2); integer(Int64(bitPattern: v.bitPattern))
    case .text(let s): byte(3); integer(Int64(s.utf8.count)); hasher.update(data: Data(s.utf8))
    case .blob(let d): byte(4); integer(Int64(d.count)); hasher.update(data: d)
    }
  }

  private mutating func byte(_ b: UInt8) { hasher.update(data: Data([b])) }

  private mutating func integer(_ v: Int64) {
    withUnsafeBytes(of: v.bigEndian) { hasher.update(bufferPointer: $0) }
  }

  /// The digest so far, in hexadecimal.
  public func finish() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

  /// The digest so far, as bytes.
  func finishBytes() -> Data { Data(hasher.finalize()) }
}

extension IndexStore {
  /// The digest of an exhibit as stored now, complete or staged.
  /// - Throws: ``IndexError/exhibitNotFound(_:)``.
  public func digest(ofExhibit exhibit: String) throws -> ExhibitDigest {
    guard let row = Identifier.row(of: exhibit, prefix: "E") else { throw IndexError.invalidIdentifier(exhibit) }
    return try read { tx in try Self.digest(tx, exhibitRow: row) }
  }

  static func digest(_ tx: any StoreTransaction, exhibitRow: Int64) throws -> ExhibitDigest {
    let id = Identifier.exhibit(exhibitRow)
    guard
      let exhibit = try tx.row(
        """
          SELECT e.id, e.file_name, e.sha256, e.size_bytes, e.container, e.codec, e.width, e.height, e.fps, c.name,
            e.start_utc, e.utc_offset, e.duration, e.frames_decoded, e.skipped_packets
          FROM exhibit e JOIN camera c ON c.id = e.camera_id WHERE e.id = ?
          """, exhibitRow)
    else { throw IndexError.exhibitNotFound(id) }
    var whole = DigestEncoder()
    whole.text("lrj exhibit digest 2")
    whole.record(exhibit.values)

    // Each track's record: its row (ids and sealed detail) and its thumbnail, as stored.
    var trackIDs: [String] = []
    var trackDigests: [String] = []
    let tracks = """
      SELECT t.id, t.exhibit_id, t.camera_id, t.detail, h.format, h.bytes
      FROM track t LEFT JOIN thumbnail h ON h.track_id = t.id WHERE t.exhibit_id = ? ORDER BY t.id
      """
    try tx.forEachRow(tracks, [.integer(exhibitRow)]) { track in
      let trackRow: Int64 = try track.get(0)
      var encoder = DigestEncoder()
      encoder.text("track")
      encoder.record(Array(track.values[0..<4]))
      encoder.text("thumbnail")
      if track.values[4] != .null { encoder.record(Array(track.values[4..<6])) }
      let digest = encoder.finishBytes()
      whole.raw(digest)
      trackIDs.append(Identifier.track(trackRow))
      trackDigests.append(digest.map { String(format: "%02x", $0) }.joined())
    }
    whole.text("blocks")
    let blocks = """
      SELECT block, track_count, min_start_utc, max_start_utc, max_end_utc, data, paths
      FROM search_block WHERE exhibit_id = ? ORDER BY block
      """
    try tx.forEachRow(blocks, [.integer(exhibitRow)]) { block in whole.record(block.values) }
    return ExhibitDigest(exhibit: id, digest: whole.finish(), trackIDs: trackIDs, trackDigests: trackDigests)
  }
}
