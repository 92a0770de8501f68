import Foundation
import TestSupport
import Testing

/// L7 at compile time: a copy of the package with forbidden things planted in it does not build,
/// and the build names each planted file, line and rule.
///
/// Affordable in CI: the copy holds only Package.swift, Package.resolved, Sources, Plugins and
/// Tests; it reuses this build's dependency checkouts (hard links, so nothing is cloned or copied)
/// and builds one small target, Media, which needs only swift-log: the plugin, the scanner and the
/// manifest compile, the scan fails, nothing heavy is built (about 30 s on 2 cores).
struct PlantedBuildTests {
  @Test(.timeLimit(.minutes(10)))
  func aPlantedSourceHeaderOrLinkerSettingFailsTheBuild() throws {
    let started = Date()
    let repository = TestPaths.repository
    // Inside .build: the same file system as the checkouts (hard links), ignored by git.
    let copy = repository.appendingPathComponent(".build/l7-planted-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: copy) }
    let files = FileManager.default
    try files.createDirectory(at: copy.appendingPathComponent(".build"), withIntermediateDirectories: true)
    for item in ["Package.swift", "Package.resolved", "Sources", "Plugins", "Tests"]
    where files.fileExists(atPath: repository.appendingPathComponent(item).path) {
      try files.copyItem(at: repository.appendingPathComponent(item), to: copy.appendingPathComponent(item))
    }
    let build = repository.appendingPathComponent(".build")
    if files.fileExists(atPath: build.appendingPathComponent("workspace-state.json").path) {
      let linked = try Run.program(
        "cp", ["-al", build.appendingPathComponent("repositories").path, build.appendingPathComponent("checkouts").path,
               copy.appendingPathComponent(".build").path])
      if linked.status == 0 {
        try files.copyItem(at: build.appendingPathComponent("workspace-state.json"),
                           to: copy.appendingPathComponent(".build/workspace-state.json"))
      }
    }

    // 1. A Swift source of Media.
    try Data("import Foundation\n\n/// The boxes of every face in `picture`.\nfunc locateFaces(in picture: Data) -> [Int] { [] }\n".utf8)
      .write(to: copy.appendingPathComponent("Sources/Media/Planted.swift"))
    // 2. A header in a system-library target Media depends on (no plugin runs for those).
    try Data("#include <opencv2/objdetect.hpp>\n".utf8).write(to: copy.appendingPathComponent("Sources/CFFmpeg/planted.h"))
    // 3. A linker setting in Package.swift, on a target Media does not even depend on.
    let manifestURL = copy.appendingPathComponent("Package.swift")
    let manifest = try String(contentsOf: manifestURL, encoding: .utf8)
    let flag = #""-lopencv_dnn","#
    try #require(manifest.contains(flag))
    try manifest.replacingOccurrences(of: flag, with: #""-lopencv_face", "-lopencv_dnn","#)
      .write(to: manifestURL, atomically: true, encoding: .utf8)
    let manifestLine = try #require(
      try String(contentsOf: manifestURL, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        .firstIndex { $0.contains("-lopencv_face") }) + 1

    let result = try Run.program("swift", ["build", "--package-path", copy.path, "--target", "Media"])
    let output = result.standardOutput + result.standardError
    #expect(result.status != 0, "the build of the planted copy succeeded:\n\(output)")
    let expected = [
      "Sources/Media/Planted.swift:3: error: L7",
      "Sources/Media/Planted.swift:4: error: L7",
      "Sources/CFFmpeg/planted.h:1: error: L7",
      "Package.swift:\(manifestLine): error: L7",
    ]
    for line in expected {
      #expect(output.contains("\(copy.path)/\(line)"), "\(line) not named in:\n\(output)")
    }
    #expect(output.contains("error: the build of Media is refused"))
    #expect(!files.fileExists(atPath: copy.appendingPathComponent(".build/debug/Modules/Media.swiftmodule").path),
            "Media compiled")
    print("PlantedBuildTests: the planted copy's `swift build --target Media` failed naming \(expected.count) lines "
          + "in \(Int(Date().timeIntervalSince(started))) s")
  }
}
