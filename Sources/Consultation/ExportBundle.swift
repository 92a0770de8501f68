import Crypto
import Foundation
import Store
import Index
import Synopsis

/// A signed export bundle (issue 18): the original clips of chosen tracks (stream copy), their
/// thumbnails, optionally a synopsis, a `manifest.json` describing it all, an `index.html` that shows
/// it without a server, and `manifest.sig`, the investigator's Ed25519 signature over the manifest's
/// exact bytes with their public key and the installation id. ``verify(folder:)`` checks a bundle
/// offline, with no installation and no passphrase.
public enum ExportBundle {
  /// The manifest.
  public struct Manifest: Codable, Sendable {
    public struct Exhibit: Codable, Sendable {
      public var id: String
      public var file: String
      public var camera: String
      public var sha256: String
      public var start: String
    }

    public struct Track: Codable, Sendable {
      public var track: String
      public var exhibit: String
      public var camera: String
      public var objectClass: String
      public var colours: [ColourFraction]
      public var direction: String
      public var start: String
      public var end: String
      public var clip: String
      public var thumbnail: String

      enum CodingKeys: String, CodingKey {
        case track, exhibit, camera, colours, direction, start, end, clip, thumbnail
        case objectClass = "class"
      }
    }

    public struct File: Codable, Sendable, Equatable {
      public var path: String
      public var sha256: String
      public var bytes: Int64
    }

    /// The consultation log's entry of this export (its start) and the chain hash after it.
    public struct LogReference: Codable, Sendable {
      public var entry: Int64
      public var chain: String
    }

    public var format = "lrj-export/1"
    public var installation: String
    public var procedure: String
    public var investigator: String
    public var created: String
    public var exhibits: [Exhibit]
    public var tracks: [Track]
    public var synopsis: [String]?
    public var files: [File]
    public var log: LogReference
  }

  /// The detached signature, `manifest.sig`.
  public struct Signature: Codable, Sendable {
    public var algorithm = "Ed25519"
    public var user: String
    public var installation: String
    /// The signer's public key, base64 (raw 32 bytes).
    public var publicKey: String
    /// The signature over the exact bytes of `manifest.json`, base64.
    public var signature: String
  }

  static let manifestName = "manifest.json"
  static let signatureName = "manifest.sig"

  /// What ``verify(folder:)`` found.
  public struct Verification: Sendable {
    public var manifest: Manifest?
    public var signer: Signature?
    /// Every problem, one line each (empty when the bundle holds).
    public var problems: [String]
    public var filesChecked: Int
    public var isValid: Bool { problems.isEmpty }
  }

  /// A bundle that cannot be read at all.
  public struct BundleError: Error, CustomStringConvertible, Sendable {
    public let description: String
  }

  /// Checks a bundle offline: the signature over the manifest (with the public key it carries), every
  /// file's SHA-256, and names any file added, removed or changed.
  /// - Throws: `BundleError` when `folder` is not a bundle or its manifest or signature cannot be read.
  public static func verify(folder: URL) throws -> Verification {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw BundleError(description: "\(folder.path) is not a folder")
    }
    let manifestURL = folder.appendingPathComponent(manifestName)
    let signatureURL = folder.appendingPathComponent(signatureName)
    guard let manifestBytes = FileManager.default.contents(atPath: manifestURL.path) else {
      throw BundleError(description: "\(folder.path) is not an lrj export bundle (no \(manifestName))")
    }
    guard let manifest = try? JSONDecoder().decode(Manifest.self, from: manifestBytes), manifest.format == "lrj-export/1" else {
      throw BundleError(description: "\(manifestURL.path) is not a readable lrj export manifest (truncated or altered)")
    }
    guard let signatureBytes = FileManager.default.contents(atPath: signatureURL.path),
      let signature = try? JSONDecoder().decode(Signature.self, from: signatureBytes)
    else {
      throw BundleError(description: "\(signatureURL.path) is missing or not a readable signature")
    }
    var problems: [String] = []
    if let raw = Data(base64Encoded: signature.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
      let bytes = Data(base64Encoded: signature.signature), key.isValidSignature(bytes, for: manifestBytes)
    {
      if signature.installation != manifest.installation || signature.user != manifest.investigator {
        problems.append("\(signatureName): signed by \(signature.user) of installation \(signature.installation), "
                        + "but the manifest names \(manifest.investigator) of \(manifest.installation)")
      }
    } else {
      problems.append("\(signatureName): the signature does not verify over \(manifestName) (the manifest or the signature was changed)")
    }
    // Every listed file, then anything else in the folder.
    var listed = Set<String>()
    for file in manifest.files {
      listed.insert(file.path)
      let url = folder.appendingPathComponent(file.path)
      guard !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains(".."), FileManager.default.fileExists(atPath: url.path)
      else {
        problems.append("\(file.path): removed (listed in the manifest, missing from the bundle)")
        continue
      }
      if (try? SHA256Hex.ofFile(url.path)) != file.sha256 {
        problems.append("\(file.path): changed (its SHA-256 differs from the manifest's)")
      }
    }
    let present = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).filter { path in
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isDirectory)
      return !isDirectory.boolValue
    }
    for path in present.sorted() where !listed.contains(path) && path != manifestName && path != signatureName {
      problems.append("\(path): added (not in the manifest)")
    }
    return Verification(manifest: manifest, signer: signature, problems: problems, filesChecked: manifest.files.count)
  }

  /// The first 16 bytes of a public key's SHA-256, in hex: how a court compares the signer's key
  /// with the one the installation enrolled.
  public static func fingerprint(_ publicKey: String) -> String {
    String(SHA256Hex.of(Data(base64Encoded: publicKey) ?? Data()).prefix(32))
  }
}

