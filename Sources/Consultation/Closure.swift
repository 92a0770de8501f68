import Foundation
import GRDB
import Index

/// The closure report's JSON manifest (L5): what was authorised, who acted, on which exhibits,
/// every consultation, every export, and how the data were erased (L6).
public struct ClosureManifest: Codable, Sendable {
  public struct Authorisation: Codable, Sendable {
    public var tokenID: String
    public var issuer: String
    public var kind: String
    public var notBefore: String
    public var expires: String
    public var issuedAt: String
    public var investigators: [String]
    public var registeredAt: String?
    public var registeredBy: String?
    public var revokedAt: String?
    public var revokedBy: String?
  }

  public struct Exhibit: Codable, Sendable {
    public var id: String
    public var file: String
    public var camera: String
    public var sha256: String
    public var sizeBytes: Int64
    public var durationSeconds: Double
    public var frames: Int
    public var start: String
    public var tracks: Int
  }

  public struct Consultation: Codable, Sendable {
    public var seq: Int64
    public var time: String
    public var user: String
    public var role: String
    public var operation: String
    public var parameters: [String: String]
    public var resultCount: Int?
    public var outcome: String
    public var filesSha256: [String]
  }

  public struct Export: Codable, Sendable {
    public var seq: Int64
    public var time: String
    public var user: String
    public var operation: String
    public var file: String?
    public var sha256: String
  }

  public struct DataArchive: Codable, Sendable {
    public var file: String
    public var sha256: String
    public var bytes: Int
    public var tracks: Int
  }

  public struct Erasure: Codable, Sendable {
    public var time: String
    public var method: String
    public var procedureKey: String
    public var vaultFiles: [String]
    public var vaultBytes: Int64
  }

  public var format = "lrj-closure-report/1"
  public var installation: String
  public var procedure: String
  public var kind: String
  public var openedAt: String
  public var openedBy: String
  public var closedAt: String
  public var closedBy: String
  public var authorisations: [Authorisation]
  public var investigators: [String]
  public var exhibits: [Exhibit]
  public var consultations: [Consultation]
  public var exports: [Export]
  public var capabilityManifestSha256: String
  public var capabilityStatement: String
  public var dataArchive: DataArchive?
  public var erasure: Erasure
}

/// What `close` wrote.
public struct ClosureResult: Sendable {
  /// Every file written into the report folder, with its SHA-256.
  public var files: [(path: String, sha256: String)]
  public var manifest: ClosureManifest
}

extension ProcedureAccess {
  /// Closes the procedure (its issuing magistrate or the controller): writes the closure report
  /// into `folder` (JSON manifest, Markdown, HTML; with `withData`, a tar archive of the tracks and
  /// thumbnails), crypto-erases the procedure key, erases and deletes the vault, and logs it all.
  /// Afterwards every operation on the procedure is refused; its log stays.
  public func close(reportFolder folder: URL, withData: Bool) throws -> ClosureResult {
    let now = clock()
    do {
      return try closeUnsealedOnFailure(reportFolder: folder, withData: withData, now: now)
    } catch {
      try? installation.sealCheckpoint(by: identity, now: now)  // the refusal or failure is sealed at once
      throw error
    }
  }

