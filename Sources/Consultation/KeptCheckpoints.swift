import Crypto
import Foundation
import Store

/// Signed checkpoints kept outside the registry they protect (DESIGN.md §8 "Nothing protects
/// itself"): every checkpoint lrj signs is also written to `$LRJ_HOME/checkpoint` and to the acting
/// OS user's own cache (`$LRJ_CACHE`, else `$XDG_CACHE_HOME/lrj`, else `~/.cache/lrj`), one file per
/// installation, as a Go checksum-database client keeps the latest tree head it saw. Every command
/// compares the log with both before it does anything, so a log whose tail was cut, or a registry
/// restored from an older copy, is named at once; closure reports carry one too, and
/// `lrj log verify --checkpoint FILE` checks the log against a checkpoint someone kept.
public struct KeptCheckpoint: Sendable, Equatable {
  /// Where it was kept (a path).
  public var source: String
  /// The signed note.
  public var note: String
}

extension Installation {
  /// `$LRJ_HOME/checkpoint`.
  var homeCheckpointFile: URL { home.appendingPathComponent("checkpoint") }

  /// The OS user's cache of this installation's latest checkpoint.
  var userCheckpointFile: URL {
    let environment = ProcessInfo.processInfo.environment
    let folder: URL
    if let cache = environment["LRJ_CACHE"], !cache.isEmpty {
      folder = URL(fileURLWithPath: cache)
    } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
      folder = URL(fileURLWithPath: xdg).appendingPathComponent("lrj")
    } else {
      folder = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lrj")
    }
    return folder.appendingPathComponent("\(id).checkpoint")
  }

  /// Keeps `note` in both places, unless a checkpoint of a longer log is kept there already.
  func keep(checkpoint note: String) {
    guard let size = ConsultationLog.parseNote(note)?.size else { return }
    for file in [homeCheckpointFile, userCheckpointFile] {
      if let kept = try? String(contentsOf: file, encoding: .utf8), let keptSize = ConsultationLog.parseNote(kept)?.size,
        keptSize > size
      {
        continue
      }
      try? FileManager.default.createDirectory(
        at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      try? Data(note.utf8).write(to: file, options: .atomic)
    }
  }

  /// The checkpoints kept outside the registry (the home's and this user's), when present.
  public func keptCheckpoints() -> [KeptCheckpoint] {
    [homeCheckpointFile, userCheckpointFile].compactMap { file in
      (try? String(contentsOf: file, encoding: .utf8)).map { KeptCheckpoint(source: file.path, note: $0) }
    }
  }

  /// Reads a checkpoint someone kept: a note file, or a closure report's JSON manifest that carries one.
  public static func readCheckpoint(_ file: URL) throws -> KeptCheckpoint {
    guard let data = FileManager.default.contents(atPath: file.path), data.count < 1 << 26 else {
      throw InstallationError("cannot read the checkpoint file \(file.path)")
    }
    if let manifest = try? JSONDecoder().decode(ClosureManifest.self, from: data), let note = manifest.checkpoint {
      return KeptCheckpoint(source: file.path, note: note)
    }
    let text = String(decoding: data, as: UTF8.self)
    guard ConsultationLog.parseNote(text) != nil else {
      throw InstallationError("\(file.path) is neither a signed checkpoint nor a closure report carrying one")
    }
    return KeptCheckpoint(source: file.path, note: text)
  }

  /// What is wrong with the log as measured against `kept`: nil when the log holds the checkpoint's
  /// entries unchanged (it may have grown since).
  func disagreement(with kept: KeptCheckpoint) throws -> String? {
    guard let note = ConsultationLog.parseNote(kept.note) else { return "the checkpoint kept in \(kept.source) is malformed" }
    guard note.origin == log.origin else { return "the checkpoint kept in \(kept.source) is of another installation (\(note.origin))" }
    let keys = try users().compactMap { user -> CheckpointVerifierKey? in
      guard let raw = Data(base64Encoded: user.publicKey), let key = try? PasetoV4PublicKey(rawRepresentation: raw) else { return nil }
      return CheckpointVerifierKey(name: user.id, publicKey: key)
    }
    let signed = note.signatures.contains { signature in
      keys.contains { key in
        key.name == signature.name && key.keyID == signature.keyID
          && (key.publicKey.key?.isValidSignature(signature.signature, for: Data(note.text.utf8)) ?? false)
      }
    }
    let (size, head) = try registry.read { tx in
      (try tx.value(Int64.self, "SELECT max(seq) FROM log_entry") ?? 0,
       try tx.value(Data.self, "SELECT chain FROM log_entry WHERE seq = ?", note.size))
    }
    if note.size > size {
      return "the log holds \(size) entries, but the checkpoint kept in \(kept.source) seals \(note.size): entries \(size + 1) to "
        + "\(note.size) were removed, or \(registry.dialect == .sqlite ? "registry.sqlite" : "the database \(registry.name)") was replaced by an older copy"
    }
    guard signed else {
      return "the checkpoint kept in \(kept.source) is not signed by an enrolled user's key (forged, or the user was removed)"
    }
    if note.size > 0, head != note.head {
      return "the log's first \(note.size) entries differ from the checkpoint kept in \(kept.source) (rewritten, or replaced by another copy)"
    }
    return nil
  }

  /// Compares the log with the checkpoints kept outside it; every command of an authenticated user
  /// runs it first.
  /// - Throws: `InstallationError` naming the first disagreement.
  func requireKeptCheckpoints() throws {
    for kept in keptCheckpoints() {
      if let problem = try disagreement(with: kept) {
        throw InstallationError("the consultation log does not match a kept checkpoint: \(problem); run lrj log verify")
      }
    }
  }

  /// Signs a checkpoint of the log's head with the acting user's key (whether or not entries were added)
  /// and keeps it outside the registry. Returns the note.
  func signCheckpoint(by identity: Identity, now: Date) throws -> String {
    let note = try log.checkpoint(signingKey: identity.signingKey.key, keyName: identity.user, now: now)
    keep(checkpoint: note)
    return note
  }
}
