import Foundation

/// Which detector an ingest uses: the model (verified) and the runtime, or none (motion and
/// geometry only), with what to tell the user about it.
public struct DetectorSetup: Sendable {
  /// The verified model, or nil: objects found by motion, classes by geometry.
  public let model: ClassifierModel?
  /// Where the model came from.
  public let source: ClassifierModel.Source?
  /// The runtime the detector will run on (nil without a model).
  public let runtime: DetectorRuntime?
  /// OpenVINO's library folder, when its runtime loaded.
  public let openVINOFolder: String?
  /// What the user should be told once (no model, an installed model that failed its check, an
  /// installed OpenVINO that does not load), or nil.
  public let notice: String?

  /// Motion and geometry only, by choice (no notice).
  public static let geometryOnly = DetectorSetup(
    model: nil, source: nil, runtime: nil, openVINOFolder: nil, notice: nil)

  /// Finds and verifies the model, then picks the runtime.
  ///
  /// The model is `explicit` (`--model`), else `LRJ_MODEL`, else `home/models/yolox_nano.onnx`. A
  /// model the user named (option or variable) that is missing, truncated or another file is an
  /// error; the installed one failing its check gives a notice and motion and geometry (the
  /// ingest goes on, and says how its classes were decided). The runtime is OpenVINO when its
  /// libraries are found (`LRJ_OPENVINO`, else `home/runtime/openvino/openvino/libs`) and load,
  /// else OpenCV DNN.
  /// - Throws: `ClassifierError` naming the file and what is wrong with it.
  public static func resolve(
    explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment, home: URL
  ) throws -> DetectorSetup {
    guard let (path, source) = ClassifierModel.locate(explicit: explicit, environment: environment, home: home) else {
      let installed = home.appendingPathComponent("models").appendingPathComponent(ClassifierModel.fileName).path
      return DetectorSetup(
        model: nil, source: nil, runtime: nil, openVINOFolder: nil,
        notice: "no detector model (--model, \(ClassifierModel.environmentVariable) or \(installed)); "
          + "objects are found by motion alone and classed by geometry")
    }
    let model: ClassifierModel
    do {
      model = try ClassifierModel(verifying: path)
    } catch let error as ClassifierError {
      guard source == .home else { throw error }
      return DetectorSetup(
        model: nil, source: nil, runtime: nil, openVINOFolder: nil,
        notice: "\(error.description); objects are found by motion alone and classed by geometry "
          + "(replace the file, or ingest with --no-model)")
    }
    var notice: String?
    var folder: String?
    if let located = OpenVINORuntime.locate(environment: environment, home: home) {
      do {
        try OpenVINORuntime.load(folder: located)
        folder = located
      } catch {
        notice = "\(error); the detector runs on OpenCV DNN (slower)"
      }
    }
    return DetectorSetup(
      model: model, source: source, runtime: folder == nil ? .openCV : .openVINO, openVINOFolder: folder,
      notice: notice)
  }

  /// Puts the model and runtime into `settings`.
  public func apply(to settings: inout AnalysisSettings) {
    settings.classifierModel = model
    settings.detectorRuntime = runtime
    settings.openVINOFolder = openVINOFolder
  }

  /// One line naming the detector, for `lrj about` and reports.
  public var summary: String {
    guard let model, let runtime else { return "motion alone, classes by geometry (shape, size where the object stands, speed)" }
    return "detector \(ClassifierModel.name) on \(runtime.description), motion-gated, with motion for what it misses; "
      + "model \(model.path) (from \(source?.rawValue ?? "?")), SHA-256 \(model.sha256)"
  }
}
