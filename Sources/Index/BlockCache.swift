import Foundation
import Store

/// Opened search blocks kept between the searches of one long-lived process (the console, a benchmark),
/// so that a search fetches and opens only the blocks it has not seen: on PostgreSQL, moving every sealed
/// block from the server for each search would cost far more than scanning them (DESIGN.md §11).
///
/// Each entry is checked against the first bytes of the block as stored now. A block sealed to a
/// procedure's key starts with the wrapped data key and the nonce drawn at random for it, so a block
/// rewritten since (a track erased, an exhibit ingested again) never matches an old entry. Stores whose
/// sealing does not mark each sealing so keep no cache.
final class BlockCache: @unchecked Sendable {  // `entries`, `bytes` and `clock` are only touched under `lock`
  struct Key: Hashable {
    /// The store (its database's name).
    var store: String
    var exhibit: Int64
    var block: Int64
    /// 0: the records; 1: the paths.
    var part: UInt8
  }

  /// Bytes of a stored block compared with the cached one's (see ``IndexSealing/marksEachSealing``).
  static let tagLength = 96

  private let lock = NSLock()
  private var entries: [Key: (tag: Data, value: Data, used: UInt64)] = [:]
  private var bytes = 0
  private var clock: UInt64 = 0
  /// Opened bytes kept at most; the least recently used go first.
  let capacity: Int

  init(capacity: Int) {
    self.capacity = capacity
  }

  /// The process's cache, shared by every store it opens; none unless turned on.
  private static let current = LockedCache()

  final class LockedCache: @unchecked Sendable {  // `cache` is only touched under `lock`
    private let lock = NSLock()
    private var cache: BlockCache?
    var value: BlockCache? {
      get { lock.withLock { cache } }
      set { lock.withLock { cache = newValue } }
    }
  }

  static var process: BlockCache? {
    get { current.value }
    set { current.value = newValue }
  }

  /// The opened block, when the cached one was opened from a stored block starting with `tag`.
  func value(_ key: Key, tag: Data) -> Data? {
    lock.withLock {
      guard let entry = entries[key], entry.tag == tag else { return nil }
      clock += 1
      entries[key]!.used = clock
      return entry.value
    }
  }

  func keep(_ value: Data, for key: Key, tag: Data) {
    guard capacity > 0, value.count <= capacity / 4 else { return }
    lock.withLock {
      clock += 1
      if let old = entries[key] { bytes -= old.value.count }
      entries[key] = (tag, value, clock)
      bytes += value.count
      while bytes > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used }) {
        bytes -= oldest.value.value.count
        entries[oldest.key] = nil
      }
    }
  }
}

extension IndexStore {
  /// Keeps opened search blocks in memory between searches, up to `bytes`, for every store this process
  /// opens (the console turns it on; a one-off command does not need it). Nothing is kept for stores that
  /// do not seal.
  public static func keepOpenedBlocks(upTo bytes: Int) {
    BlockCache.process = bytes > 0 ? BlockCache(capacity: bytes) : nil
  }

  /// The cache for this store, if the process keeps one and the store's sealing marks each sealing.
  var blockCache: BlockCache? { sealing.marksEachSealing ? BlockCache.process : nil }

  /// A block to scan: its ids and the first bytes of its records and paths as stored.
  struct BlockReference {
    var exhibit: Int64
    var block: Int64
    var dataTag: Data
    var pathsTag: Data
  }

  /// The blocks of the given exhibits that may hold tracks in the query's time range (their first bytes only).
  func blockReferences(_ tx: any StoreTransaction, query: TrackQuery, exhibits: [Int64]) throws -> [BlockReference] {
    let n = BlockCache.tagLength
    var sql = """
      SELECT exhibit_id, block, substr(data, 1, \(n)), substr(paths, 1, \(n)) FROM search_block
      WHERE exhibit_id IN (\(exhibits.map(String.init).joined(separator: ",")))
      """
    var arguments: [StoreValue] = []
    if let to = query.to {
      sql += " AND min_start_utc < ?"
      arguments.append(.real(to.timeIntervalSince1970))
    }
    if let from = query.from {
      sql += " AND max_end_utc > ?"
      arguments.append(.real(from.timeIntervalSince1970))
    }
    return try tx.rows(sql + " ORDER BY exhibit_id, block", arguments).map { row in
      BlockReference(exhibit: try row.get(0), block: try row.get(1), dataTag: try row.get(2), pathsTag: try row.get(3))
    }
  }

  /// Calls `body` with each block's opened records (or paths, `part` 1), taken from the cache when it holds
  /// the block as stored, else fetched (an exhibit's missing blocks in one statement), opened and cached.
  func forEachOpened(
    _ tx: any StoreTransaction, _ blocks: [BlockReference], part: UInt8, _ body: (BlockReference, Data) throws -> Void
  ) throws {
    let column = part == 0 ? "data" : "paths"
    let cache = blockCache
    var index = 0
    while index < blocks.count {
      var end = index
      while end < blocks.count, blocks[end].exhibit == blocks[index].exhibit { end += 1 }
      let group = blocks[index..<end]
      var opened: [Int64: Data] = [:]
      var missing: [Int64] = []
      for reference in group {
        let tag = part == 0 ? reference.dataTag : reference.pathsTag
        if let cache, let value = cache.value(.init(store: engine.name, exhibit: reference.exhibit, block: reference.block, part: part), tag: tag) {
          opened[reference.block] = value
        } else {
          missing.append(reference.block)
        }
      }
      if !missing.isEmpty {
        let exhibit = blocks[index].exhibit
        let sql = "SELECT block, \(column) FROM search_block WHERE exhibit_id = ? AND block IN (\(missing.map(String.init).joined(separator: ",")))"
        try tx.forEachRow(sql, [.integer(exhibit)]) { row in
          let block: Int64 = try row.get(0)
          let sealed: Data = try row.get(1)
          let context = part == 0 ? SealContext.blockData(exhibit: exhibit, block: block) : SealContext.blockPaths(exhibit: exhibit, block: block)
          let value = try sealing.opened(sealed, context: context)
          cache?.keep(value, for: .init(store: engine.name, exhibit: exhibit, block: block, part: part), tag: Data(sealed.prefix(BlockCache.tagLength)))
          opened[block] = value
        }
      }
      for reference in group {
        guard let value = opened[reference.block] else { throw IndexError.storage("search block \(reference.exhibit)/\(reference.block) vanished") }
        try body(reference, value)
      }
      index = end
    }
  }
}
