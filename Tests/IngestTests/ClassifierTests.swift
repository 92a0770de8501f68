import Foundation
import Index
@testable import Ingest
import Media
import TestSupport
import Testing

/// The CNN classifier's model: found in order, checked by its SHA-256 before use.
struct ClassifierModelTests {
  @Test func missingTruncatedOrWrongModelsAreClearErrors() throws {
    let folder = try TestPaths.temporaryFolder("lrj-model")
    defer { try? FileManager.default.removeItem(at: folder) }
    let missing = folder.appendingPathComponent("absent.onnx").path
    let empty = folder.appendingPathComponent("empty.onnx").path
    let wrong = folder.appendingPathComponent("wrong.onnx").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    _ = FileManager.default.createFile(atPath: wrong, contents: Data("not a network".utf8))
    var cases = [(missing, "no such file"), (empty, "empty"), (wrong, "is not the expected"), (folder.path, "folder")]
    if let model = TestPaths.classifierModel {
      let truncated = folder.appendingPathComponent("truncated.onnx").path
      let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
      _ = FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(bytes.count / 2))
      cases.append((truncated, "truncated, damaged or another model"))
    }
    for (path, cause) in cases {
      #expect {
        _ = try ClassifierModel(verifying: path)
      } throws: { error in
        let text = String(describing: error)
        return text.hasPrefix("model \(path): ") && text.contains(cause)
      }
      // The detector checks again, on the bytes it builds the network from.
      #expect(throws: ClassifierError.self) {
        _ = try OpenCVDetector(model: ClassifierModel(unverifiedPath: path))
      }
    }
  }

  @Test func locateByPrecedence() throws {
    let home = try TestPaths.temporaryFolder("lrj-home")
    defer { try? FileManager.default.removeItem(at: home) }
    #expect(ClassifierModel.locate(explicit: nil, environment: [:], home: home) == nil)
    let installed = home.appendingPathComponent("models/yolox_nano.onnx")
    try FileManager.default.createDirectory(at: installed.deletingLastPathComponent(), withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: installed.path, contents: Data("x".utf8))
    #expect(ClassifierModel.locate(explicit: nil, environment: [:], home: home)?.source == .home)
    let fromEnvironment = ClassifierModel.locate(explicit: nil, environment: ["LRJ_MODEL": "/e.onnx"], home: home)
    #expect(fromEnvironment?.path == "/e.onnx" && fromEnvironment?.source == .environment)
    let fromOption = ClassifierModel.locate(explicit: "/o.onnx", environment: ["LRJ_MODEL": "/e.onnx"], home: home)
    #expect(fromOption?.path == "/o.onnx" && fromOption?.source == .option)
  }
}

/// Votes from detections (no network needed).
struct CropVoteTests {
  let classifier = CropClassifier()
  let target = Rect(x: 40, y: 20, width: 60, height: 120)

  func detection(_ coco: Int, _ score: Double, _ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Detection {
    Detection(box: Rect(x: x, y: y, width: w, height: h), score: score, cocoClass: coco)
  }

  @Test func theDetectionOnTheTrackedBoxVotes() {
    #expect(classifier.vote([detection(0, 0.8, 42, 22, 56, 115)], target: target)! == (.person, 0.8))
    #expect(classifier.vote([detection(2, 0.9, 40, 60, 60, 60)], target: target)?.0 == .car)
    #expect(classifier.vote([detection(7, 0.6, 40, 20, 60, 120)], target: target)?.0 == .busTruck)
    #expect(classifier.vote([detection(5, 0.6, 40, 20, 60, 120)], target: target)?.0 == .busTruck)
    #expect(classifier.vote([detection(16, 0.6, 40, 60, 60, 80)], target: target)?.0 == .other)  // a dog
    // Too weak, elsewhere in the crop, or not a thing that moves through a street: no vote.
    #expect(classifier.vote([detection(0, 0.2, 42, 22, 56, 115)], target: target) == nil)
    #expect(classifier.vote([detection(0, 0.9, 150, 10, 30, 80)], target: target) == nil)
    #expect(classifier.vote([detection(67, 0.9, 40, 20, 60, 120)], target: target) == nil)  // "cell phone"
    #expect(classifier.vote([detection(4, 0.9, 40, 20, 60, 120)], target: target) == nil)  // "airplane"
  }

  @Test func aPersonOnABicycleIsATwoWheeler() {
    let rider = detection(0, 0.85, 45, 20, 50, 80)
    let bicycle = detection(1, 0.6, 40, 70, 60, 70)
    #expect(classifier.vote([rider, bicycle], target: target)?.0 == .twoWheeler)
    // A bicycle beside the tracked person, not under them, does not make them a rider.
    let parked = detection(1, 0.6, 110, 80, 50, 60)
    #expect(classifier.vote([rider, parked], target: target)?.0 == .person)
    #expect(classifier.vote([detection(3, 0.7, 40, 40, 60, 100)], target: target)?.0 == .twoWheeler)
  }

  @Test func electionWeighsScoresAndCountsMisses() {
    let votes: [(ObjectClass, Double)?] = [(.car, 0.9), (.car, 0.7), (.busTruck, 0.8), nil]
    let elected = classifier.elect(votes)
    #expect(elected?.0 == .car && elected?.1 == 0.4)
    #expect(classifier.elect([nil, nil]) == nil)
    #expect(classifier.elect([]) == nil)
  }
}

/// The shim on real crops of ../shared/footage, cut by hand around objects (skipped when absent).
struct ObjectDetectorTests {
  static var available: Bool { TestPaths.classifierModel != nil && TestPaths.footage != nil }

