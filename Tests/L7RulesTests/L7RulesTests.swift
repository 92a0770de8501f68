import Foundation
import L7Rules
import TestSupport
import Testing

/// The rules of L7 themselves: what they refuse, what they leave alone, and that the package's own
/// sources pass them (the build checks this too, through the BiometricExclusion plugin).
struct L7RulesTests {
  static func findings(_ text: String, kind: L7FileKind = .source) -> [L7Finding] {
    L7Rules.scan(text, file: "x.swift", kind: kind)
  }

  @Test func biometricProcessingIsFound() {
    let refused = [
      "func detectFaces(in picture: RGBImage) -> [Rect]",
      "let faceEmbedding = network.forward(crop)",
      "struct FaceLandmarks {}",
      "// estimate the gender of each person",
      "var skinTone: Double",
      "case hairColour",
      "let ageEstimate = 31",
      "func reIdentify(_ a: Track, _ b: Track)",
      "let reid = ReID(model)",
      "appearance_similarity(a, b)",
      "#include <opencv2/objdetect.hpp>",
      "cv::CascadeClassifier classifier(\"haarcascade_frontalface_default.xml\");",
      "auto detector = cv::FaceDetectorYN::create(model, \"\", size);",
      "#include <dlib/image_processing/frontal_face_detector.h>",
      "import InsightFace",
      "gaitRecognition(track)",
      "let personAttributes = classify(crop)",
    ]
    for line in refused {
      #expect(!Self.findings(line).isEmpty, "\(line)")
    }
    let finding = Self.findings("let a = 1\n\nfunc detectFaces() {}\n").first
    #expect(finding?.line == 3 && finding?.file == "x.swift")
    #expect(finding?.description.hasPrefix("x.swift:3: error: L7") == true, "\(finding?.description ?? "")")
  }

  @Test func legitimateWordsAreLeftAlone() {
    let allowed = [
      "public protocol FrameSource: Sendable {}  // an interface to the decoder",
      "draws on the surface of the overlay",
      "the clock's typeface is a 5x7 bitmap font",
      "package func seal() {}",
      "let packageClass = \"lrj\"",
      "a package classifies by age of the file",
      "these rows are identified by their sequence number",
      "let average = sum / count",
      "the key fingerprint is shown",
      "cage estimate",
      "lrj has no biometric capability: it is excluded from the program, not switched off (L7)",
      "\"face\", \"faces\", \"facial\", \"biometric\",  // refused terms (L7)",
    ]
    for line in allowed {
      #expect(Self.findings(line).isEmpty, "\(line): \(Self.findings(line))")
    }
  }

  /// In Package.swift and module maps nothing is exempt, and libraries are never exempt anywhere.
  @Test func buildConfigurationAndLibrariesHaveNoExemption() {
    #expect(!Self.findings("linkerSettings: [.linkedLibrary(\"opencv_face\")]  // refused", kind: .buildConfiguration).isEmpty)
    #expect(!Self.findings(".package(url: \"https://github.com/davisking/dlib\", from: \"19.0.0\"),", kind: .buildConfiguration).isEmpty)
    #expect(!Self.findings("  link \"opencv_objdetect\"", kind: .buildConfiguration).isEmpty)
    #expect(!Self.findings("// excluded: we never link it\n-lopencv_objdetect // excluded").isEmpty)
    #expect(!Self.findings("face detection (excluded)", kind: .buildConfiguration).isEmpty)
    #expect(Self.findings("face detection (excluded)", kind: .source).isEmpty)
  }

  @Test func fileNames() {
    #expect(L7Rules.scanFileName("Sources/Ingest/FaceEmbedder.swift")?.line == 1)
    #expect(L7Rules.scanFileName("Sources/CDetector/include/dlib_shim.h") != nil)
    for path in ["Sources/Media/Surface.swift", "Sources/lrj/Interface.swift", "Sources/Index/Package+Age.swift"] {
      #expect(L7Rules.scanFileName(path) == nil, "\(path)")
    }
  }

  @Test func fileKinds() {
    #expect(L7FileKind.of(path: "/a/Package.swift") == .buildConfiguration)
    #expect(L7FileKind.of(path: "Sources/CFFmpeg/module.modulemap") == .buildConfiguration)
    for name in ["a.swift", "b.c", "c.h", "d.cpp", "e.hpp", "f.mm"] { #expect(L7FileKind.of(path: name) == .source) }
    for name in ["README.md", "model.onnx", "Makefile", "notes.txt"] { #expect(L7FileKind.of(path: name) == nil) }
  }

  /// A detector's class names: faces and persons' traits refused, objects (COCO's included) not.
  @Test func detectorClassNames() {
    for name in ["face", "Face", "human_face", "faces", "Female", "male", "man", "woman", "child", "AgeOver60",
                 "Age18-60", "hairLong", "hair", "bald", "beard", "skin", "personalLess30", "gait", "smile"] {
      #expect(L7Rules.refusedClassReason(name) != nil, "\(name)")
    }
    let coco = ["person", "bicycle", "car", "motorcycle", "bus", "truck", "traffic light", "stop sign", "handbag",
                "backpack", "tie", "hair drier", "toothbrush", "teddy bear", "wine glass", "surfboard", "cell phone"]
    for name in coco {
      #expect(L7Rules.refusedClassReason(name) == nil, "\(name): \(L7Rules.refusedClassReason(name) ?? "")")
    }
  }

  /// The sources, Package.swift and module maps of this package pass the rules (what the build's
  /// plugin checks; here without building).
  @Test func thePackagePassesTheRules() throws {
    var files = [TestPaths.repository.appendingPathComponent("Package.swift")]
    let sources = TestPaths.repository.appendingPathComponent("Sources")
    let walker = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
    for case let url as URL in walker where L7FileKind.of(path: url.path) != nil { files.append(url) }
    #expect(files.count > 50)
    var findings: [L7Finding] = []
    for file in files {
      let text = try String(contentsOf: file, encoding: .utf8)
      findings += L7Rules.scan(text, file: file.path, kind: try #require(L7FileKind.of(path: file.path)))
    }
    #expect(findings.isEmpty, "\(findings.map(\.description).joined(separator: "\n"))")
  }
}
