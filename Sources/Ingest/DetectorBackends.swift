import Foundation
import Index
import Media

internal import CObjectClassifier
internal import COpenVINO

/// Text of a NUL-terminated C message buffer.
private func text(_ message: [CChar]) -> String {
  let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}

/// The network's raw output for `input`, read through a C function that copies at most
/// `capacity` floats and returns the output's size (or -1).
private func readOutput(
  _ input: NetworkInput, what: String,
  _ call: (_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64,
           _ error: UnsafeMutablePointer<CChar>, _ errorSize: Int) -> Int64
) throws -> [Float] {
  let expected = YOLOX.anchors(width: input.width, height: input.height) * YOLOX.columns
  var output = [Float](repeating: 0, count: expected)
  var message = [CChar](repeating: 0, count: 512)
  let count = input.values.withUnsafeBufferPointer { values in
    output.withUnsafeMutableBufferPointer { out in
      call(values.baseAddress!, out.baseAddress, Int64(out.count), &message, message.count)
    }
  }
  guard count >= 0 else { throw ClassifierError("\(what): \(text(message))") }
  guard count == expected else {
    throw ClassifierError(
      "\(what): the network gave \(count) values for a \(input.width)x\(input.height) input, not \(expected): not a YOLOX COCO model")
  }
  return output
}

/// The detector on OpenCV's DNN module (always available: Debian's libopencv-dnn is linked).
final class OpenCVDetector: Detector {
  private let handle: OpaquePointer
  let runtime = DetectorRuntime.openCV

  /// Loads the network from the verified bytes of `model`.
  /// - Parameter threads: OpenCV's worker threads (process-wide); 1 keeps the work on the calling thread.
  /// - Throws: `ClassifierError` when the file fails its check or OpenCV cannot use it.
  init(model: ClassifierModel, threads: Int = 1) throws {
    let bytes = try ClassifierModel.verifiedBytes(model.path)
    var message = [CChar](repeating: 0, count: 1024)
    let opened = bytes.withUnsafeBytes { raw in
      lrj_detector_open(raw.baseAddress, raw.count, 416, Int32(threads), &message, message.count)
    }
    guard let opened else { throw ClassifierError("model \(model.path): \(text(message))") }
    handle = opened
  }

  deinit {
    lrj_detector_close(handle)
  }

  func forward(_ input: NetworkInput) throws -> [Float] {
    try readOutput(input, what: "detector (OpenCV DNN)") { values, out, capacity, error, size in
      lrj_detector_forward(handle, values, Int32(input.width), Int32(input.height), out, capacity, error, size)
    }
  }

  /// The version of OpenCV the detector runs on.
  static var openCVVersion: String { String(cString: lrj_detector_opencv_version()) }
}

/// OpenVINO's runtime, loaded once per process from the libraries of the PyPI wheel `openvino`.
public enum OpenVINORuntime {
  /// The environment variable naming the folder of `libopenvino_c.so`.
  public static let environmentVariable = "LRJ_OPENVINO"
  /// Where `make deps` installs the wheel's libraries under lrj's home.
  public static let homeSubfolder = "runtime/openvino/openvino/libs"

  /// The folder holding `libopenvino_c.so*`: `LRJ_OPENVINO`, else `home/runtime/openvino/openvino/libs`
  /// when it exists; nil when neither is there.
  public static func locate(environment: [String: String], home: URL) -> String? {
    if let folder = environment[environmentVariable], !folder.isEmpty { return folder }
    let installed = home.appendingPathComponent(homeSubfolder).path
    return FileManager.default.fileExists(atPath: installed) ? installed : nil
  }

  /// Loads the runtime from `folder` (the first folder loaded stays loaded for the process).
  /// - Throws: `ClassifierError` saying why it cannot be used.
  public static func load(folder: String) throws {
    var message = [CChar](repeating: 0, count: 512)
    guard lrj_openvino_load(folder, &message, message.count) == 1 else {
      throw ClassifierError("OpenVINO: \(text(message))")
    }
  }

  /// The loaded runtime's version, nil when none is loaded.
  public static var version: String? {
    let version = String(cString: lrj_openvino_version())
    return version.isEmpty ? nil : version
  }

  /// The precision the CPU infers in (`bf16` on processors that have it, else `f32`; `f32` when
  /// `LRJ_OPENVINO_PRECISION=f32` asks for it), nil when none is loaded or it does not say: the same
  /// footage gives slightly different detections in each.
  public static var precision: String? {
    let precision = String(cString: lrj_openvino_precision())
    return precision.isEmpty ? nil : precision
  }
}

/// The detector on OpenVINO (CPU), when its runtime is installed.
final class OpenVINODetector: Detector {
  private let handle: OpaquePointer
  let runtime = DetectorRuntime.openVINO

  /// Loads the network from the verified bytes of `model` on the runtime in `folder`.
  /// - Parameter threads: inference threads (0: OpenVINO's choice).
  /// - Throws: `ClassifierError` when the runtime or the file cannot be used.
  init(model: ClassifierModel, folder: String, threads: Int = 1) throws {
    try OpenVINORuntime.load(folder: folder)
    let bytes = try ClassifierModel.verifiedBytes(model.path)
    var message = [CChar](repeating: 0, count: 1024)
    let opened = bytes.withUnsafeBytes { raw in
      lrj_openvino_open(raw.baseAddress, raw.count, Int32(threads), &message, message.count)
    }
    guard let opened else { throw ClassifierError("model \(model.path): \(text(message))") }
    handle = opened
    // The output's shape is checked at each use (`readOutput`); a check here would cost one more
    // compilation of the network (a quarter of a second).
  }

  deinit {
    lrj_openvino_close(handle)
  }

  func forward(_ input: NetworkInput) throws -> [Float] {
    try readOutput(input, what: "detector (OpenVINO)") { values, out, capacity, error, size in
      lrj_openvino_forward(handle, values, Int32(input.width), Int32(input.height), out, capacity, error, size)
    }
  }
}

/// Makes the detector an ingest uses.
enum DetectorFactory {
  /// A detector for `model` on `runtime`; OpenVINO needs `openVINOFolder`.
  static func make(model: ClassifierModel, runtime: DetectorRuntime, openVINOFolder: String?, threads: Int) throws
    -> any Detector
  {
    switch runtime {
    case .openCV:
      return try OpenCVDetector(model: model, threads: threads)
    case .openVINO:
      guard let openVINOFolder else { throw ClassifierError("OpenVINO: no runtime folder") }
      return try OpenVINODetector(model: model, folder: openVINOFolder, threads: threads)
    }
  }
}
