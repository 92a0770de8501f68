import Consultation
import Foundation
import L7Rules
import TestSupport
import Testing

/// L7: no biometric processing, excluded from the program itself. These tests fail if a source
/// file, a package dependency or a library linked into the binary brings such a capability.
struct BiometricExclusionTests {
  // The sources, Package.swift and module maps are checked by the build itself (the L7Check
  // plugin applies Plugins/L7Rules to every target); L7RulesTests tests the rules and shows that a
  // planted file fails `swift build`.

  @Test func theBinaryLinksNoFaceOrBiometricLibrary() throws {
    let binary = TestPaths.products.appendingPathComponent("lrj").path
    let linked = try Run.program("ldd", [binary])
    try #require(linked.status == 0, "ldd \(binary)")
    // Library names and paths only: the load addresses are hexadecimal, and an address such as
    // 0x00007f95dface000 once made "face" appear (ASLR picks them at random).
    let libraries = linked.standardOutput.lowercased().replacing(/\(0x[0-9a-f]+\)/, with: "")
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
    #expect(L7Rules.scan(capabilityText, file: "manifest", kind: .buildConfiguration).isEmpty)
    for name in manifest.objectClasses { #expect(L7Rules.refusedClassReason(name) == nil, "\(name)") }
    var changed = manifest
    changed.objectClasses.append("something-else")
    #expect(changed.sha256 != manifest.sha256)
    #expect(manifest.sha256 == CapabilityManifest.current.sha256)
  }
}
