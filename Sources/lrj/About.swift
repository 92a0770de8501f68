import ArgumentParser
import Consultation

/// `lrj about`: version, libraries and the capability manifest.
struct About: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the version, the libraries and the capability manifest (no biometric capability).")

  @Flag(help: "Print the manifest as JSON.")
  var json = false

  func run() throws {
    let manifest = CapabilityManifest.current
    if json {
      struct Output: Encodable {
        var manifest: CapabilityManifest
        var sha256: String
      }
      print(Terminal.json(Output(manifest: manifest, sha256: manifest.sha256)))
      return
    }
    print("lrj \(manifest.version): forensic video search under judicial authorisation")
    print("FFmpeg \(manifest.ffmpeg), libpng \(manifest.libpng)")
    print("")
    print("Capabilities")
    print("  object classes   \(manifest.objectClasses.joined(separator: ", "))")
    print("  colours          \(manifest.colours.joined(separator: ", "))")
    print("  directions       \(manifest.directions.joined(separator: ", "))")
    print("  query predicates \(manifest.queryPredicates.joined(separator: ", "))")
    print("  video decoders   \(manifest.videoDecoders.count): \(manifest.videoDecoders.joined(separator: " "))")
    print("")
    print(manifest.exclusionStatement)
    print("Absent by construction: \(manifest.excludedByConstruction.joined(separator: ", "))")
    print("")
    print("Manifest SHA-256: \(manifest.sha256)")
  }
}
