import ArgumentParser
import Consultation
import Ingest

/// `lrj about`: version, libraries and the capability manifest.
struct About: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the version, the libraries and the capability manifest (no biometric capability).")

  @Flag(help: "Print the manifest as JSON.")
  var json = false

  @Option(help: ArgumentHelp("The detector's model to report on (default: LRJ_MODEL, else LRJ_HOME/models).",
                             valueName: "file"))
  var model: String?

  func run() throws {
    let manifest = CapabilityManifest.current
    // The detector ingest would use here and now; a model that fails its check is reported, not fatal.
    let inUse: (name: String, model: String?, sha256: String?, runtime: String?, problem: String?)
    do {
      let setup = try DetectorSetup.resolve(explicit: model, home: Installation.defaultHome)
      inUse = (setup.model == nil ? "geometry" : "cnn", setup.model?.path, setup.model?.sha256,
               setup.runtime?.description, setup.notice)
    } catch {
      inUse = ("geometry", nil, nil, nil, String(describing: error))
    }
    if json {
      struct Classifier: Encodable {
        var inUse: String
        var model: String?
        var modelSHA256: String?
        var runtime: String?
        var problem: String?
      }
      struct Output: Encodable {
        var manifest: CapabilityManifest
        var sha256: String
        var classifier: Classifier
      }
      let classifier = Classifier(
        inUse: inUse.name, model: inUse.model, modelSHA256: inUse.sha256, runtime: inUse.runtime, problem: inUse.problem)
      print(Terminal.json(Output(manifest: manifest, sha256: manifest.sha256, classifier: classifier)))
      return
    }
    print("lrj \(manifest.version): forensic video search under judicial authorisation")
    print("FFmpeg \(manifest.ffmpeg), libpng \(manifest.libpng)")
    print("")
    print("Capabilities")
    print("  object classes   \(manifest.objectClasses.joined(separator: ", "))")
    print("  classifiers      \(manifest.objectClassifiers.joined(separator: "; "))")
    print("  colours          \(manifest.colours.joined(separator: ", "))")
    print("  directions       \(manifest.directions.joined(separator: ", "))")
    print("  query predicates \(manifest.queryPredicates.joined(separator: ", "))")
    print("  video decoders   \(manifest.videoDecoders.count): \(manifest.videoDecoders.joined(separator: " "))")
    print("")
    print(manifest.exclusionStatement)
    print("Absent by construction: \(manifest.excludedByConstruction.joined(separator: ", "))")
    print("")
    print("Manifest SHA-256: \(manifest.sha256)")
    print("")
    if let path = inUse.model, let sha256 = inUse.sha256, let runtime = inUse.runtime {
      print("Detector in use: \(ClassifierModel.name) on \(runtime), motion-gated; motion alone for what it misses")
      print("  model \(path), SHA-256 \(sha256) (verified)")
      print("  runtime \(runtime)")
      if let problem = inUse.problem { print("  \(problem)") }
    } else {
      print("Detector in use: none; objects found by motion, classes by geometry")
      if let problem = inUse.problem { print("  \(problem)") }
    }
  }
}
