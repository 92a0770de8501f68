import Foundation
import TestSupport
import Testing

/// The CNN classifier through `lrj ingest` and `lrj about`: the model is found, checked, used or
/// refused with a one-line error; without one, geometry.
struct ClassifierCommandTests {
  static let expectedSHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"

  @Test func badModelsAreOneLineErrorsAndStoreNothing() throws {
    let installation = try TestInstallation.make("lrj-classifier")
    defer { installation.remove() }
    let home = installation.home
    let env = installation.env()
    let wrong = installation.folder.appendingPathComponent("wrong.onnx").path
    _ = FileManager.default.createFile(atPath: wrong, contents: Data(repeating: 7, count: 4096))
    let ingest = ["ingest", "--procedure", "P1", "--camera", "c", "--start", "2026-03-01T10:00:00+01:00"]
    let cases: [([String], [String: String], String)] = [
      (["--model", "/no/such/model.onnx"], [:], "model /no/such/model.onnx: no such file"),
      (["--model", wrong], [:], "model \(wrong): SHA-256 "),
      ([], ["LRJ_MODEL": wrong], "truncated, damaged or another model"),
      (["--model", wrong, "--no-model"], [:], "exclude each other"),
    ]
    for (arguments, environment, expected) in cases {
      let result = try Run.lrj(ingest + arguments + [TestPaths.samplesClip], environment: env.merging(environment) { $1 })
      #expect(result.status != 0, "\(arguments)")
      #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(expected),
              "\(arguments): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
    }
    // Nothing was ingested: the procedure's log holds no ingest.
    let log = try Run.lrj(["log", "--procedure", "P1", "--json"], environment: installation.env(as: "judge"))
    #expect(log.status == 0 && !log.standardOutput.contains("\"ingest\""), "\(log.standardOutput)")
    // A wrong file installed in the home's models folder (not named by the user): a one-line
    // warning naming it and the way out, then motion and geometry; never a crash.
    let installed = home.appendingPathComponent("models/yolox_nano.onnx")
    try FileManager.default.createDirectory(at: installed.deletingLastPathComponent(), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: wrong, toPath: installed.path)
    let warned = try Run.lrj(ingest + ["--json", TestPaths.samplesClip], environment: env)
    #expect(warned.status == 0, "\(warned.standardError)")
    let warning = warned.standardError.split(separator: "\n")
    #expect(warning.count == 1 && warning[0].hasPrefix("warning: model \(installed.path): SHA-256 ")
              && warning[0].contains("--no-model"), "\(warned.standardError)")
    #expect(warned.standardOutput.contains("\"classifier\":\"geometry\""))
    // `lrj about` reports the problem and stays usable.
    let about = try Run.lrj(["about"], environment: env)
    #expect(about.status == 0 && about.standardOutput.contains("Detector in use: none"))
    #expect(about.standardOutput.contains("is not the expected"))
    // --no-model: geometry, no warning.
    let geometry = try Run.lrj(ingest + ["--no-model", "--json", TestPaths.samplesClip], environment: env)
    #expect(geometry.status == 0 && geometry.standardError.isEmpty, "\(geometry.standardError)")
    #expect(geometry.standardOutput.contains("\"alreadyIngested\":true"), "the same file, already ingested")
  }

  /// End to end on a real clip with the model (skipped when ../shared is absent).
  @Test(.enabled(if: TestPaths.classifierModel != nil && TestPaths.footage != nil, "../shared is absent"))
  func ingestWithTheModelOnRealFootage() throws {
    struct Summary: Decodable {
      var tracks: [String: Int]
      var classifier: String?
      var modelSHA256: String?
      var classifiedCrops: Int?
      var detectorRuntime: String?
      var detectorFrames: Int?
    }
    let model = try #require(TestPaths.classifierModel)
    let clip = try #require(TestPaths.footage).appendingPathComponent("campus-crosswalk/crosswalk.mp4").path
    let installation = try TestInstallation.make("lrj-classifier")
    defer { installation.remove() }
    let env = installation.env()
    let result = try Run.lrj(
      ["ingest", "--procedure", "P1", "--camera", "crosswalk", "--start", "2026-03-01T10:00:00+01:00", "--json",
       "--model", model, clip], environment: env)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardError.isEmpty, "\(result.standardError)")
    let summary = try JSONDecoder().decode(Summary.self, from: result.outputData)
    #expect(summary.classifier == "cnn" && summary.modelSHA256 == Self.expectedSHA256)
    #expect((summary.detectorFrames ?? 0) > 0 && summary.detectorRuntime != nil, "the runtime is named: \(summary)")
    // The crossing: pedestrians and cars.
    #expect((summary.tracks["person"] ?? 0) >= 3, "\(summary.tracks)")
    #expect((summary.tracks["car"] ?? 0) >= 1, "\(summary.tracks)")

    // The log says how classes were obtained.
    let log = try Run.lrj(["log", "--procedure", "P1", "--csv"], environment: installation.env(as: "judge"))
    #expect(log.standardOutput.contains("cnn \(Self.expectedSHA256)"), "\(log.standardOutput)")

    // The same model through LRJ_MODEL, as `lrj about` reports it.
    let about = try Run.lrj(["about"], environment: env.merging(["LRJ_MODEL": model]) { $1 })
    #expect(about.status == 0)
    #expect(about.standardOutput.contains("Detector in use: YOLOX-nano"))
    #expect(about.standardOutput.contains("SHA-256 \(Self.expectedSHA256) (verified)"))
  }

  /// OpenVINO's libraries where `make deps` installs them (or `LRJ_OPENVINO`), nil when absent.
  static var openVINOFolder: String? {
    let environment = ProcessInfo.processInfo.environment
    if let folder = environment["LRJ_OPENVINO"], !folder.isEmpty { return folder }
    let installed = FileManager.default.homeDirectoryForCurrentUser
      .appendingPathComponent(".local/share/lrj/runtime/openvino/openvino/libs").path
    return FileManager.default.fileExists(atPath: installed) ? installed : nil
  }

  /// `LRJ_OPENVINO_PRECISION=f32` makes OpenVINO infer in 32-bit floats where it would use bf16 (an
  /// ingest made on a processor without bf16 reproduced on one with it), and says so; another
  /// value is refused by name, and the detector falls back to OpenCV DNN with a warning.
  @Test(.enabled(if: TestPaths.classifierModel != nil && openVINOFolder != nil, "../shared/models or OpenVINO is absent"))
  func openVINOCanBeAskedToInferInF32() throws {
    let installation = try TestInstallation.make("lrj-precision")
    defer { installation.remove() }
    let env = installation.env().merging(
      ["LRJ_MODEL": try #require(TestPaths.classifierModel), "LRJ_OPENVINO": try #require(Self.openVINOFolder)]) { $1 }
    let forced = try Run.lrj(["about"], environment: env.merging(["LRJ_OPENVINO_PRECISION": "f32"]) { $1 })
    #expect(forced.status == 0 && forced.standardOutput.contains("on OpenVINO ")
              && forced.standardOutput.contains("(CPU, f32)"), "\(forced.standardOutput)")
    let refused = try Run.lrj(["about"], environment: env.merging(["LRJ_OPENVINO_PRECISION": "f8"]) { $1 })
    #expect(refused.status == 0 && refused.standardOutput.contains("LRJ_OPENVINO_PRECISION is \"f8\": only f32")
              && refused.standardOutput.contains("Detector in use: YOLOX-nano (COCO, ONNX) on OpenCV DNN"),
            "\(refused.standardOutput)")
    // The ingest's report and log entry name the runtime by the same description (ingestWithTheModelOnRealFootage).
  }
}
