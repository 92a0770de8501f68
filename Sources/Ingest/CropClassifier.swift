import Foundation
import Index
import Media

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
