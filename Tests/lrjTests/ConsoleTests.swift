import Consultation
import Foundation
import TestSupport
import Testing

/// The web console in a real browser (headless Chromium driven by Selenium), against `lrj serve`
/// on Samples data in a temporary home. Screenshots are kept in the artefacts folder it prints.
@Suite(.serialized)
struct ConsoleTests {
  /// A running `lrj serve` and the link it printed.
  final class Server {
    let process = Process()
    let url: String

    init(environment: [String: String], arguments: [String] = []) throws {
      process.executableURL = TestPaths.products.appendingPathComponent("lrj")
      process.arguments = ["serve", "--port", "0"] + arguments
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      try process.run()
      var text = ""
      let deadline = Date().addingTimeInterval(60)
      while !text.contains("\n"), Date() < deadline {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
      }
      guard let line = text.split(separator: "\n").first(where: { $0.contains("?token=") }),
        let url = line.split(separator: " ").last
      else {
        process.terminate()
        throw TestSetupError("lrj serve printed no link: \(text)")
      }
      self.url = String(url)
    }

    func stop() {
      process.terminate()
      process.waitUntilExit()
    }
  }

  static var browserAvailable: Bool {
    FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
      && (try? Run.program("python3", ["-c", "import selenium"]).status) == 0
  }

