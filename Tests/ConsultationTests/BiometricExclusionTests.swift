import Consultation
import Foundation
import TestSupport
import Testing

/// L7: no biometric processing, excluded from the program itself. These tests fail if a source
/// file, a package dependency or a library linked into the binary brings such a capability.
struct BiometricExclusionTests {
  /// Words that would name biometric or person-attribute processing.
  static var forbidden: Regex<AnyRegexOutput> { try! Regex(
    #"(\bfaces?\b|face_?(detect|recogn|embed|landmark|match|id|print)|facial|biometric|gender|ethnic|skin[_ -]?(tone|colou?r)|hair[_ -]?colou?r|age[_ -]?estimat|re-?identif|\breid\b|appearance[_ -]?similar|haarcascade|dlib)"#
  ).ignoresCase() }
  /// A line may name them only to refuse or exclude them.
  static var allowed: Regex<AnyRegexOutput> { try! Regex(
    #"(interface|surface|typeface|refused|reject|exclu|forbid|not (supported|available)|no biometric|biometric.*(absent|excluded|refus))"#
  ).ignoresCase() }

  @Test func sourcesAndDependenciesNameNoBiometricProcessing() throws {
    var files = [TestPaths.repository.appendingPathComponent("Package.swift")]
    let sources = TestPaths.repository.appendingPathComponent("Sources")
    let walker = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
    for case let url as URL in walker where ["swift", "c", "h", "cpp", "modulemap"].contains(url.pathExtension) {
      files.append(url)
    }
    #expect(files.count > 10)
    var offending: [String] = []
    for file in files {
      let text = try String(contentsOf: file, encoding: .utf8)
      for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      where line.contains(Self.forbidden) && !line.contains(Self.allowed) {
        offending.append("\(file.lastPathComponent):\(number + 1): \(line)")
      }
    }
    #expect(offending.isEmpty, "\(offending.joined(separator: "\n"))")
  }

  @Test func theBinaryLinksNoFaceOrBiometricLibrary() throws {
    let binary = TestPaths.products.appendingPathComponent("lrj").path
    let linked = try Run.program("ldd", [binary])
    try #require(linked.status == 0, "ldd \(binary)")
    let libraries = linked.standardOutput.lowercased()
    #expect(libraries.contains("libavcodec"), "ldd lists the libraries: \(libraries)")
    for name in ["dlib", "face", "opencv_face", "opencv_objdetect", "insightface", "openbr", "biometric"] {
      #expect(!libraries.contains(name), "\(name) is linked into lrj")
    }
    // The CNN classifier links OpenCV's core, imgproc and dnn modules and nothing else of OpenCV
    // (no objdetect with its cascades, no contrib face module).
    let openCV = Set(libraries.matches(of: /libopencv_([a-z0-9_]+)\.so/).map { String($0.output.1) })
    #expect(openCV.isSubset(of: ["core", "imgproc", "dnn"]), "OpenCV modules linked: \(openCV.sorted())")
  }

  @Test func manifestStatesTheAbsenceAndHashesItsContent() throws {
    let manifest = CapabilityManifest.current
    #expect(manifest.exclusionStatement.hasPrefix("lrj has no biometric capability"))
    #expect(manifest.excludedByConstruction.contains("face recognition"))
    let capabilityText = (manifest.objectClasses + manifest.colours + manifest.directions + manifest.queryPredicates)
      .joined(separator: " ")
    #expect(!capabilityText.contains(Self.forbidden))
    var changed = manifest
    changed.objectClasses.append("something-else")
    #expect(changed.sha256 != manifest.sha256)
    #expect(manifest.sha256 == CapabilityManifest.current.sha256)
  }
}