  private func closeUnsealedOnFailure(reportFolder folder: URL, withData: Bool, now: Date) throws -> ClosureResult {
    let parameters = ["report": folder.path, "with-data": String(withData)]
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue,
      FileManager.default.isWritableFile(atPath: folder.path)
    else {
      let error = ProcedureError("--report \(folder.path) is not a writable folder")
      try log(.close, parameters: parameters.merging(["reason": error.description]) { $1 }, outcome: .refused, now: now)
      throw error
    }
    let base = "closure-\(procedure)"
    let names = ["\(base).json", "\(base).md", "\(base).html"] + (withData ? ["\(base)-data.tar"] : [])
    if let existing = names.first(where: { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }) {
      let error = ProcedureError("\(folder.appendingPathComponent(existing).path) exists; closure never overwrites a report")
      try log(.close, parameters: parameters.merging(["reason": error.description]) { $1 }, outcome: .refused, now: now)
      throw error
    }
    let workspace = try authorise(.close, parameters: parameters, now: now)

    // 1. Everything the report needs, and the data archive, while the key still exists.
    var manifest = try gather(workspace, now: now)
    var staged: [PendingFile] = []
    do {
      if withData {
        let archive = try workspace.dataArchive()
        let pending = try ExportFile.stage(archive.bytes, for: folder.appendingPathComponent("\(base)-data.tar").path)
        staged.append(pending)
        manifest.dataArchive = .init(file: pending.final.lastPathComponent, sha256: SHA256Hex.of(archive.bytes),
                                     bytes: archive.bytes.count, tracks: archive.tracks)
      }
    } catch {
      for file in staged { try? FileManager.default.removeItem(at: file.temporary) }
      try log(.close, parameters: parameters.merging(["error": String(describing: error)]) { $1 }, outcome: .failed, now: now)
      throw error
    }

    // 2. Crypto-erase: the wrapped key goes, the procedure is closed, in one transaction with its log entry.
    try installation.registry.write { db in
      try db.execute(
        sql: "UPDATE procedure SET wrapped_key = NULL, status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?",
        arguments: [now.timeIntervalSince1970, identity.user, procedure])
      try installation.log.append(
        LogEntry(time: now, user: identity.user, role: identity.role.rawValue, procedure: procedure,
                 operation: ProcedureOperation.close.rawValue, parameters: parameters.merging(["step": "key destroyed"]) { $1 },
                 outcome: .success), in: db)
    }
    try installation.registry.writeWithoutTransaction { db in _ = try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }

    // 3. The vault: rows erased, WAL truncated, vacuumed, files unlinked.
    let erasure = try workspace.erase(now: now)
    manifest.erasure = erasure

    // 4. The report, then its log entry (with every file's SHA-256) and a signed checkpoint.
    var files: [(String, String)] = []
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      let json = try encoder.encode(manifest)
      staged.append(try ExportFile.stage(json, for: folder.appendingPathComponent("\(base).json").path))
      staged.append(try ExportFile.stage(Data(ClosureReportText.markdown(manifest).utf8), for: folder.appendingPathComponent("\(base).md").path))
      staged.append(try ExportFile.stage(Data(ClosureReportText.html(manifest).utf8), for: folder.appendingPathComponent("\(base).html").path))
      for file in staged { files.append((file.final.path, try SHA256Hex.ofFile(file.temporary.path))) }
      for file in staged { try ExportFile.publish(file) }
    } catch {
      for file in staged { try? FileManager.default.removeItem(at: file.temporary) }
      try log(.close, parameters: parameters.merging(["step": "report", "error": String(describing: error)]) { $1 },
              outcome: .failed, now: now)
      throw error
    }
    try log(.close, parameters: parameters.merging(["step": "vault erased and report written",
                                                    "vault-files": String(erasure.vaultFiles.count)]) { $1 },
            resultCount: manifest.consultations.count, outcome: .success, files: files.map(\.1), now: now)
    try installation.sealCheckpoint(by: identity, now: now)
    return ClosureResult(files: files, manifest: manifest)
  }

  private func gather(_ workspace: ProcedureWorkspace, now: Date) throws -> ClosureManifest {
    let format = AuthorisationClaims.format
    let (record, authorisations) = try installation.registry.read { db in
      (try ProcedureRegistry.procedure(procedure, in: db)!, try ProcedureRegistry.authorisations(procedure: procedure, in: db).map(\.record))
    }
    let exhibits = try workspace.store.exhibits().map { exhibit in
      ClosureManifest.Exhibit(
        id: exhibit.id, file: exhibit.metadata.fileName, camera: exhibit.metadata.camera, sha256: exhibit.metadata.sha256,
        sizeBytes: exhibit.metadata.sizeBytes, durationSeconds: exhibit.completion?.duration ?? 0,
        frames: exhibit.completion?.framesDecoded ?? 0, start: exhibit.metadata.start.iso8601(),
        tracks: try workspace.store.trackCounts(ofExhibit: exhibit.id).values.reduce(0, +))
    }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let entries = try installation.log.entries(LogFilter(procedure: procedure)).compactMap { stored in
      stored.entry.map { (stored.seq, $0) }
    }
    let consultations = entries.map { seq, entry in
      ClosureManifest.Consultation(
        seq: seq, time: formatter.string(from: entry.time), user: entry.user, role: entry.role, operation: entry.operation,
        parameters: entry.parameters, resultCount: entry.resultCount, outcome: entry.outcome.rawValue,
        filesSha256: entry.filesWritten)
    }
    let exports = entries.flatMap { seq, entry in
      entry.filesWritten.map {
        ClosureManifest.Export(seq: seq, time: formatter.string(from: entry.time), user: entry.user,
                               operation: entry.operation, file: entry.parameters["out"], sha256: $0)
      }
    }
    let manifest = CapabilityManifest.current
    return ClosureManifest(
      installation: installation.id, procedure: procedure, kind: record.kind.rawValue, openedAt: format(record.openedAt),
      openedBy: record.openedBy, closedAt: format(now), closedBy: identity.user,
      authorisations: authorisations.map {
        .init(tokenID: $0.tokenID, issuer: $0.issuer, kind: $0.kind.rawValue, notBefore: format($0.notBefore),
              expires: format($0.expires), issuedAt: format($0.issuedAt), investigators: $0.investigators,
              registeredAt: $0.registeredAt.map(format), registeredBy: $0.registeredBy,
              revokedAt: $0.revokedAt.map(format), revokedBy: $0.revokedBy)
      },
      investigators: Array(Set(authorisations.flatMap(\.investigators))).sorted(),
      exhibits: exhibits, consultations: consultations, exports: exports,
      capabilityManifestSha256: manifest.sha256, capabilityStatement: manifest.exclusionStatement, dataArchive: nil,
      erasure: .init(time: format(now), method: "", procedureKey: "", vaultFiles: [], vaultBytes: 0))
  }
}

