import Foundation

/// How the store keeps what is derived from footage at rest (DESIGN.md §4 "sealed at rest"): every track's
/// attributes and path, every search block and every zone are sealed before they are written and opened
/// in memory when read. Only routing data stays clear: exhibit, camera, track and block ids, the
/// exhibit's file facts and SHA-256, each block's time span.
///
/// `context` names the object (for example `track T12`): bytes sealed for one object do not open as another.
public protocol IndexSealing: Sendable {
  /// Seals bytes for the object `context` names.
  func seal(_ data: Data, context: String) throws -> Data
  /// Opens bytes sealed for `context`. - Throws: when they were altered, moved or sealed to another key,
  /// or when this process holds no key that opens them.
  func open(_ data: Data, context: String) throws -> Data
  /// Whether the first 96 bytes of sealed data hold bytes drawn at random for that sealing (a key, a
  /// nonce), so that they tell any two sealings apart (the search block cache relies on it). False
  /// unless said.
  var marksEachSealing: Bool { get }
}

extension IndexSealing {
  public var marksEachSealing: Bool { false }
}

/// Keeps derived data as it is, unsealed: for tests and benchmarks of the store alone, never for a
/// procedure's vault (Consultation always gives the procedure's own sealing).
public struct NoSealing: IndexSealing {
  public init() {}
  public func seal(_ data: Data, context: String) throws -> Data { data }
  public func open(_ data: Data, context: String) throws -> Data { data }
}
