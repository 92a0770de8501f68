import Foundation
import TestSupport
import Testing

/// L7 at run time: a detector model whose class list names a human trait is refused by `lrj
/// ingest`, whether the list is in the model's own metadata or in a `.names` file beside it.
struct ModelClassesCommandTests {
  /// A minimal ONNX `ModelProto`: `ir_version` 7 and one `metadata_props` entry, then bytes that
  /// are no network (the class check comes before the model's SHA-256 is checked).
  static func onnx(metadataKey key: String, value: String) -> Data {
    func varint(_ value: Int) -> [UInt8] {
      var v = UInt64(value)
      var out: [UInt8] = []
      repeat {
        out.append(UInt8(v & 0x7F) | (v > 0x7F ? 0x80 : 0))
        v >>= 7
      } while v > 0
      return out
    }
    func field(_ number: Int, _ bytes: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(bytes.count) + bytes }
    let entry = field(1, Array(key.utf8)) + field(2, Array(value.utf8))
    return Data([0x08, 0x07] + field(14, entry) + field(7, [UInt8](repeating: 0x42, count: 300)))
  }

  @Test func aModelWhoseClassesNameHumanTraitsIsRefused() throws {
    let installation = try TestInstallation.make("lrj-model-classes")
    defer { installation.remove() }
    let env = installation.env()
    let ingest = ["ingest", "--procedure", "P1", "--camera", "c", "--start", "2026-03-01T10:00:00+01:00"]

    // In the model's metadata (as Ultralytics exports write `names`).
    let folder = installation.folder.appendingPathComponent("models-a")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let model = folder.appendingPathComponent("detector.onnx")
    try Self.onnx(metadataKey: "names", value: "{0: 'person', 1: 'car', 2: 'face'}").write(to: model)
    let refused = try Run.lrj(ingest + ["--model", model.path, TestPaths.samplesClip], environment: env)
    #expect(refused.status == 1)
    #expect(refused.standardError.hasPrefix(
      "error: model \(model.path): refused (L7): its class list (the model's metadata (names)) has the class \"face\""),
            "\(refused.standardError)")
    #expect(refused.standardError.split(separator: "\n").count == 1)

    // In a class list beside the model, found through LRJ_MODEL.
    let other = installation.folder.appendingPathComponent("models-b")
    try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
    let plain = other.appendingPathComponent("yolo.onnx")
    try Data(repeating: 7, count: 4096).write(to: plain)
    try Data("person\nbicycle\ncar\nAgeOver60\n".utf8).write(to: other.appendingPathComponent("yolo.names"))
    let sidecar = try Run.lrj(ingest + [TestPaths.samplesClip], environment: env.merging(["LRJ_MODEL": plain.path]) { $1 })
    #expect(sidecar.status == 1)
    #expect(sidecar.standardError.contains("refused (L7): its class list (\(other.path)/yolo.names) has the class \"AgeOver60\": it names a person's age"),
            "\(sidecar.standardError)")

    // COCO's own list (with "hair drier" and "tie") is no reason to refuse: that file fails only
    // its SHA-256 check.
    try Data(Self.cocoNames.utf8).write(to: other.appendingPathComponent("yolo.names"))
    let coco = try Run.lrj(ingest + ["--model", plain.path, TestPaths.samplesClip], environment: env)
    #expect(coco.status == 1 && coco.standardError.contains("SHA-256") && !coco.standardError.contains("L7"),
            "\(coco.standardError)")

    // Nothing was ingested, and `lrj about` names the refusal of an installed model.
    let log = try installation.expect(["log", "--procedure", "P1", "--json"], installation.env(as: "judge"))
    #expect(!log.standardOutput.contains("\"ingest\""))
    let about = try Run.lrj(["about"], environment: env.merging(["LRJ_MODEL": model.path]) { $1 })
    #expect(about.status == 0 && about.standardOutput.contains("refused (L7)"), "\(about.standardOutput)")
  }

  static let cocoNames = """
    person
    bicycle
    car
    motorcycle
    airplane
    bus
    train
    truck
    backpack
    handbag
    tie
    hair drier
    toothbrush
    teddy bear

    """
}
