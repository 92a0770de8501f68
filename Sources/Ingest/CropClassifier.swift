import Foundation
import Index
import Media

internal import CObjectClassifier

/// One box found by the network, in the pixels of the picture it was given.
struct Detection: Equatable {
  var box: Rect
  var score: Double
  /// COCO class index (0 person, 1 bicycle, 2 car, 3 motorcycle, 5 bus, 7 truck, …).
  var cocoClass: Int
}

/// The YOLOX-nano network loaded by OpenCV DNN: one per instance, used by one thread only (it is
/// not Sendable, so the compiler keeps it on the thread that made it).
final class ObjectDetector {
  private let handle: OpaquePointer
  /// The square network input, in pixels.
  let inputSize: Int

  /// Loads the network from the verified bytes of `model`.
  /// - Parameters:
  ///   - inputSize: the square network input (a multiple of 32; lrj uses 160 to 256).
  ///   - threads: OpenCV's worker threads (process-wide); 1 keeps the work on the calling thread.
  /// - Throws: `ClassifierError` when the file fails its check or OpenCV cannot use it.
  init(model: ClassifierModel, inputSize: Int, threads: Int = 1) throws {
    let bytes = try ClassifierModel.verifiedBytes(model.path)
    var message = [CChar](repeating: 0, count: 1024)
    let opened = bytes.withUnsafeBytes { raw in
      lrj_detector_open(raw.baseAddress, raw.count, Int32(inputSize), Int32(threads), &message, message.count)
    }
    guard let opened else {
      throw ClassifierError("model \(model.path): \(Self.text(message))")
    }
    handle = opened
    self.inputSize = inputSize
  }

  deinit {
    lrj_detector_close(handle)
  }

  /// The boxes of score at least `minimumScore` in `picture`, best first.
  /// - Throws: `ClassifierError` when OpenCV fails on the picture.
  func detect(_ picture: RGBImage, minimumScore: Double = 0.25, nmsIoU: Double = 0.45) throws -> [Detection] {
    var found = [lrj_detection](repeating: lrj_detection(), count: 32)
    var message = [CChar](repeating: 0, count: 512)
    let count = picture.pixels.withUnsafeBytes { raw in
      lrj_detector_run(
        handle, raw.baseAddress, Int32(picture.width), Int32(picture.height), Int32(picture.width * 3),
        Float(minimumScore), Float(nmsIoU), &found, Int32(found.count), &message, message.count)
    }
    guard count >= 0 else { throw ClassifierError("object classifier: \(Self.text(message))") }
    return found.prefix(Int(count)).map {
      Detection(
        box: Rect(x: Double($0.x), y: Double($0.y), width: Double($0.width), height: Double($0.height)),
        score: Double($0.score), cocoClass: Int($0.class_id))
    }
  }

  /// The version of OpenCV the detector runs on.
  static var openCVVersion: String { String(cString: lrj_detector_opencv_version()) }

  private static func text(_ message: [CChar]) -> String {
    let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// A crop of the source picture around a tracked object, kept for classification.
struct CropSample {
  /// The square crop with margin (smaller when it meets the picture's edge), already reduced to
  /// about the network's input size.
  var picture: RGBImage
  /// The tracked box inside `picture`, in its pixels.
  var target: Rect
  /// The tracked box's area in model pixels (to keep the largest view).
  var area: Double
  var time: Double
}

/// The COCO classes lrj uses, and what each means for a moving object.
enum COCOClass {
  static let person = 0
  static let bicycle = 1
  static let car = 2
  static let motorcycle = 3
  static let bus = 5
  static let truck = 7

  /// The lrj class a whole-object COCO class stands for, or nil for classes that cannot be a
  /// moving object of a street scene: airplane and boat (4, 8), street furniture (9…13), carried
  /// or indoor objects and food (24…79). A moving track seen as one of those is a misreading (a
  /// car seen from above reads as a "cell phone", a school bus or a dark car at dusk as an
  /// "airplane"), and such a crop casts no vote. Trains and animals are `other`.
  static func objectClass(_ coco: Int) -> ObjectClass? {
    switch coco {
    case person: .person
    case bicycle, motorcycle: .twoWheeler
    case car: .car
    case bus, truck: .busTruck
    case 6: .other  // train
    case 14...23: .other  // bird, cat, dog, horse, sheep, cow, elephant, bear, zebra, giraffe
    default: nil
    }
  }
}

/// Classes a track from the crops of it: each crop votes for the lrj class of the detection that
/// matches the tracked box, and the votes, weighted by the network's scores, elect the class.
struct CropClassifier {
  /// A detection below this score casts no vote.
  var minimumScore = 0.35
  /// A detection must overlap the tracked box at least this much (intersection over union).
  var minimumOverlap = 0.2

  /// The lrj class one crop votes for, with the network's score, or nil when nothing in the crop
  /// matches the tracked box confidently.
  func vote(_ detections: [Detection], target: Rect) -> (ObjectClass, Double)? {
    let candidates = detections.filter {
      COCOClass.objectClass($0.cocoClass) != nil && $0.score >= minimumScore && $0.box.iou(target) >= minimumOverlap
    }
    guard let best = candidates.max(by: { $0.score * $0.box.iou(target) < $1.score * $1.box.iou(target) }) else {
      return nil
    }
    guard let objectClass = COCOClass.objectClass(best.cocoClass) else { return nil }
    if objectClass == .person {
      // A rider: a bicycle or motorcycle under the person, both on the tracked object.
      let ridden = detections.first { d in
        COCOClass.objectClass(d.cocoClass) == .twoWheeler && d.score >= minimumScore
          && d.box.intersectionArea(best.box) >= 0.2 * min(d.box.area, best.box.area)
          && d.box.intersectionArea(target) >= 0.5 * d.box.area
          && d.box.centreY > best.box.centreY
      }
      if let ridden { return (.twoWheeler, max(best.score, ridden.score)) }
    }
    return (objectClass, best.score)
  }

  /// The elected class and its confidence from the votes of `samples` crops (nil votes are crops
  /// where nothing matched), or nil when no crop voted: the caller keeps the geometric class then.
  /// The confidence is the winner's summed score over the number of crops, so it is high only
  /// when most crops saw the same class with a high score.
  func elect(_ votes: [(ObjectClass, Double)?]) -> (ObjectClass, Double)? {
    var totals: [ObjectClass: Double] = [:]
    for case let (objectClass, score)? in votes { totals[objectClass, default: 0] += score }
    // Ties go to the order of ObjectClass.allCases, so the result never depends on hashing.
    guard let winner = ObjectClass.allCases.compactMap({ c in totals[c].map { (c, $0) } })
      .max(by: { $0.1 < $1.1 })
    else { return nil }
    let confidence = winner.1 / Double(max(1, votes.count))
    return (winner.0, (min(1, confidence) * 100).rounded() / 100)
  }
}
