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

/// From the detector's boxes to observations, and from votes to a class (no network needed).
struct DetectionPlanningTests {
  func detection(_ coco: Int, _ score: Double, _ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Detection {
    Detection(box: Rect(x: x, y: y, width: w, height: h), score: score, cocoClass: coco)
  }

  func classes(_ detections: [Detection]) -> [ObjectClass] {
    DetectionPlanning.observations(detections, pictureWidth: 640, pictureHeight: 480, factor: 2).map(\.objectClass)
  }

  @Test func classesMapAndMisreadingsAreDropped() {
    #expect(classes([detection(0, 0.8, 42, 22, 56, 115)]) == [.person])
    #expect(classes([detection(7, 0.6, 40, 20, 60, 120)]) == [.busTruck])
    #expect(classes([detection(16, 0.6, 40, 60, 60, 80)]) == [.other])  // a dog
    #expect(classes([detection(67, 0.9, 40, 20, 60, 120)]).isEmpty)  // "cell phone"
    #expect(classes([detection(4, 0.9, 40, 20, 60, 120)]).isEmpty)  // "airplane"
    // Boxes are clipped to the picture and scaled to model pixels.
    let o = DetectionPlanning.observations([detection(2, 0.9, -10, 400, 100, 100)], pictureWidth: 640, pictureHeight: 480,
                                           factor: 2)
    #expect(o.first?.box == Rect(x: 0, y: 200, width: 45, height: 40))
  }

  @Test func aPersonOnABicycleIsOneTwoWheeler() {
    let rider = detection(0, 0.85, 45, 20, 50, 80)
    let bicycle = detection(1, 0.6, 40, 70, 60, 70)
    #expect(classes([rider, bicycle]) == [.twoWheeler])
    // A bicycle away from the person does not make them a rider.
    let parked = detection(1, 0.6, 130, 80, 50, 60)
    #expect(classes([rider, parked]).sorted { $0.rawValue < $1.rawValue } == [.person, .twoWheeler])
  }

  @Test func oneVehicleSeenAsCarAndTruckIsOneObservation() {
    #expect(classes([detection(2, 0.7, 100, 100, 80, 50), detection(7, 0.5, 102, 98, 80, 52)]) == [.car])
    // The full frame and a crop seeing the same person: one.
    #expect(classes([detection(0, 0.7, 100, 100, 20, 50), detection(0, 0.8, 101, 101, 20, 49)]) == [.person])
  }

  @Test func cropsGoWhereSmallMoversAre() {
    // 1920x1080 on a 416 input: 4.6 source pixels per input pixel.
    let small = Rect(x: 900, y: 100, width: 30, height: 70)  // 15 input pixels tall
    let large = Rect(x: 100, y: 500, width: 200, height: 400)
    let crops = DetectionPlanning.crops(
      candidates: [large, small, Rect(x: 905, y: 110, width: 20, height: 40)], pictureWidth: 1920, pictureHeight: 1080,
      fullFrameScale: 4.6, smallHeight: 48, cropSide: 256, maximum: 2)
    #expect(crops == [DetectionPlanning.Region(x: 787, y: 7, side: 256)], "one crop around the small ones")
    // A crop at the picture's corner stays inside it; a full frame already at source size needs none.
    let corner = DetectionPlanning.crops(
      candidates: [Rect(x: 0, y: 1060, width: 10, height: 20)], pictureWidth: 1920, pictureHeight: 1080,
      fullFrameScale: 4.6, smallHeight: 48, cropSide: 256, maximum: 2)
    #expect(corner == [DetectionPlanning.Region(x: 0, y: 824, side: 256)])
    #expect(DetectionPlanning.crops(candidates: [small], pictureWidth: 640, pictureHeight: 480, fullFrameScale: 1.2,
                                    smallHeight: 48, cropSide: 256, maximum: 2).isEmpty)
    // Detections cut by a crop's inner edge are dropped; at the picture's edge they stay.
    let region = DetectionPlanning.Region(x: 100, y: 0, side: 256)
    let kept = DetectionPlanning.insideCrop(
      [detection(0, 0.9, 101, 10, 20, 40), detection(0, 0.9, 150, 0, 20, 40), detection(0, 0.9, 200, 100, 20, 40)],
      region: region, pictureWidth: 1920, pictureHeight: 1080)
    #expect(kept.map(\.box.x) == [150, 200])
  }

  @Test func votesOverTheWholeTrackElectTheClass() {
    let elected = Describer.elect([.car: 2.4, .busTruck: 0.8], detections: 4)
    #expect(elected?.0 == .car && elected?.1 == 0.6)
    // A person seen with a two-wheeler under them in part of the views is a two-wheeler.
    #expect(Describer.elect([.person: 6, .twoWheeler: 2], detections: 10)?.0 == .twoWheeler)
    #expect(Describer.elect([.person: 6, .twoWheeler: 1], detections: 10)?.0 == .person)
    #expect(Describer.elect([:], detections: 0) == nil)
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
      let observed = DetectionPlanning.observations(
        detections, pictureWidth: crop.picture.width, pictureHeight: crop.picture.height, factor: 1)
      let best = observed.filter { $0.box.iou(crop.target) >= 0.2 }.max { $0.score < $1.score }
      #expect(best?.objectClass == expected, "\(clip) frame \(index): \(detections)")
      #expect((best?.score ?? 0) >= 0.5, "\(clip) frame \(index): \(detections)")
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
    #expect((report.detectorFrames ?? 0) > 0 && report.detectorRuntime != nil)
    #expect((report.tracks["person"] ?? 0) >= 3 && (report.tracks["car"] ?? 0) >= 1, "\(report.tracks)")
  }
}