  /// Frame `index` of a shared clip, 4:2:0 at source size, as the analysis gets it.
  static func frame(_ clip: String, _ index: Int) throws -> YUVImage {
    let path = try #require(TestPaths.footage).appendingPathComponent(clip).path
    let decoder = try Decoder(path: path, format: FrameFormat(layout: .yuv420))
    while let frame = try decoder.nextFrame() {
      if frame.index == index, case .yuv(let picture) = frame.image { return picture }
    }
    throw ClassifierError("frame \(index) of \(clip) not found")
  }

  @Test(.enabled(if: available, "../shared/models or ../shared/footage is absent"))
  func classifiesRealCrops() throws {
    let model = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    let detector = try OpenCVDetector(model: model)
    let classifier = CropClassifier()
    // (clip, frame, tracked box in source pixels, expected class), located by hand.
    let cases: [(String, Int, Rect, ObjectClass)] = [
      ("campus-crosswalk/crosswalk.mp4", 60, Rect(x: 333, y: 255, width: 34, height: 88), .person),  // woman walking
      ("campus-crosswalk/crosswalk.mp4", 60, Rect(x: 200, y: 162, width: 59, height: 34), .car),  // green hatchback
      ("ahmetozlu-residential-road/input_video.mp4", 150, Rect(x: 212, y: 118, width: 56, height: 44), .car),  // pickup
      ("intel-sample-videos/person-bicycle-car-detection.mp4", 300, Rect(x: 5, y: 43, width: 47, height: 75), .person),
    ]
    for (clip, index, box, expected) in cases {
      let picture = try Self.frame(clip, index)
      let crop = try #require(Analyzer.squareCrop(picture, box: box, factor: 1, inputSize: 224))
      let detections = try detector.detect(crop.picture, size: 224)
      let vote = classifier.vote(detections, target: crop.target)
      #expect(vote?.0 == expected, "\(clip) frame \(index): \(detections)")
      #expect((vote?.1 ?? 0) >= 0.5, "\(clip) frame \(index): \(detections)")
    }
  }

  @Test(.enabled(if: TestPaths.classifierModel != nil, "../shared/models is absent"))
  func badInputSizeIsAnErrorFromTheShim() throws {
    let model = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    let detector = try OpenCVDetector(model: model)
    let odd = NetworkInput(width: 100, height: 64, values: [Float](repeating: 114, count: 3 * 100 * 64), originX: 0,
                           originY: 0, scale: 1)
    #expect {
      _ = try detector.forward(odd)
    } throws: { error in
      String(describing: error).contains("invalid arguments")
    }
    // A blank picture gives nothing, and a tiny one is accepted.
    #expect(try detector.detect(RGBImage(width: 50, height: 30, fill: (114, 114, 114)), size: 160).isEmpty)
    #expect(try detector.detect(RGBImage(width: 1, height: 1), size: 160).count >= 0)
  }
}

/// A whole ingest with the CNN: decoding thread and analysis thread, the network on the latter.
struct ClassifiedIngestTests {
  @Test(.enabled(if: ObjectDetectorTests.available, "../shared/models or ../shared/footage is absent"))
  func ingestWithTheModelClassesTheCrossing() throws {
    var settings = AnalysisSettings()
    settings.classifierModel = try ClassifierModel(verifying: try #require(TestPaths.classifierModel))
    let store = try IndexStore.inMemory()
    let clip = try #require(TestPaths.footage).appendingPathComponent("campus-crosswalk/crosswalk.mp4").path
    let report = try Ingestor(store: store, settings: settings).ingest(
      path: clip, camera: "crosswalk", start: try WallClockTime(iso8601: "2026-03-01T10:00:00+00:00"))
    #expect(report.classifier == "cnn" && report.modelSHA256 == ClassifierModel.expectedSHA256)
    #expect((report.classifiedCrops ?? 0) > 0)
    #expect((report.tracks["person"] ?? 0) >= 3 && (report.tracks["car"] ?? 0) >= 1, "\(report.tracks)")
  }
}
