import ArgumentParser
import Consultation
import Crypto
import Foundation
import Ingest
import Index
import Media

/// `lrj demo`: the workflow on the Samples clip, in a temporary folder.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the workflow on the Samples clip in a temporary folder and print where everything is.")

  @Option(help: "The Samples folder (default: ./Samples, else the one beside the lrj build).")
  var samples: String?

  func run() throws {
    try reportingErrors {
      let folder = try samples ?? Self.findSamples()
      let clip = (folder as NSString).appendingPathComponent("street.mp4")
      let work = FileManager.default.temporaryDirectory.appendingPathComponent("lrj-demo-\(UUID().uuidString.prefix(8))")
      let userHome = Installation.defaultHome  // where this user's model is installed, not the demo's home
      try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

      print("1. probe \(clip)")
      let decoder = try Decoder(path: clip, format: .analysis())
      print(Probe.table(decoder.info, nil))

      print("\n2. decode every frame at analysis size \(decoder.outputSize)")
      let report = try Probe.decodeAll(decoder)
      print(String(format: "   %d frames, %.2f s of video, %d corrupt packets, %.0f frames/s",
                   report.frames, (report.lastTime ?? 0) + 1 / max(decoder.info.frameRate, 1),
                   report.skippedPackets, report.framesPerSecond))

      let stillTime = 14.0
      print("\n3. a frame at \(stillTime) s, full size, as PNG")
      let source = try Decoder(path: clip, format: .sourceRGB)
      try source.seek(to: stillTime)
      guard let frame = try source.nextFrame(), case .rgb(let image) = frame.image else {
        throw ValidationError("\(clip): no frame at \(stillTime) s")
      }
      let png = (work.path as NSString).appendingPathComponent("frame-\(frame.index).png")
      try Data(try PNG.encode(image)).write(to: URL(fileURLWithPath: png), options: .atomic)
      print(String(format: "   frame %d at %.3f s → %@", frame.index, frame.time, png))

      print("\n4. an installation in a temporary LRJ_HOME, with an administrator, a magistrate and an investigator")
      let home = work.appendingPathComponent("lrj-home")
      let keys = work.appendingPathComponent("keys")
      try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
      let passphrase = "demo passphrase"
      let installation = try Installation.create(
        home: home, administrator: "admin", passphrase: passphrase, administratorKey: keys.appendingPathComponent("admin.key"))
      let admin = try installation.authenticate(keyFile: keys.appendingPathComponent("admin.key"), passphrase: passphrase)
      var identities: [String: Identity] = [:]
      for (user, role) in [("judge.martin", Role.magistrate), ("opj.durand", Role.investigator)] {
        let keyFile = keys.appendingPathComponent("\(user).key")
        let key = Curve25519.Signing.PrivateKey()
        try SealedKeyFile.seal(key, user: user, role: nil, passphrase: passphrase).write(to: keyFile, replacing: false)
        try installation.addUser(user, role: role, publicKey: key.publicKey.rawRepresentation.base64EncodedString(), by: admin)
        identities[user] = try installation.authenticate(keyFile: keyFile, passphrase: passphrase)
        print("   lrj key generate --id \(user) --out \(keyFile.path); lrj user add \(user) --role \(role.rawValue) …")
      }
      let magistrate = identities["judge.martin"]!
      let investigator = identities["opj.durand"]!

      let procedure = "DEMO-2026-001"
      print("\n5. the magistrate authorises procedure \(procedure); the investigator opens it")
      let (token, claims) = try installation.authorise(
        procedure: procedure, kind: .preliminary, investigators: [investigator.user], notBefore: Date(),
        expires: Date().addingTimeInterval(30 * 86_400), by: magistrate)
      let tokenFile = keys.appendingPathComponent("\(procedure).token")
      try Data((token + "\n").utf8).write(to: tokenFile, options: .atomic)
      print("   lrj authorise --procedure \(procedure) --kind preliminary --investigator \(investigator.user) --until … "
            + "→ \(tokenFile.path) (token \(claims.jti))")
      _ = try installation.openProcedure(token: token, by: investigator)
      print("   lrj procedure open --token \(tokenFile.path)")

      print("\n6. ingest the Samples clip")
      // The object classifier installed for this user (make deps puts it in their LRJ_HOME), when there is one.
      let detector = (try? DetectorSetup.resolve(explicit: nil, home: userHome)) ?? .geometryOnly
      var settings = AnalysisSettings()
      detector.apply(to: &settings)
      print("   detector: \(detector.summary)")
      let access = ProcedureAccess(procedure: procedure, installation: installation, identity: investigator)
      let ingested = try access.ingest(path: clip, camera: "street", start: nil, settings: settings)
      print(IngestCommand.summary(ingested).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

      var redCars = SearchFilters()
      redCars.classes = ["car"]
      redCars.colours = ["red"]
      redCars.directions = ["right"]
      var lowerLeft = SearchFilters()
      lowerLeft.classes = ["person"]
      lowerLeft.cameras = ["street"]
      lowerLeft.zone = "0,0.5 0.5,0.5 0.5,1 0,1"
      lowerLeft.zoneRule = "enters"
      var dwell = SearchFilters()
      dwell.cameras = ["street"]
      dwell.zone = "0.3,0.3 0.6,0.3 0.6,0.45 0.3,0.45"
      dwell.zoneRule = "dwell:5"
      let searches = [
        ("red cars going right", "--class car --colour red --direction right", redCars),
        ("persons entering the lower-left quadrant", "--class person --camera street --zone \"0,0.5 0.5,0.5 0.5,1 0,1\"", lowerLeft),
        ("anything staying 5 s on the far pavement", "--camera street --zone \"0.3,0.3 0.6,0.3 0.6,0.45 0.3,0.45\" --zone-rule dwell:5", dwell),
      ]
      var firstTrack: String?
      for (n, (title, flags, filters)) in searches.enumerated() {
        print("\n\(7 + n). search: \(title)\n   lrj search --procedure \(procedure) \(flags)")
        let result = try access.search(filters)
        print(Search.table(result, offset: 0).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        firstTrack = firstTrack ?? result.results.first?.track
      }
      if let track = firstTrack {
        let thumbnail = work.appendingPathComponent("\(track).png")
        let written = try access.exportThumbnail(track: track, to: thumbnail.path)
        print("\n10. thumbnail of \(track) → \(thumbnail.path) (SHA-256 \(written.sha256))")
        let extract = try access.extract(track: track, margin: 1, to: work.appendingPathComponent("\(track).mp4").path)
        print(String(format: "11. original footage of %@, %.1f–%.1f s → %@ (SHA-256 %@)", track, extract.from, extract.to,
                     extract.file, extract.sha256))
        let bundle = work.appendingPathComponent("export-\(track)")
        let exported = try access.exportBundle(tracks: [track], withSynopsis: false, to: bundle.path)
        print("    signed export bundle (lrj export --procedure \(procedure) \(track) --out \(bundle.lastPathComponent)): "
              + "\(exported.files) files, manifest SHA-256 \(exported.manifestSHA256)")
        let verified = try ExportBundle.verify(folder: bundle)
        print("    lrj verify \(bundle.lastPathComponent) (offline, no installation): "
              + (verified.isValid ? "verified, signed by \(verified.signer?.user ?? "?")" : "FAILED \(verified.problems)"))
      }

      print("\n12. a synopsis of every object (lrj synopsis --procedure \(procedure) --out synopsis.mp4 --png synopsis.png)")
      let synopsis = try access.synopsis(
        SearchFilters(), output: work.appendingPathComponent("synopsis.mp4").path,
        overview: work.appendingPathComponent("synopsis.png").path)
      print(SynopsisCommand.summary(synopsis).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

      print("\n13. the magistrate reads the procedure's consultation log (lrj log --procedure \(procedure))")
      for stored in try installation.consultLog(LogFilter(procedure: procedure), by: magistrate) {
        guard let entry = stored.entry else { continue }
        print("   \(stored.seq)\t\(AuthorisationText.time(entry.time))\t\(entry.user)\t\(entry.operation)\t\(entry.outcome.rawValue)"
              + (entry.resultCount.map { "\t\($0) results" } ?? ""))
      }
      let verified = try installation.verifyLog()
      let outcome = verified.isValid ? "verified" : "FAILED \(verified.chain.failure.map(String.init(describing:)) ?? verified.problems[0])"
      print("\n14. lrj log verify: \(outcome), \(verified.chain.entryCount) entries, "
            + "\(verified.chain.checkpointCount) signed checkpoints")

      let reportFolder = work.appendingPathComponent("closure-report")
      try FileManager.default.createDirectory(at: reportFolder, withIntermediateDirectories: true)
      let closure = try ProcedureAccess(procedure: procedure, installation: installation, identity: magistrate)
        .close(reportFolder: reportFolder, withData: true)
      print("\n15. the magistrate closes the procedure: report written, vault erased (lrj procedure close --report …)")
      for file in closure.files { print("   \(file.path) (SHA-256 \(file.sha256))") }
      do {
        _ = try access.search(redCars)
        print("   UNEXPECTED: the closed procedure could still be searched")
      } catch {
        print("   a search after closure is refused: \(error)")
      }
      print("   lrj log verify after closure: \(try installation.verifyLog().isValid ? "verified" : "FAILED")")
      print("\nEverything is in \(work.path)")
    }
  }

  /// ./Samples, else Samples beside the package the running binary was built in.
  static func findSamples() throws -> String {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var candidates = [FileManager.default.currentDirectoryPath + "/Samples"]
    var folder = executable.deletingLastPathComponent()
    for _ in 0..<5 {
      candidates.append(folder.appendingPathComponent("Samples").path)
      folder = folder.deletingLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/street.mp4") }) else {
      throw ValidationError("cannot find Samples/street.mp4; pass --samples DIR")
    }
    return found
  }
}
