import Foundation
import Synopsis

#if canImport(Glibc)
  import Glibc
#endif

/// Where the console renders what it shows and does not export (an extract, a synopsis): a private
/// folder (0700) on the memory file system `/dev/shm`, never on a disk, read back into memory at once
/// and removed. A process killed meanwhile leaves only files that its operation recorded as staged (the
/// next command removes them) or a folder that ``removeStale()`` removes when the console starts.
public enum MemoryRenders {
  /// The memory file system.
  static let root = URL(fileURLWithPath: "/dev/shm")
  static let prefix = "lrj-render-"

  /// A new private folder in memory.
  /// - Throws: `ProcedureError` when there is no memory file system.
  static func folder() throws -> URL {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw ProcedureError("no memory file system at \(root.path): the console renders in memory only")
    }
    let folder = root.appendingPathComponent("\(prefix)\(getpid())-\(UUID().uuidString.prefix(8))")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    } catch {
      throw ProcedureError("cannot create \(folder.path): \(error.localizedDescription)")
    }
    return folder
  }

  /// Removes the render folders of processes that no longer run.
  public static func removeStale() {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] where name.hasPrefix(prefix) {
      let pid = name.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) } ?? 0
      guard pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
      try? FileManager.default.removeItem(at: root.appendingPathComponent(name))
    }
  }

  /// Runs `body` with a fresh memory folder, removed afterwards whatever happens.
  static func with<T>(_ body: (URL) throws -> T) throws -> T {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
  }
}

/// A synopsis rendered in memory: the MP4, its index and the overview, with their SHA-256 (logged).
public struct SynopsisRender: Sendable {
  public var report: SynopsisReport
  public var video: Data
  public var index: Data
  public var overview: Data
}

extension ProcedureAccess {
  /// The original footage around a track, as MP4 bytes, rendered in memory (logged with its SHA-256
  /// before the bytes are returned).
  public func extractData(track: String, margin: Double) throws -> (report: ExtractReport, bytes: Data) {
    try MemoryRenders.with { folder in
      let file = folder.appendingPathComponent("\(track).mp4")
      let report = try extract(track: track, margin: margin, to: file.path)
      return (report, try Data(contentsOf: file))
    }
  }

  /// The synopsis of the tracks matching `filters`, rendered in memory (logged with the SHA-256 of its
  /// three files before they are returned).
  public func synopsisData(_ filters: SearchFilters, options: SynopsisOptions = SynopsisOptions()) throws -> SynopsisRender {
    try MemoryRenders.with { folder in
      let video = folder.appendingPathComponent("synopsis-\(procedure).mp4")
      let png = folder.appendingPathComponent("synopsis-\(procedure).png")
      let report = try synopsis(filters, options: options, output: video.path, overview: png.path)
      return SynopsisRender(
        report: report, video: try Data(contentsOf: video), index: try Data(contentsOf: URL(fileURLWithPath: report.index.path)),
        overview: try Data(contentsOf: png))
    }
  }
}

extension Installation {
  /// Logs a refusal that happened before any operation could be identified (a console request with a
  /// missing or wrong CSRF token, for example), and seals it.
  public func logRefusal(_ operation: String, procedure: String? = nil, parameters: [String: String], by identity: Identity,
                         now: Date = Date()) throws {
    try log.append(
      LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure, operation: operation,
               parameters: parameters, outcome: .refused))
    try sealCheckpoint(by: identity, now: now)
  }
}