  static func runBrowser(_ arguments: [String]) throws -> [String: Any] {
    let script = TestPaths.repository.appendingPathComponent("Tests/browser/console_check.py").path
    let result = try Run.program("python3", [script] + arguments)
    guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.outputData) as? [String: Any] else {
      throw TestSetupError("console_check.py failed: \(result.standardError.suffix(3000))")
    }
    return json
  }

  @Test(.enabled(if: browserAvailable, "needs chromium, chromium-driver and selenium (make deps installs them)"))
  func theConsoleIsTheSameDoorAsTheCommandLine() throws {
    let installation = try TestInstallation.make("lrj-console")
    defer { installation.remove() }
    let env = installation.env()
    try installation.expect(["ingest", "--procedure", "P1", "--camera", "street", TestPaths.samplesClip], env)
    let artefacts = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-console-screenshots")
    try? FileManager.default.removeItem(at: artefacts)
    try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
    print("console screenshots: \(artefacts.path)")
    let logBefore = try Installation.open(home: installation.home).logEntries().count

    // The console renders in memory: its TMPDIR stays empty (FileManager's temporary folder follows it).
    let tmp = installation.folder.appendingPathComponent("console-tmp")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    let server = try Server(environment: env.merging(["TMPDIR": tmp.path]) { $1 })
    let seen: [String: Any]
    let sealedWhileServing: AuditReport
    do {
      defer { server.stop() }
      seen = try Self.runBrowser(["investigator", server.url, artefacts.path, "P1", "street"])
      // The server is still running: what it logged, its refusals included, is sealed already.
      sealedWhileServing = try Installation.open(home: installation.home).verifyLog()
    }
    #expect(sealedWhileServing.isValid && sealedWhileServing.chain.sealedCount == sealedWhileServing.chain.entryCount,
            "\(sealedWhileServing.chain.sealedCount) of \(sealedWhileServing.chain.entryCount) entries sealed while serving: \(sealedWhileServing.problems)")

    // Without the token: 401 everywhere, nothing leaks, nothing cached.
    let unauthenticated = try #require(seen["unauthenticated"] as? [String: [String: Any]])
    #expect(unauthenticated.count == 14)
    for (route, answer) in unauthenticated {
      #expect(answer["status"] as? Int == 401, "\(route): \(answer)")
      #expect(answer["leaks"] as? Bool == false, "\(route)")
      #expect(answer["cacheControl"] as? String == "no-store", "\(route)")
    }
    // With it: a session cookie, the procedures page lists the procedure; the link works once.
    #expect(seen["landing"] as? String == "/procedures")
    #expect((seen["procedures"] as? [String]) == ["P1"])
    #expect(seen["tokenReused"] as? Int == 401)
    let cookie = try #require(seen["cookie"] as? [String: Any])
    #expect(cookie["httpOnly"] as? Bool == true && cookie["sameSite"] as? String == "Strict")

    // What the console logged (before lrj search below adds its own entry).
    let added = try Installation.open(home: installation.home).logEntries().compactMap(\.entry).dropFirst(logBefore)
    // The zone drawn by clicks gives the same tracks as lrj search with that polygon and rule.
    let zone = try #require(seen["searchZone"] as? String)
    #expect(zone.split(separator: " ").count == 4 && zone == seen["drawnZone"] as? String, "\(zone)")
    let tracks = try #require(seen["searchTracks"] as? [String])
    let cli = try installation.expect(
      ["search", "--procedure", "P1", "--class", "person", "--camera", "street", "--zone", zone, "--zone-rule", "enters", "--json"], env)
    let expected = try #require(try JSONSerialization.jsonObject(with: cli.outputData) as? [String: Any])
    let expectedTracks = (expected["results"] as? [[String: Any]] ?? []).compactMap { $0["track"] as? String }
    #expect(!tracks.isEmpty && tracks == expectedTracks, "console \(tracks), lrj search \(expectedTracks)")
    // From zone A to zone B, both drawn by clicks: the same tracks as lrj search --zone B --zone-rule from:A.
    let drawn = try #require(seen["fromDrawn"] as? [String: String])
    let fromSearch = try #require(seen["fromSearch"] as? [String: Any])
    let (origin, destination) = (drawn["origin"] ?? "", drawn["zone"] ?? "")
    #expect(origin.split(separator: " ").count == 4 && destination.split(separator: " ").count == 4 && origin != destination,
            "\(drawn)")
    #expect(fromSearch["origin"] as? String == origin && fromSearch["zone"] as? String == destination)
    let fromCLI = try installation.expect(
      ["search", "--procedure", "P1", "--camera", "street", "--zone", destination, "--zone-rule", "from:\(origin)", "--json"], env)
    let fromExpected = try #require(try JSONSerialization.jsonObject(with: fromCLI.outputData) as? [String: Any])
    let fromTracks = (fromExpected["results"] as? [[String: Any]] ?? []).compactMap { $0["track"] as? String }
    #expect(!fromTracks.isEmpty && fromSearch["tracks"] as? [String] == fromTracks,
            "console \(fromSearch["tracks"] ?? "nil"), lrj search \(fromTracks)")
    #expect(added.filter { $0.operation == "search" && $0.parameters["zone"] == destination }.count == 1)
    let withoutA = try #require(seen["fromWithoutA"] as? [String: Any])
    #expect(withoutA["status"] as? Int == 400 && withoutA["saysDrawA"] as? Bool == true, "\(withoutA)")
    // Thumbnails render (the pixels are not blank).
    let spreads = try #require(seen["thumbnailSpreads"] as? [Double])
    #expect(spreads.count == tracks.count && spreads.allSatisfy { $0 > 5 }, "\(spreads)")
    // The synopsis of the search renders and plays; its overview names the same tracks and a click opens one.
    #expect((seen["synopsisReadyState"] as? Int ?? 0) >= 2, "synopsis readyState \(seen["synopsisReadyState"] ?? "nil")")
    #expect((seen["synopsisSummary"] as? String ?? "").hasPrefix("\(tracks.count) objects of camera street"))
    #expect((seen["overviewSpread"] as? Double ?? 0) > 5)
    #expect(Set(seen["overviewTracks"] as? [String] ?? []) == Set(tracks))
    let click = try #require(seen["overviewClick"] as? [String: String])
    #expect(click["landed"] == "/procedures/P1/tracks/\(click["track"] ?? "")")
    let synopses = added.filter { $0.operation == "synopsis" && $0.outcome == .success }
    #expect(synopses.count == 1 && synopses.first?.user == "opj" && synopses.first?.filesWritten.count == 3
            && synopses.first?.parameters["zone"] == zone, "\(synopses)")
    // The clip plays; its SHA-256 is the one logged.
    #expect((seen["clipReadyState"] as? Int ?? 0) >= 2, "video readyState \(seen["clipReadyState"] ?? "nil"), error \(seen["clipError"] ?? "nil")")
    let clipSHA = try #require(seen["clipSHA256"] as? String)
    #expect((seen["clipBytes"] as? Int ?? 0) > 10_000)
    // No route serves footage-derived bytes with caching allowed; CSP everywhere.
    for (route, answer) in try #require(seen["cache"] as? [String: [String: Any]]) {
      #expect(answer["status"] as? Int == 200, "\(route)")
      #expect(answer["cacheControl"] as? String == "no-store", "\(route)")
      #expect((answer["csp"] as? String ?? "").contains("default-src 'none'"), "\(route)")
    }
    #expect((seen["apiCars"] as? [String])?.isEmpty == false)
    // The camera from a list; the timeline counts every hit, and a bar leads to the hits of its stretch.
    #expect((seen["cameraOptions"] as? [String]) == ["", "street"])
    let total = Int((seen["searchTotal"] as? String ?? "").split(separator: " ").first ?? "") ?? -1
    #expect((seen["timelineHits"] as? Int ?? -1) >= total, "\(seen["timelineHits"] ?? "") hits on the timeline, \(total) found")
    if total > 0 {
      let bucket = try #require(seen["timelineClick"] as? [String: Any])
      let tracksThere = bucket["tracks"] as? [String] ?? []
      #expect(!(bucket["from"] as? String ?? "").isEmpty)
      #expect(tracksThere.count == min(bucket["count"] as? Int ?? -1, 24), "\(bucket)")
    }
    // Two selected tracks, exported as a signed bundle, downloaded: lrj verify accepts it offline.
    let selected = seen["exportSelected"] as? [String] ?? []
    let bundle = try #require(seen["bundle"] as? [String: Any])
    #expect(bundle["status"] as? Int == 200 && bundle["cacheControl"] as? String == "no-store")
    let unpacked = installation.folder.appendingPathComponent("unpacked")
    try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
    let untar = try Run.program("tar", ["-xf", artefacts.appendingPathComponent("bundle.tar").path, "-C", unpacked.path])
    #expect(untar.status == 0, "\(untar.standardError)")
    let verified = try Run.lrj(["verify", unpacked.appendingPathComponent("bundle-P1").path], environment: ["LRJ_HOME": "/nonexistent"])
    #expect(verified.status == 0 && verified.standardOutput.contains("signed by opj"), "\(verified.standardError)")
    #expect(added.contains { $0.operation == "export" && $0.outcome == .success && $0.parameters["tracks"] == selected.joined(separator: ",") })

    // CSRF and roles.
    #expect(seen["csrfWithout"] as? Int == 403)
    #expect(seen["logStatus"] as? Int == 403)

    // Each action is in the log with the user's identity, once; every thumbnail shown is logged.
    let searchesWithZone = added.filter { $0.operation == "search" && $0.parameters["zone"] == zone && $0.parameters["from"] == nil }
    #expect(searchesWithZone.count == 1 && searchesWithZone.first?.user == "opj", "\(searchesWithZone)")
    let extracts = added.filter { $0.operation == "extract" && $0.outcome == .success }
    #expect(extracts.count == 1 && extracts.first?.filesWritten == [clipSHA] && extracts.first?.user == "opj")
    for track in tracks {
      #expect(added.contains { $0.operation == "show" && $0.parameters["track"] == track && $0.parameters["out"] == "(console)" && $0.user == "opj" },
              "thumbnail of \(track) logged")
    }
    #expect(added.contains { $0.operation == "log" && $0.outcome == .refused && $0.user == "opj" })
    #expect(!added.contains { $0.operation == "extract" && ($0.outcome == .failed || $0.outcome == .refused) },
            "the CSRF-less POST never reached the door")
    #expect(added.contains { $0.operation == "console" && $0.outcome == .refused && $0.user == "opj"
      && ($0.parameters["reason"] ?? "").contains("CSRF") }, "the CSRF refusal is logged")
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty, "nothing rendered in the temporary folder")

    // The magistrate's log page shows the entries and a verified chain.
    let magistrateServer = try Server(environment: installation.env(as: "judge").merging(
      ["HOME": installation.folder.path, "TMPDIR": tmp.path]) { $1 })
    let judge: [String: Any]
    do {
      defer { magistrateServer.stop() }
      judge = try Self.runBrowser(["magistrate", magistrateServer.url, artefacts.path, "P1"])
    }
    #expect((judge["procedures"] as? [String]) == ["P1"])
    #expect((judge["verification"] as? String ?? "").hasPrefix("Chain verified"), "\(judge["verification"] ?? "")")
    let rows = try #require(judge["rows"] as? [[String]])
    #expect(rows.contains { $0.count > 5 && $0[2] == "opj" && $0[5] == "extract" })
    let csv = try #require(judge["csv"] as? [String: Any])
    #expect(csv["status"] as? Int == 200 && (csv["firstLine"] as? String)?.hasPrefix("seq,time,user") == true)
    // Closure from the console: the report downloads, the procedure is shown closed, its vault is gone.
    #expect((judge["closed"] as? String ?? "").hasPrefix("Procedure P1 is closed"), "\(judge["closed"] ?? "")")
    #expect(Set(judge["reportFiles"] as? [String] ?? []) == ["closure-P1.json", "closure-P1.md", "closure-P1.html", "closure-P1.pdf"])
    let report = try #require(judge["reportJSON"] as? [String: Any])
    #expect(report["status"] as? Int == 200 && report["procedure"] as? String == "P1" && report["cacheControl"] as? String == "no-store")
    let after = try #require(judge["afterClosure"] as? [[String]])
    #expect(after.first?.first == "P1" && after.first?.last?.hasPrefix("closed and erased") == true, "\(after)")
    #expect(!FileManager.default.fileExists(atPath: installation.home.appendingPathComponent("procedures/P1").path))
    // The report was kept on disk, where the form proposed, before the key was destroyed.
    let kept = installation.folder.appendingPathComponent("lrj-reports/P1")
    #expect(Set(try FileManager.default.contentsOfDirectory(atPath: kept.path)) == ["closure-P1.json", "closure-P1.md", "closure-P1.html", "closure-P1.pdf"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty, "nothing rendered in the temporary folder")
    #expect(try Installation.open(home: installation.home).verifyLog().isValid)
  }

  @Test func bindingBeyondLoopbackNeedsTLS() throws {
    let installation = try TestInstallation.make("lrj-console-tls", procedure: nil)
    defer { installation.remove() }
    let result = try Run.lrj(["serve", "--bind", "0.0.0.0", "--port", "0"], environment: installation.env())
    #expect(result.status != 0)
    #expect(result.standardError.hasPrefix("error: binding to 0.0.0.0 needs TLS"), "\(result.standardError)")

    // With a certificate and key it serves HTTPS, and the cookie is Secure.
    let cert = installation.folder.appendingPathComponent("cert.pem").path
    let key = installation.folder.appendingPathComponent("key.pem").path
    let made = try Run.program("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                                           "-keyout", key, "-out", cert])
    try #require(made.status == 0, "\(made.standardError)")
    let server = try Server(environment: installation.env(), arguments: ["--bind", "0.0.0.0", "--tls-cert", cert, "--tls-key", key])
    defer { server.stop() }
    #expect(server.url.hasPrefix("https://0.0.0.0:"))
    let port = String(server.url.split(separator: ":")[2].prefix { $0.isNumber })
    let anonymous = try Run.program("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "https://127.0.0.1:\(port)/procedures"])
    #expect(anonymous.standardOutput == "401")
    let link = server.url.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
    let first = try Run.program("curl", ["-sk", "-D", "-", "-o", "/dev/null", link])
    #expect(first.standardOutput.contains("303") || first.standardOutput.contains("302"), "\(first.standardOutput)")
    #expect(first.standardOutput.lowercased().contains("set-cookie: lrj_session="))
    #expect(first.standardOutput.contains("Secure") && first.standardOutput.contains("HttpOnly") && first.standardOutput.contains("SameSite=Strict"))
    let plain = try Run.program("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/procedures"])
    #expect(plain.standardOutput != "200", "no plain HTTP on the TLS port")
  }
}
