import Crypto
import Foundation

/// Why the CNN classifier's model cannot be used.
public struct ClassifierError: Error, CustomStringConvertible, Sendable {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// The CNN classifier's model file: YOLOX-nano (ONNX, 80 COCO classes, Apache-2.0), verified by
/// its SHA-256 before use.
///
/// The model is not part of lrj's sources. It is found through `--model FILE`, then the
/// `LRJ_MODEL` environment variable, then `$LRJ_HOME/models/yolox_nano.onnx`; without it, classes
/// come from geometry and motion alone.
public struct ClassifierModel: Sendable, Hashable {
  /// The only model lrj accepts: YOLOX-nano from Megvii's YOLOX release 0.1.1rc0.
  public static let expectedSHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"
  /// Its file name in `$LRJ_HOME/models/`.
  public static let fileName = "yolox_nano.onnx"
  /// A name for reports and the capability manifest.
  public static let name = "YOLOX-nano (COCO, ONNX)"
  /// What the detector does, for the capability manifest: whole-object classes only.
  public static var capability: String {
    "detector first when its model is installed: \(name) on OpenVINO (when installed) or OpenCV DNN "
      + "\(OpenCVDetector.openCVVersion), motion-gated, whole frames and crops around small movers; person, bicycle, "
      + "motorcycle, car, bus, truck (and animals, trains as other) mapped to the object classes; model SHA-256 "
      + "\(expectedSHA256); motion alone for what it misses, classed by geometry"
  }
  /// The environment variable naming the model file.
  public static let environmentVariable = "LRJ_MODEL"

  /// Where the model was found.
  public enum Source: String, Sendable, Hashable {
    case option = "--model"
    case environment = "LRJ_MODEL"
    case home = "LRJ_HOME/models"
  }

  /// The version of OpenCV whose DNN module runs the model.
  public static var openCVVersion: String { OpenCVDetector.openCVVersion }

  /// The model file.
  public let path: String
  /// Its SHA-256 (always `expectedSHA256` once verified).
  public let sha256: String

  /// Verifies the model file at `path`: readable, not empty, and of the expected SHA-256.
  /// - Throws: `ClassifierError` naming the file and what is wrong with it.
  public init(verifying path: String) throws {
    _ = try Self.verifiedBytes(path)
    self.path = path
    sha256 = Self.expectedSHA256
  }

  /// A model not verified yet (the detector verifies the bytes it loads).
  init(unverifiedPath path: String) {
    self.path = path
    sha256 = ""
  }

  /// The model bytes, read once, their class lists checked (`ModelClassList`, L7) and their
  /// SHA-256 checked against the expected one (the bytes that are hashed are the bytes the
  /// network is built from).
  static func verifiedBytes(_ path: String) throws -> Data {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      throw ClassifierError("model \(path): no such file")
    }
    guard !isFolder.boolValue else { throw ClassifierError("model \(path): is a folder, not a file") }
    let bytes: Data
    do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw ClassifierError("model \(path): cannot be read (\(error.localizedDescription))")
    }
    guard !bytes.isEmpty else { throw ClassifierError("model \(path): the file is empty") }
    // L7 first: a model whose classes name human traits is refused as such, whatever it is.
    try ModelClassList.checkAll(modelPath: path, bytes: bytes)
    let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    guard digest == expectedSHA256 else {
      throw ClassifierError(
        "model \(path): SHA-256 \(digest) is not the expected \(expectedSHA256) (\(fileName), YOLOX 0.1.1rc0); "
          + "the file is truncated, damaged or another model")
    }
    return bytes
  }

  /// Where the model is, by precedence: `explicit` (the `--model` option), `LRJ_MODEL` in
  /// `environment`, then `home/models/yolox_nano.onnx` when that file exists. Nil when none is
  /// given and the home has none. The file is not verified here.
  public static func locate(explicit: String?, environment: [String: String], home: URL)
    -> (path: String, source: Source)?
  {
    if let explicit, !explicit.isEmpty { return (explicit, .option) }
    if let variable = environment[environmentVariable], !variable.isEmpty { return (variable, .environment) }
    let installed = home.appendingPathComponent("models").appendingPathComponent(fileName).path
    return FileManager.default.fileExists(atPath: installed) ? (installed, .home) : nil
  }
}
