import Index

/// Where the detector looks on an analysed frame, and how its boxes become observations: pure
/// functions over boxes, tested without a network.
enum DetectionPlanning {
  /// A region of the source picture to run the detector on, in source pixels.
  struct Region: Equatable {
    var x: Int
    var y: Int
    var side: Int
  }

  /// Motion-centred crops at source resolution for the small movers a letterboxed full frame
  /// shrinks below what the network sees.
  ///
  /// - Parameters:
  ///   - candidates: boxes (source pixels) of blobs no detection explains and of tracks the full
  ///     frame did not find, most important first.
  ///   - fullFrameScale: source pixels per network input pixel of the full frame.
  ///   - smallHeight: a box shorter than this many network input pixels on the full frame is small.
  ///   - cropSide: the crop's network input side; the crop covers `cropSide` source pixels (1:1)
  ///     or more when the object is large, at most `maximum` crops.
  /// - Returns: square regions clipped to the picture, none centred inside another.
  static func crops(
    candidates: [Rect], pictureWidth: Int, pictureHeight: Int, fullFrameScale: Double, smallHeight: Double,
    cropSide: Int, maximum: Int
  ) -> [Region] {
    // Crops add detail only where the full frame is reduced.
    guard fullFrameScale > 1.3, maximum > 0 else { return [] }
    var regions: [Region] = []
    for box in candidates where box.height / fullFrameScale < smallHeight && box.width > 1 && box.height > 1 {
      if regions.count >= maximum { break }
      let covered = regions.contains { r in
        box.x >= Double(r.x) && box.maxX <= Double(r.x + r.side) && box.y >= Double(r.y)
          && box.maxY <= Double(r.y + r.side)
      }
      if covered { continue }
      let side = min(min(pictureWidth, pictureHeight), max(cropSide, Int(3 * max(box.width, box.height))))
      guard side >= 32 else { continue }
      let x = max(0, min(pictureWidth - side, Int(box.centreX) - side / 2))
      let y = max(0, min(pictureHeight - side, Int(box.centreY) - side / 2))
      regions.append(Region(x: x, y: y, side: side))
    }
    return regions
  }

  /// Drops the detections of a crop that its edge cuts (unless that edge is the picture's): the
  /// object is only partly inside, and the full frame or a neighbouring crop sees it whole.
  static func insideCrop(_ detections: [Detection], region: Region, pictureWidth: Int, pictureHeight: Int)
    -> [Detection]
  {
    let margin = 2.0
    return detections.filter { d in
      let left = region.x == 0 || d.box.x > Double(region.x) + margin
      let top = region.y == 0 || d.box.y > Double(region.y) + margin
      let right = region.x + region.side >= pictureWidth || d.box.maxX < Double(region.x + region.side) - margin
      let bottom = region.y + region.side >= pictureHeight || d.box.maxY < Double(region.y + region.side) - margin
      return left && top && right && bottom
    }
  }

  /// The observations of one frame from the detector's boxes (source pixels) of the full frame
  /// and its crops: classes mapped to lrj's (detections of other COCO classes dropped), the same
  /// object seen by the full frame and a crop counted once, a person on (or pushing) a bicycle or
  /// motorcycle made one two-wheeler with the person's box, a vehicle seen as both car and truck made one; boxes clipped to the
  /// picture and scaled by `1 / factor` (model pixels).
  static func observations(_ detections: [Detection], pictureWidth: Int, pictureHeight: Int, factor: Double)
    -> [FusionTracker.Observed]
  {
    var found: [FusionTracker.Observed] = detections.compactMap { d in
      guard let objectClass = COCOClass.objectClass(d.cocoClass) else { return nil }
      let x0 = max(0, d.box.x)
      let y0 = max(0, d.box.y)
      let x1 = min(Double(pictureWidth), d.box.maxX)
      let y1 = min(Double(pictureHeight), d.box.maxY)
      guard x1 - x0 >= 2, y1 - y0 >= 2 else { return nil }
      return FusionTracker.Observed(
        box: Rect(x: x0 / factor, y: y0 / factor, width: (x1 - x0) / factor, height: (y1 - y0) / factor),
        score: d.score, objectClass: objectClass)
    }
    found.sort { ($0.score, -$0.box.x, -$0.box.y) > ($1.score, -$1.box.x, -$1.box.y) }
    // One object, one observation: the same class overlapping (full frame and crop), or two
    // vehicle classes on one vehicle.
    var kept: [FusionTracker.Observed] = []
    for o in found {
      let same = kept.contains { k in
        let iou = k.box.iou(o.box)
        if k.objectClass == o.objectClass { return iou > 0.5 }
        let vehicles: Set<ObjectClass> = [.car, .busTruck]
        return vehicles.contains(k.objectClass) && vehicles.contains(o.objectClass) && iou > 0.6
      }
      if !same { kept.append(o) }
    }
    // Riders: a person whose lower part overlaps a two-wheeler below them (riding or pushing it)
    // is one two-wheeler; the person's box stands for it (where the rider is), the two-wheeler's
    // detection is taken up.
    var used = Set<Int>()
    for (p, person) in kept.enumerated() where person.objectClass == .person {
      let ridden = kept.indices.first { w in
        let wheels = kept[w].box
        return !used.contains(w) && kept[w].objectClass == .twoWheeler
          && wheels.intersectionArea(person.box) >= 0.2 * min(wheels.area, person.box.area)
          && wheels.centreY > person.box.centreY
      }
      guard let ridden else { continue }
      used.insert(ridden)
      kept[p].objectClass = .twoWheeler
      kept[p].score = max(person.score, kept[ridden].score)
    }
    // A person with a two-wheeler beside or under them (pushing it, getting on): a vote for
    // two-wheeler with the person's (the two-wheeler stays an observation of its own).
    for p in kept.indices where kept[p].objectClass == .person && !used.contains(p) {
      let person = kept[p].box
      let wheels = kept.indices.filter { w in
        !used.contains(w) && kept[w].objectClass == .twoWheeler && kept[w].box.intersectionArea(person) > 0
          && kept[w].box.centreY > person.centreY
      }
      kept[p].withTwoWheeler = wheels.map { kept[$0].score }.max() ?? 0
    }
    return kept.indices.filter { !used.contains($0) }.map { kept[$0] }
  }
}
