import Foundation
import Media
import TestSupport
import Testing

/// The committed Samples clip agrees with its ground truth.
struct SamplesTests {
  static func truth() throws -> SamplesTruth { try SamplesTruth.load() }

  @Test func clipIsSmallAndShort() throws {
    let size = try FileManager.default.attributesOfItem(atPath: TestPaths.samplesClip)[.size] as? Int ?? 0
    #expect(size <= 4_000_000)
    let decoder = try Decoder(path: TestPaths.samplesClip)
    #expect((decoder.info.duration ?? 99) <= 60)
  }

  @Test func truthCoversTheScene() throws {
    let truth = try Self.truth()
    #expect(truth.width == 1280 && truth.height == 720 && truth.fps == 25 && truth.frames == 1000)
    #expect(Set(truth.objects.map(\.class)) == ["person", "car", "two-wheeler", "bus-truck"])
    #expect(Set(truth.objects.map(\.direction)).isSuperset(of: ["left", "right", "down", "up-right"]))
    for object in truth.objects {
      for box in object.boxes {
        #expect(box[1] >= 0 && box[2] >= 0 && box[3] > 0 && box[4] > 0)
        #expect(box[1] + box[3] <= truth.width && box[2] + box[4] <= truth.height)
      }
    }
  }

  /// In each object's middle frame, its box holds a good share of pixels of its colour.
  @Test func objectsAreWhereTheTruthSays() throws {
    let truth = try Self.truth()
    let decoder = try Decoder(path: TestPaths.samplesClip, format: .sourceRGB)
    for object in truth.objects {
      let box = object.boxes[object.boxes.count / 2]
      try decoder.seek(to: Double(box[0]) / Double(truth.fps))
      let frame = try #require(try decoder.nextFrame())
      #expect(frame.index == box[0])
      guard case .rgb(let image) = frame.image else { continue }
      var near = 0
      for y in box[2]..<(box[2] + box[4]) {
        for x in box[1]..<(box[1] + box[3]) {
          let i = (y * image.width + x) * 3
          let distance = (0..<3).map { abs(Int(image.pixels[i + $0]) - object.rgb[$0]) }.max()!
          if distance < 40 { near += 1 }
        }
      }
      let share = Double(near) / Double(box[3] * box[4])
      #expect(share > 0.2, "object \(object.id) (\(object.colour) \(object.class)): \(share) of its box")
    }
  }
}
