import Foundation
import Ingest

/// Which object classifier an ingest uses: the CNN with a verified model, or geometry and motion.
public struct ClassifierSetup: Sendable {
  /// The verified model, or nil for geometry and motion only.
  public let model: ClassifierModel?
  /// Where the model came from.
  public let source: ClassifierModel.Source?
  /// Why there is no model, when there is none and none was refused (for a one-time warning).
  public let notice: String?

  /// Geometry and motion only, by choice (no warning).
  public static let geometryOnly = ClassifierSetup(model: nil, source: nil, notice: nil)

  /// Finds and verifies the model: `explicit` (`--model`), else `LRJ_MODEL`, else
  /// `home/models/yolox_nano.onnx`. A model that is named or installed but fails its check is an
  /// error (the user asked for it, or someone put a wrong file in its place); no model at all
  /// gives geometry and motion with a notice saying so.
  /// - Throws: `ClassifierError` naming the file and what is wrong with it.
  public static func resolve(
    explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
    home: URL = Installation.defaultHome
  ) throws -> ClassifierSetup {
    guard let (path, source) = ClassifierModel.locate(explicit: explicit, environment: environment, home: home) else {
      let installed = home.appendingPathComponent("models").appendingPathComponent(ClassifierModel.fileName).path
      return ClassifierSetup(
        model: nil, source: nil,
        notice: "no object classifier model (--model, \(ClassifierModel.environmentVariable) or \(installed)); "
          + "classes come from geometry and motion only")
    }
    do {
      return ClassifierSetup(model: try ClassifierModel(verifying: path), source: source, notice: nil)
    } catch let error as ClassifierError {
      let hint = source == .home ? " (remove it, replace it, or ingest with --no-model)" : ""
      throw ClassifierError("\(error.description)\(hint)")
    }
  }

  /// One line naming the classifier, for `lrj about` and reports.
  public var summary: String {
    guard let model else { return "geometry and motion (shape, size where the object stands, speed)" }
    return "CNN \(ClassifierModel.name) on crops of each track, geometry as fallback; model \(model.path) "
      + "(from \(source?.rawValue ?? "?")), SHA-256 \(model.sha256)"
  }
}
