import ArgumentParser
import Consultation
import Foundation

/// `lrj export`: a signed bundle of tracks for the court (investigators).
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a signed export bundle: the original clips and thumbnails of tracks, a manifest, an index.html.",
    discussion: """
      The folder (which must not exist) holds clips/, thumbnails/, with --with-synopsis a synopsis of the tracks, \\
      manifest.json (procedure, exhibits with SHA-256, each track's class, colours, direction and clock times, every \\
      file's SHA-256, this export's log entry and chain hash), index.html, and manifest.sig: your Ed25519 signature \\
      over the manifest with your public key and the installation id. Anyone checks it offline with lrj verify DIR.
      """)

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Argument(help: "The tracks to export (T17 T18 …).")
  var tracks: [String]

  @Flag(help: "Also a synopsis of these tracks (one camera).")
  var withSynopsis = false

  @Option(help: "Seconds of footage kept before and after each track.")
  var margin: Double = 2

  @Option(help: "The bundle folder to create.")
  var out: String

  func run() throws {
    try reportingErrors {
      let report = try key.access(procedure).exportBundle(tracks: tracks, withSynopsis: withSynopsis, margin: margin, to: out)
      print("\(report.folder): \(report.tracks.count) tracks, \(report.files) files, signed")
      print("manifest SHA-256 \(report.manifestSHA256); signer's key fingerprint \(report.fingerprint)")
      print("check it anywhere with: lrj verify \(report.folder)")
    }
  }
}

/// `lrj verify`: checks an export bundle offline (no installation, no key, no passphrase).
struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check an export bundle offline: its signature and every file; names any file added, removed or changed.")

  @Argument(help: "The bundle folder.")
  var folder: String

  func run() throws {
    try reportingErrors {
      let verification = try ExportBundle.verify(folder: URL(fileURLWithPath: folder))
      for problem in verification.problems { print("- \(problem.escapingControlCharacters)") }
      guard verification.isValid, let manifest = verification.manifest, let signer = verification.signer else {
        let count = verification.problems.count
        throw ValidationError("\(folder) does not verify: \(verification.problems.first ?? "")"
                              + (count > 1 ? " (and \(count - 1) more, listed above)" : ""))
      }
      print("\(folder): verified — \(verification.filesChecked) files as listed, nothing added or removed")
      print("signed by \(signer.user) of installation \(signer.installation), public key \(signer.publicKey) "
            + "(fingerprint \(ExportBundle.fingerprint(signer.publicKey)))")
      print("procedure \(manifest.procedure), \(manifest.tracks.count) tracks, exported \(manifest.created), "
            + "consultation log entry \(manifest.log.entry) (chain \(manifest.log.chain.prefix(16))…)")
      print("compare this public key with the one the installation enrolled for \(signer.user) (lrj user list)")
    }
  }
}
