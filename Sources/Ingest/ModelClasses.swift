import Foundation
import L7Rules

/// The class names of a detector model, checked against L7 before the model is used.
///
/// lrj learns a model's classes from the model itself (an ONNX file's metadata entry `names`,
/// `classes`, `labels` or `class_names`, as exporters such as Ultralytics write it) and from a
/// class list beside it (`yolox_nano.names`, or any `.names` file in its folder, one class a line,
/// as darknet's `coco.names`); a model that states none is taken to have the 80 COCO classes of
/// YOLOX-nano, the model lrj maps. A list that names a class L7 excludes (a human trait of a
/// person, such as the parts of the head or sex or age) makes the model refused, whatever its
/// SHA-256: lrj takes no model that was trained for it.
public struct ModelClassList: Sendable, Hashable {
  /// The class names, in the model's order.
  public var names: [String]
  /// Where they were read, for messages (`the model's metadata (names)`, a file path…).
  public var source: String

  public init(names: [String], source: String) {
    self.names = names
    self.source = source
  }

  /// COCO's 80 detection classes, in the order of YOLOX-nano's outputs.
  public static let coco = ModelClassList(
    names: [
      "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
      "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
      "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
      "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
      "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
      "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
      "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
      "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
      "hair drier", "toothbrush",
    ],
    source: "the COCO classes of YOLOX-nano")

  /// Metadata keys that hold a model's class names.
  static let metadataKeys: Set<String> = ["names", "classes", "labels", "class_names"]
  /// The most names read from one list, and the longest name kept.
  static let maximumNames = 10_000
  static let maximumNameLength = 200

  /// The class lists of the model at `path` whose bytes are `bytes`: its own metadata's, those of
  /// `.names` files beside it, and COCO's when it states none.
  static func lists(modelPath path: String, bytes: Data) -> [ModelClassList] {
    var lists: [ModelClassList] = []
    for (key, value) in ONNXMetadata.properties(bytes) where metadataKeys.contains(key.lowercased()) {
      lists.append(ModelClassList(names: parse(value), source: "the model's metadata (\(key))"))
    }
    let model = URL(fileURLWithPath: path)
    let folder = model.deletingLastPathComponent()
    var beside = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?
      .filter { $0.hasSuffix(".names") }.sorted() ?? []
    let own = model.deletingPathExtension().lastPathComponent + ".names"
    if let index = beside.firstIndex(of: own) { beside.insert(beside.remove(at: index), at: 0) }
    for name in beside {
      let file = folder.appendingPathComponent(name)
      guard let data = try? Data(contentsOf: file), data.count <= 4 << 20 else { continue }
      lists.append(ModelClassList(names: parse(String(decoding: data, as: UTF8.self)), source: file.path))
    }
    return lists.isEmpty ? [coco] : lists
  }

  /// Throws when a class names what L7 excludes.
  /// - Throws: `ClassifierError` naming the model, the list, the class and why.
  func check(modelPath path: String) throws {
    for name in names {
      guard let reason = L7Rules.refusedClassReason(name) else { continue }
      throw ClassifierError(
        "model \(path): refused (L7): its class list (\(source)) has the class \"\(name)\": \(reason); lrj has no "
          + "biometric capability and refuses any model trained to detect or describe human traits")
    }
  }

  /// Checks every class list of the model at `path`.
  /// - Throws: `ClassifierError` for the first class L7 excludes.
  static func checkAll(modelPath path: String, bytes: Data) throws {
    for list in lists(modelPath: path, bytes: bytes) { try list.check(modelPath: path) }
  }

  /// Names from a list's text: quoted names when there are quotes (`{0: 'person', 1: 'car'}`,
  /// `["person", "car"]`), else one a line or comma-separated (`coco.names`).
  static func parse(_ text: String) -> [String] {
    var names: [String] = []
    if text.contains("'") || text.contains("\"") {
      var current: String?
      var quote: Character = "'"
      for character in text {
        if var name = current {
          if character == quote {
            names.append(name)
            current = nil
          } else if name.count < maximumNameLength {
            name.append(character)
            current = name
          }
        } else if character == "'" || character == "\"" {
          quote = character
          current = ""
        }
        if names.count >= maximumNames { break }
      }
    } else {
      names = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "," })
        .prefix(maximumNames).map { String($0.prefix(maximumNameLength)) }
    }
    return names.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
  }
}

/// Reads the `metadata_props` of an ONNX model (a protobuf `ModelProto`, field 14: key/value
/// strings) without a protobuf library: only the top-level fields are walked, every length is
/// bounds-checked, and anything malformed gives no metadata.
enum ONNXMetadata {
  /// The model's metadata entries, in file order.
  static func properties(_ bytes: Data) -> [(key: String, value: String)] {
    bytes.withUnsafeBytes { raw in
      var reader = ProtobufReader(raw)
      var entries: [(String, String)] = []
      while let (field, wireType) = reader.tag() {
        if field == 14 && wireType == 2 {
          guard let entry = reader.lengthDelimited() else { return [] }
          var inner = ProtobufReader(entry)
          var key = ""
          var value = ""
          while let (innerField, innerType) = inner.tag() {
            if innerType == 2, innerField == 1 || innerField == 2, let text = inner.lengthDelimited() {
              let string = String(decoding: text, as: UTF8.self)
              if innerField == 1 { key = string } else { value = string }
            } else if !inner.skip(wireType: innerType) {
              break
            }
          }
          entries.append((key, value))
        } else if !reader.skip(wireType: wireType) {
          return entries
        }
      }
      return entries
    }
  }
}

/// A bounds-checked reader of protobuf wire format.
struct ProtobufReader {
  private let bytes: UnsafeRawBufferPointer
  private var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// The next field number and wire type, or nil at the end or on a malformed tag.
  mutating func tag() -> (field: UInt64, wireType: UInt64)? {
    guard offset < bytes.count, let key = varint(), key >> 3 > 0 else { return nil }
    return (key >> 3, key & 7)
  }

  mutating func varint() -> UInt64? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.count, shift < 64 {
      let byte = bytes[offset]
      offset += 1
      value |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
    }
    return nil
  }

  /// A length-delimited field's bytes, or nil when its length runs past the end.
  mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
    guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
    let start = offset
    offset += Int(length)
    return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
  }

  /// Skips a field's value; false when it cannot (unknown wire type, past the end).
  mutating func skip(wireType: UInt64) -> Bool {
    switch wireType {
    case 0: return varint() != nil
    case 1, 5:
      let size = wireType == 1 ? 8 : 4
      guard bytes.count - offset >= size else { return false }
      offset += size
      return true
    case 2: return lengthDelimited() != nil
    default: return false
    }
  }
}