/// What `exportBundle` wrote.
public struct ExportBundleReport: Sendable {
  public var folder: String
  public var tracks: [String]
  public var files: Int
  public var manifestSHA256: String
  public var fingerprint: String
}

extension ProcedureAccess {
  /// Writes a signed export bundle of `tracks` (investigators; logged like `extract`, with every
  /// file's SHA-256) into `output`, a folder that must not exist: the original clip around each track
  /// (`margin` seconds before and after, stream copy), its thumbnail, with `withSynopsis` a synopsis of
  /// them (one camera), the manifest, `index.html` and the signature. The folder appears only once
  /// everything is written and logged.
  public func exportBundle(tracks: [String], withSynopsis: Bool, margin: Double = 2, to output: String) throws -> ExportBundleReport {
    var parameters = ["tracks": tracks.joined(separator: ","), "out": ExportFile.absolute(output), "with-synopsis": String(withSynopsis)]
    parameters["margin"] = String(margin)
    return try perform(.export, parameters: parameters, writes: true) { workspace, context in
      guard !tracks.isEmpty else { throw ProcedureError("name at least one track to export") }
      let ids = try tracks.map { try QueryParser.trackID($0) }
      guard Set(ids).count == ids.count else { throw ProcedureError("a track is named twice") }
      var summaries: [TrackSummary] = []
      for id in ids {
        guard let summary = try workspace.store.track(id) else { throw ProcedureError("no track \(id) in procedure \(procedure)") }
        summaries.append(summary)
      }
      let staging = try context.staging(for: output)
      do {
        let report = try writeBundle(workspace, summaries, withSynopsis: withSynopsis, margin: margin, into: staging,
                                     started: context.running?.startedSeq ?? 0, now: context.now)
        return OperationOutcome(
          value: ExportBundleReport(folder: ExportFile.absolute(output), tracks: ids, files: report.files.count,
                                    manifestSHA256: report.manifestSHA256, fingerprint: report.fingerprint),
          resultCount: ids.count, files: [PendingFile(temporary: staging, final: URL(fileURLWithPath: output))],
          parameters: ["manifest-sha256": report.manifestSHA256],
          fileHashes: report.files.map { (ExportFile.absolute(output) + "/" + $0.path, $0.sha256) }
            + [(ExportFile.absolute(output) + "/" + ExportBundle.manifestName, report.manifestSHA256)])
      } catch {
        ExportFile.removeStaged(staging)
        throw error
      }
    }
  }