extension ProcedureWorkspace {
  /// Every track (summary and path) as JSON and every thumbnail as PNG, in a tar archive.
  func dataArchive() throws -> (bytes: Data, tracks: Int) {
    var archive = TarWriter()
    var tracks: [[String: AnyEncodable]] = []
    var page = TrackQuery(limit: TrackQuery.maximumLimit)
    var total = 0
    repeat {
      let result = try store.search(page)
      total = result.total
      for summary in result.results {
        let path = try store.path(ofTrack: summary.track)
        tracks.append(["track": AnyEncodable(summary), "path": AnyEncodable(path)])
        if let png = try? thumbnail(track: summary.track) {
          try archive.add(name: "thumbnails/\(summary.track).png", data: png)
        }
      }
      page.offset += page.limit
    } while page.offset < total
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try archive.add(name: "tracks.json", data: try encoder.encode(tracks))
    try archive.add(name: "exhibits.json", data: try encoder.encode(try store.exhibits()))
    return (archive.finish(), tracks.count)
  }

  /// Erases the vault: the index's rows (secure_delete, WAL truncated, VACUUM), then every file and the folder.
  func erase(now: Date) throws -> ClosureManifest.Erasure {
    try store.eraseAndClose()
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
    var bytes: Int64 = 0
    for name in files {
      let url = folder.appendingPathComponent(name)
      bytes += (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
      try Self.overwriteAndUnlink(url)
    }
    try FileManager.default.removeItem(at: folder)
    return .init(
      time: AuthorisationClaims.format(now),
      method: "index rows deleted with secure_delete, write-ahead log truncated, VACUUM, files overwritten with zeros and unlinked",
      procedureKey: "destroyed (wrapped key wiped from the registry): sealed thumbnails can no longer be opened",
      vaultFiles: files, vaultBytes: bytes)
  }

  /// Overwrites a regular file with zeros, then unlinks it.
  static func overwriteAndUnlink(_ url: URL) throws {
    if let handle = try? FileHandle(forWritingTo: url) {
      let size = (try? handle.seekToEnd()) ?? 0
      try? handle.seek(toOffset: 0)
      var left = size
      let zeros = Data(count: 1 << 20)
      while left > 0 {
        let n = Int(min(UInt64(zeros.count), left))
        try? handle.write(contentsOf: zeros.prefix(n))
        left -= UInt64(n)
      }
      try? handle.synchronize()
      try? handle.close()
    }
    try FileManager.default.removeItem(at: url)
  }
}

/// Encodes any `Encodable` (to put differently typed values in one JSON object).
struct AnyEncodable: Encodable {
  let encodeValue: (any Encoder) throws -> Void
  init<T: Encodable>(_ value: T) { encodeValue = value.encode }
  func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

/// A minimal POSIX ustar writer: regular files only, names up to 100 bytes.
struct TarWriter {
  private(set) var data = Data()

  mutating func add(name: String, data content: Data, modified: Date = Date(timeIntervalSince1970: 0)) throws {
    let nameBytes = Array(name.utf8)
    guard !nameBytes.isEmpty, nameBytes.count <= 100 else { throw ProcedureError("archive name too long: \(name)") }
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { header[offset + i] = b } }
    func digits(_ value: Int, _ count: Int) -> [UInt8] {
      let text = String(value, radix: 8)
      return Array((String(repeating: "0", count: max(0, count - text.count)) + text).utf8)
    }
    func octal(_ value: Int, width: Int) -> [UInt8] { digits(value, width - 1) + [0] }
    put(nameBytes, at: 0)
    put(octal(0o644, width: 8), at: 100)
    put(octal(0, width: 8), at: 108)
    put(octal(0, width: 8), at: 116)
    put(octal(content.count, width: 12), at: 124)
    put(octal(Int(modified.timeIntervalSince1970), width: 12), at: 136)
    put(Array("        ".utf8), at: 148)
    header[156] = UInt8(ascii: "0")
    put(Array("ustar".utf8) + [0], at: 257)
    put(Array("00".utf8), at: 263)
    let checksum = header.reduce(0) { $0 + Int($1) }
    put(digits(checksum, 6) + [0, 0x20], at: 148)
    data.append(contentsOf: header)
    data.append(content)
    let padding = (512 - content.count % 512) % 512
    data.append(Data(count: padding))
  }

  /// The archive with its two zero end blocks.
  mutating func finish() -> Data {
    data.append(Data(count: 1024))
    return data
  }
}
