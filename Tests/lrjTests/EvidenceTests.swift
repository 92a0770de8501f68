import Consultation
import Foundation
import TestSupport
import Testing

/// Evidence a court accepts (issue 18): the closure report as a PDF, and signed export bundles that
/// `lrj verify` checks offline.
@Suite(.serialized)
struct EvidenceTests {
  static func entries(_ installation: TestInstallation) throws -> [LogEntry] {
    try Installation.open(home: installation.home).logEntries().compactMap(\.entry)
  }

  /// `lrj verify` as someone outside the installation runs it: no home, no key, no passphrase.
  static func verify(_ folder: URL) throws -> ProcessResult {
    try Run.lrj(["verify", folder.path], environment: ["LRJ_HOME": "/nonexistent", "LRJ_KEY": "", "LRJ_PASSPHRASE": ""])
  }

  @Test func aSignedBundleVerifiesOfflineAndEveryTamperingIsNamed() throws {
    let installation = try TestInstallation.make("lrj-bundle")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let bundle = installation.folder.appendingPathComponent("bundle")
    let made = try installation.expect(["export", "--procedure", "P1", "T1", "T2", "--with-synopsis", "--out", bundle.path], env)
    #expect(made.standardOutput.contains("2 tracks"))
    let names = Set(try FileManager.default.subpathsOfDirectory(atPath: bundle.path))
    #expect(names.isSuperset(of: ["clips/T1.mp4", "clips/T2.mp4", "thumbnails/T1.png", "thumbnails/T2.png", "synopsis.mp4",
                                  "synopsis.png", "synopsis.json", "index.html", "manifest.json", "manifest.sig"]), "\(names)")
    let manifest = try JSONDecoder().decode(ExportBundle.Manifest.self, from: Data(contentsOf: bundle.appendingPathComponent("manifest.json")))
    #expect(manifest.procedure == "P1" && manifest.investigator == "opj" && manifest.tracks.map(\.track) == ["T1", "T2"])
    #expect(manifest.exhibits.first?.sha256 == (try SHA256Hex.ofFile(TestPaths.samplesClip)))
    #expect(manifest.tracks.allSatisfy { !$0.colours.isEmpty && !$0.start.isEmpty && !$0.direction.isEmpty })
    // Logged like an extract: started first, then every file's SHA-256, and the manifest's.
    let log = try Self.entries(installation)
    let success = try #require(log.last { $0.operation == "export" && $0.outcome == .success })
    #expect(log.contains { $0.operation == "export" && $0.outcome == .started && $0.parameters["operation"] == success.parameters["operation"] })
    #expect(success.filesWritten.contains(try SHA256Hex.ofFile(bundle.appendingPathComponent("manifest.json").path)))
    #expect(success.filesWritten.contains(try SHA256Hex.ofFile(bundle.appendingPathComponent("clips/T1.mp4").path)))
    #expect(log.firstIndex { $0.operation == "export" && $0.outcome == .started }.map { $0 + 1 } == Int(manifest.log.entry),
            "the manifest names its log entry")

    let good = try Self.verify(bundle)
    #expect(good.status == 0 && good.standardOutput.contains("verified"), "\(good.standardError)")
    // Each tampering on a fresh copy is named, and verify fails.
    let cases: [(String, (URL) throws -> Void, String)] = [
      ("a clip byte", { url in
        let clip = url.appendingPathComponent("clips/T1.mp4")
        var data = try Data(contentsOf: clip)
        data[data.count / 2] ^= 0xFF
        try data.write(to: clip)
      }, "clips/T1.mp4: changed"),
      ("the manifest", { url in
        let file = url.appendingPathComponent("manifest.json")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "\"P1\"", with: "\"P2\"")
        try Data(text.utf8).write(to: file)
      }, "the signature does not verify"),
      ("the signature", { url in
        let file = url.appendingPathComponent("manifest.sig")
        var signature = try JSONDecoder().decode(ExportBundle.Signature.self, from: Data(contentsOf: file))
        var bytes = Data(base64Encoded: signature.signature)!
        bytes[0] ^= 1
        signature.signature = bytes.base64EncodedString()
        try JSONEncoder().encode(signature).write(to: file)
      }, "the signature does not verify"),
      ("a file removed", { url in try FileManager.default.removeItem(at: url.appendingPathComponent("thumbnails/T2.png")) },
       "thumbnails/T2.png: removed"),
      ("a file added", { url in try Data("x".utf8).write(to: url.appendingPathComponent("clips/T9.mp4")) }, "clips/T9.mp4: added"),
    ]
    for (what, tamper, message) in cases {
      let copy = installation.folder.appendingPathComponent("copy-\(UUID().uuidString.prefix(6))")
      try FileManager.default.copyItem(at: bundle, to: copy)
      try tamper(copy)
      let result = try Self.verify(copy)
      #expect(result.status != 0 && result.status < 128, "\(what) must fail")
      #expect((result.standardOutput + result.standardError).contains(message), "\(what): \(result.standardOutput) \(result.standardError)")
      #expect(result.standardError.hasPrefix("error: ") && result.standardError.split(separator: "\n").count == 1)
    }
    // Not a bundle, a truncated manifest: one line, non-zero.
    let empty = installation.folder.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let notBundle = try Self.verify(empty)
    #expect(notBundle.status == 1 && notBundle.standardError.contains("not an lrj export bundle"), "\(notBundle.standardError)")
    let truncated = installation.folder.appendingPathComponent("truncated")
    try FileManager.default.copyItem(at: bundle, to: truncated)
    let manifestFile = truncated.appendingPathComponent("manifest.json")
    try Data(try Data(contentsOf: manifestFile).prefix(100)).write(to: manifestFile)
    let cut = try Self.verify(truncated)
    #expect(cut.status == 1 && cut.standardError.contains("truncated or altered") && cut.standardError.split(separator: "\n").count == 1)

    // A folder that exists, a track the procedure does not have: refused, logged, nothing written.
    let again = try Run.lrj(["export", "--procedure", "P1", "T1", "--out", bundle.path], environment: env)
    #expect(again.status == 1 && again.standardError.contains("exists"), "\(again.standardError)")
    let other = installation.folder.appendingPathComponent("other")
    let foreign = try Run.lrj(["export", "--procedure", "P1", "T999", "--out", other.path], environment: env)
    #expect(foreign.status == 1 && foreign.standardError.contains("no track T999"), "\(foreign.standardError)")
    #expect(!FileManager.default.fileExists(atPath: other.path))
    #expect(try Self.entries(installation).last { $0.operation == "export" }?.outcome == .failed)
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: installation.folder.path)) ?? []).allSatisfy { !$0.contains(".lrj-") })
    try installation.expect(["log", "verify"], env)
  }

  @Test func theClosureReportIsAPDFThatNamesEveryExhibitAndExport() throws {
    guard (try? Run.program("pdftotext", ["-v"]).status) != nil, (try? Run.program("pdftoppm", ["-v"]).status) != nil else {
      print("pdftotext or pdftoppm missing (poppler-utils): PDF test skipped")
      return
    }
    let installation = try TestInstallation.make("lrj-report-pdf")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let out = installation.folder.appendingPathComponent("exports")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try installation.expect(["synopsis", "--procedure", "P1", "--out", out.appendingPathComponent("s.mp4").path,
                             "--png", out.appendingPathComponent("s.png").path], env)
    try installation.expect(["show", "--procedure", "P1", "T1", "--out", out.appendingPathComponent("t1.png").path], env)
    let reports = installation.folder.appendingPathComponent("reports")
    try installation.expect(["procedure", "close", "--procedure", "P1", "--report", reports.path], installation.env(as: "judge"))
    let pdf = reports.appendingPathComponent("closure-P1.pdf")
    let text = try Run.program("pdftotext", ["-layout", pdf.path, "-"]).standardOutput
    let manifest = try JSONDecoder().decode(ClosureManifest.self, from: Data(contentsOf: reports.appendingPathComponent("closure-P1.json")))
    #expect(text.contains("Closure report") && text.contains("P1"))
    // Hashes wrap in table cells: compare with the text's spaces and line breaks removed.
    let compact = text.filter { !$0.isWhitespace }
    for exhibit in manifest.exhibits { #expect(compact.contains(exhibit.sha256), "exhibit \(exhibit.id)'s SHA-256 in the PDF") }
    // Each export names its own file: the synopsis's three files each once, by name.
    let exported = manifest.exports.compactMap(\.file).map { URL(fileURLWithPath: $0).lastPathComponent }
    #expect(Set(exported) == ["s.mp4", "s.json", "s.png", "t1.png"], "\(exported)")
    for name in exported { #expect(compact.contains(name), "\(name) in the PDF") }
    #expect(text.contains("Consultations by user and operation") && text.contains("Log head"))
    let pages = installation.folder.appendingPathComponent("pages")
    let rendered = try Run.program("pdftoppm", ["-r", "40", "-png", pdf.path, pages.path])
    #expect(rendered.status == 0)
    let images = try FileManager.default.contentsOfDirectory(atPath: installation.folder.path).filter { $0.hasPrefix("pages") }
    #expect(images.count >= 2, "a summary page and the rest: \(images)")
  }
}