  private func writeBundle(
    _ workspace: ProcedureWorkspace, _ tracks: [TrackSummary], withSynopsis: Bool, margin: Double, into folder: URL,
    started: Int64, now: Date
  ) throws -> (files: [ExportBundle.Manifest.File], manifestSHA256: String, fingerprint: String) {
    let manager = FileManager.default
    for sub in ["", "clips", "thumbnails"] {
      try manager.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true,
                                  attributes: [.posixPermissions: 0o700])
    }
    var files: [ExportBundle.Manifest.File] = []
    func add(_ path: String) throws {
      let url = folder.appendingPathComponent(path)
      let bytes = (try manager.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
      files.append(.init(path: path, sha256: try SHA256Hex.ofFile(url.path), bytes: bytes))
    }
    var described: [ExportBundle.Manifest.Track] = []
    for track in tracks {
      let clip = "clips/\(track.track).mp4"
      _ = try workspace.extract(track: track.track, margin: margin, to: folder.appendingPathComponent(clip).path)
      try add(clip)
      let thumbnail = "thumbnails/\(track.track).png"
      try workspace.thumbnail(track: track.track).write(to: folder.appendingPathComponent(thumbnail))
      try add(thumbnail)
      described.append(.init(
        track: track.track, exhibit: track.exhibit, camera: track.camera, objectClass: track.objectClass.rawValue,
        colours: track.colours, direction: track.direction.rawValue, start: track.start.iso8601(), end: track.end.iso8601(),
        clip: clip, thumbnail: thumbnail))
    }
    var synopsis: [String]?
    if withSynopsis {
      _ = try workspace.synopsis(
        of: tracks, options: SynopsisOptions(), output: folder.appendingPathComponent("synopsis.mp4").path,
        overview: folder.appendingPathComponent("synopsis.png").path, videoName: "synopsis.mp4", progress: nil)
      synopsis = ["synopsis.mp4", "synopsis.json", "synopsis.png"]
      for path in synopsis! { try add(path) }
    }
    let exhibits = try Set(tracks.map(\.exhibit)).sorted { ($0.count, $0) < ($1.count, $1) }.compactMap { id in
      try workspace.store.exhibit(id).map {
        ExportBundle.Manifest.Exhibit(id: $0.id, file: URL(fileURLWithPath: $0.metadata.fileName).lastPathComponent,
                                      camera: $0.metadata.camera, sha256: $0.metadata.sha256, start: $0.metadata.start.iso8601())
      }
    }
    try Data(ExportBundleHTML.page(procedure: procedure, tracks: described, exhibits: exhibits, synopsis: synopsis != nil).utf8)
      .write(to: folder.appendingPathComponent("index.html"))
    try add("index.html")
    let chain = try installation.registry.read { tx in
      try tx.value(Data.self, "SELECT chain FROM log_entry WHERE seq = ?", started)
    }
    let manifest = ExportBundle.Manifest(
      installation: installation.id, procedure: procedure, investigator: identity.user, created: AuthorisationClaims.format(now),
      exhibits: exhibits, tracks: described, synopsis: synopsis, files: files,
      log: .init(entry: started, chain: chain.map { SHA256Hex.hex($0) } ?? ""))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let manifestBytes = try encoder.encode(manifest)
    try manifestBytes.write(to: folder.appendingPathComponent(ExportBundle.manifestName))
    let key = identity.signingKey.key
    let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
    let signature = ExportBundle.Signature(
      user: identity.user, installation: installation.id, publicKey: publicKey,
      signature: try key.signature(for: manifestBytes).base64EncodedString())
    try encoder.encode(signature).write(to: folder.appendingPathComponent(ExportBundle.signatureName))
    return (files, SHA256Hex.of(manifestBytes), ExportBundle.fingerprint(publicKey))
  }
}

/// The bundle's `index.html`: everything in the manifest, shown without a server or a script.
enum ExportBundleHTML {
  static func page(procedure: String, tracks: [ExportBundle.Manifest.Track], exhibits: [ExportBundle.Manifest.Exhibit],
                   synopsis: Bool) -> String {
    let h = ClosureReportText.escape
    var body = "<h1>Export of procedure \(h(procedure))</h1>\n"
    body += "<p>Check this folder with <code>lrj verify FOLDER</code>: it verifies the signature in manifest.sig and every file's SHA-256.</p>\n"
    body += "<h2>Exhibits</h2><table><tr><th>exhibit</th><th>file</th><th>camera</th><th>start</th><th>SHA-256</th></tr>"
    for e in exhibits {
      body += "<tr><td>\(h(e.id))</td><td>\(h(e.file))</td><td>\(h(e.camera))</td><td>\(h(e.start))</td><td><code>\(e.sha256)</code></td></tr>"
    }
    body += "</table>\n<h2>Tracks</h2>\n"
    for t in tracks {
      let colours = t.colours.map { "\($0.colour.rawValue) \(Int(($0.fraction * 100).rounded())) %" }.joined(separator: ", ")
      body += """
        <section><h3>\(h(t.track)) — \(h(t.objectClass)), \(h(colours)), going \(h(t.direction))</h3>
        <p>Camera \(h(t.camera)), exhibit \(h(t.exhibit)), \(h(t.start)) to \(h(t.end))</p>
        <img src="\(h(t.thumbnail))" alt="\(h(t.track))"> <video controls preload="metadata" src="\(h(t.clip))"></video></section>

        """
    }
    if synopsis {
      body += "<h2>Synopsis</h2><video controls preload=\"metadata\" src=\"synopsis.mp4\"></video><img src=\"synopsis.png\" alt=\"overview\">\n"
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>Export of procedure \(h(procedure))</title>
      <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;font-size:10pt}img,video{max-width:45%;vertical-align:top}section{margin-bottom:1.5em}</style>
      </head><body>
      \(body)</body></html>

      """
  }
}
