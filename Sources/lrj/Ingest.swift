import ArgumentParser
import Consultation
import Foundation
import Index
import Ingest

/// `lrj ingest`: find, track and describe every moving object of exhibit files.
struct IngestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Ingest exhibit files into a procedure: every moving object, with class, colours, direction and path.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Option(help: "The camera's name (letters, digits, '-', '_', '.', spaces).")
  var camera: String

  @Option(help: "Wall-clock time of the first frame, ISO 8601 with offset (default: the file's creation_time, UTC).")
  var start: String?

  @Flag(help: "Print one JSON object per file when it finishes.")
  var json = false

  @Option(help: ArgumentHelp(
    "The detector's model, yolox_nano.onnx (default: LRJ_MODEL, else LRJ_HOME/models/yolox_nano.onnx; "
      + "checked by its SHA-256). Without a model, objects are found by motion and classed by geometry.",
    valueName: "file"))
  var model: String?

  @Flag(help: "Find objects by motion and class them by geometry only, even when a model is installed.")
  var noModel = false

  @Option(help: ArgumentHelp("The detector's runtime: openvino or opencv (default: OpenVINO when installed).",
                             visibility: .hidden))
  var runtime: String?

  @Option(help: ArgumentHelp("Longer side of the detector's whole-frame input (tuning).", visibility: .hidden))
  var detectorSize: Int?

  @Option(help: ArgumentHelp("Motion-centred crops per analysed frame at most (tuning).", visibility: .hidden))
  var crops: Int?

  @Option(help: ArgumentHelp("Detector inference threads (tuning).", visibility: .hidden))
  var detectorThreads: Int?

  @Option(help: ArgumentHelp("Seconds between two analysed frames with crops (tuning).", visibility: .hidden))
  var cropInterval: Double?

  @Option(help: ArgumentHelp("Side of a motion-centred crop's network input (tuning).", visibility: .hidden))
  var cropSize: Int?

  @Option(help: ArgumentHelp("Width of the background model in pixels (tuning).", visibility: .hidden))
  var modelWidth: Int?

  @Option(help: ArgumentHelp("Analysed frames per second (tuning).", visibility: .hidden))
  var analysisRate: Double?

  @Flag(help: "Queue the files for workers (lrj worker) instead of analysing them here; prints each job and returns.")
  var queue = false

  @Flag(help: "With --queue: show the workers' progress until every span is done, then publish the exhibits.")
  var wait = false

  @Option(help: "With --queue: seconds of footage per span.")
  var spanSeconds: Double = 300

  @Option(help: "With --queue: seconds by which consecutive spans overlap, tracks crossing a boundary being joined there (default: 10, at most half a span).")
  var overlapSeconds: Double?

  @Argument(help: "Exhibit files.")
  var files: [String]

  func run() throws {
    try reportingErrors {
      let startTime = try start.map { text -> WallClockTime in
        let time: WallClockTime
        do { time = try WallClockTime(iso8601: text) } catch {
          throw ValidationError("--start \"\(text)\" is not an ISO 8601 time with offset (e.g. 2026-03-01T10:00:00+01:00)")
        }
        // Footage is recorded between 1970 and 2100; anything else is a typing mistake.
        guard (0..<4_102_444_800).contains(time.date.timeIntervalSince1970) else {
          throw ValidationError("--start \"\(text)\" is not between 1970 and 2100")
        }
        return time
      }
      if noModel && model != nil { throw ValidationError("--model and --no-model exclude each other") }
      if let detectorSize, detectorSize < 64 || detectorSize > 1024 || detectorSize % 32 != 0 {
        throw ValidationError("--detector-size must be a multiple of 32 in 64...1024")
      }
      if let crops, crops < 0 || crops > 16 { throw ValidationError("--crops must be in 0...16") }
      if let cropSize, cropSize < 64 || cropSize > 1024 || cropSize % 32 != 0 {
        throw ValidationError("--crop-size must be a multiple of 32 in 64...1024")
      }
      let requestedRuntime = try runtime.map { name -> DetectorRuntime in
        guard let value = DetectorRuntime(rawValue: name) else {
          throw ValidationError("unknown runtime \"\(name)\"; valid: openvino, opencv")
        }
        return value
      }
      let detector = noModel
        ? DetectorSetup.geometryOnly : try DetectorSetup.resolve(explicit: model, home: Installation.defaultHome)
      if requestedRuntime == .openVINO && detector.model != nil && detector.runtime != .openVINO {
        throw ValidationError("--runtime openvino: \(detector.notice ?? "OpenVINO is not installed (make deps)")")
      }
      // Said once, when a file was analysed without the detector for want of a model (a refused
      // file keeps its one-line error).
      var notice = detector.notice
      let access = try key.access(procedure)
      if queue {
        return try runQueued(access, start: startTime, detector: detector)
      }
      if wait { throw ValidationError("--wait goes with --queue") }
      var failed = 0
      for file in files {
        let bar = ProgressBar(label: (file as NSString).lastPathComponent)
        do {
          var settings = AnalysisSettings()
          if let modelWidth { settings.modelWidth = modelWidth }
          if let analysisRate { settings.analysisRate = analysisRate }
          detector.apply(to: &settings)
          if requestedRuntime == .openCV && detector.model != nil { settings.detectorRuntime = .openCV }
          if let detectorSize { settings.detectorInputSize = detectorSize }
          if let crops { settings.maximumCrops = crops }
          if let cropSize { settings.cropInputSize = cropSize }
          if let detectorThreads { settings.detectorThreads = detectorThreads }
          if let cropInterval { settings.cropInterval = max(0, min(10, cropInterval)) }
          let report = try access.ingest(path: file, camera: camera, start: startTime, settings: settings) {
            bar.update($0)
          }
          bar.clear()
          if let text = notice, !report.alreadyIngested {
            Terminal.note("warning: \(text)")
            notice = nil
          }
          print(json ? Terminal.json(report) : Self.summary(report))
        } catch {
          bar.clear()
          Terminal.error(String(describing: error))
          failed += 1
        }
      }
      if failed > 0 { throw ExitCode.failure }
    }
  }

  /// `--queue`: each file checked, hashed and cut into spans for workers; with `--wait`, their progress, then the exhibits published.
  private func runQueued(_ access: ProcedureAccess, start: WallClockTime?, detector: DetectorSetup) throws {
    let tuning: [Any?] = [runtime, detectorSize, crops, detectorThreads, cropInterval, cropSize, modelWidth, analysisRate]
    guard tuning.allSatisfy({ $0 == nil }) else { throw ValidationError("--queue takes no tuning option: workers analyse with the defaults") }
    guard (10...3600).contains(spanSeconds) else { throw ValidationError("--span-seconds must be in 10...3600") }
    let overlapSeconds = self.overlapSeconds ?? min(10, spanSeconds / 2)
    guard overlapSeconds >= 0, overlapSeconds <= spanSeconds / 2 else {
      throw ValidationError("--overlap-seconds must be between 0 and half of --span-seconds")
    }
    if let notice = detector.notice { Terminal.note("warning: \(notice)") }
    var jobs: [String] = []
    var failed = 0
    for file in files {
      do {
        let queued = try access.queueIngest(path: file, camera: camera, start: start, classifier: detector.model,
                                            spanSeconds: spanSeconds, overlapSeconds: overlapSeconds)
        if json {
          Terminal.say(Terminal.json(queued))
        } else if let exhibit = queued.exhibit {
          Terminal.say("\(file): already ingested as exhibit \(exhibit) (same SHA-256 \(queued.sha256)); nothing queued")
        } else {
          Terminal.say("\(file) → job \(queued.job ?? "?")\(queued.alreadyQueued ? " (queued before; its failed spans queued again)" : ""): "
                + "\(queued.spans) spans, SHA-256 \(queued.sha256)")
        }
        if let job = queued.job { jobs.append(job) }
      } catch {
        Terminal.error(String(describing: error))
        failed += 1
      }
    }
    if wait && !jobs.isEmpty {
      let started = Date()
      let tty = isatty(2) != 0
      while true {
        let statuses = try access.progress(of: jobs)
        let spans = statuses.map(\.spans).reduce(0, +)
        let done = statuses.map(\.done).reduce(0, +)
        let running = statuses.map(\.running).reduce(0, +)
        let failedSpans = statuses.map(\.failed).reduce(0, +)
        let frames = statuses.map(\.frames).reduce(0, +)
        if tty {
          let filled = spans > 0 ? done * 30 / spans : 0
          let rate = Double(frames) / max(Date().timeIntervalSince(started), 1e-3)
          FileHandle.standardError.write(Data(("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
            + "\(done)/\(spans) spans, \(running) running, \(failedSpans) failed, \(Int(rate)) frames/s\u{1B}[K").utf8))
        }
        if statuses.allSatisfy({ $0.state != "queued" || $0.queued + $0.running == 0 }) {
          if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
          for status in statuses where status.state != "queued" || status.failed > 0 {
            Terminal.error("\(status.file): job \(status.job) \(status.state == "queued" ? "has failed spans" : status.state): "
                           + (status.reasons.first ?? "no reason recorded"))
            failed += 1
          }
          break
        }
        Thread.sleep(forTimeInterval: 1)
      }
      for report in try access.publishQueued(jobs: jobs) {
        Terminal.say(json ? Terminal.json(report) : Self.summary(report))
      }
    }
    if failed > 0 { throw ExitCode.failure }
  }

  /// How objects were found and classed.
  static func finder(_ r: IngestReport) -> String {
    guard r.classifier == "cnn", let runtime = r.detectorRuntime else { return "found by motion, classes by geometry" }
    let motion = r.motionOnlyTracks.map { $0 > 0 ? ", \($0) by motion alone, classed by geometry" : "" } ?? ""
    return "detector on \(runtime), \(r.detectorFrames ?? 0) frames and \(r.detectorCrops ?? 0) crops\(motion)"
  }

  static func summary(_ r: IngestReport) -> String {
    let tracks = r.tracks.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    if r.alreadyIngested {
      return "\(r.file): already ingested as exhibit \(r.exhibit) (same SHA-256 \(r.sha256)); nothing stored"
    }
    return """
      \(r.file) → exhibit \(r.exhibit) (camera \(r.camera), first frame \(r.start))
        SHA-256 \(r.sha256)
        \(r.frames) frames \(r.width)x\(r.height) at \(String(format: "%.2f", r.fps)) fps, \(r.skippedPackets) corrupt packets skipped
        tracks: \(tracks.isEmpty ? "none" : tracks) (\(Self.finder(r)))
        \(String(format: "%.1f s, %.0f frames/s", r.seconds, r.framesPerSecond))
      """
  }
}

/// `lrj tracks`: every box of every track of an exhibit.
struct Tracks: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print every box of every track of an exhibit (MOTChallenge format, source pixels).")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Option(help: "The exhibit id (E1, E2…).")
  var exhibit: String

  @Option(help: "Output format: mot.")
  var format: String = "mot"

  func run() throws {
    try reportingErrors {
      guard format == "mot" else { throw ValidationError("unknown format \"\(format)\"; valid: mot") }
      print(try key.access(procedure).motTracks(exhibit: exhibit), terminator: "")
    }
  }
}

/// A one-line progress bar on standard error, only when it is a terminal.
final class ProgressBar {
  private let label: String
  private let enabled = isatty(2) != 0
  private var shown = false

  init(label: String) {
    self.label = label
  }

  func update(_ progress: AnalysisProgress) {
    update(done: progress.frames, expected: progress.expectedFrames, elapsed: progress.elapsed)
  }

  /// Shows `done` of `expected` units (frames) after `elapsed` seconds, with the label `stage` when given.
  func update(done: Int, expected: Int?, elapsed: Double, stage: String? = nil) {
    guard enabled else { return }
    let label = stage.map { "\(self.label) \($0)" } ?? self.label
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    var text = "\(label): \(done) frames, \(Int(rate)) frames/s"
    if let expected, expected > 0 {
      let fraction = min(1, Double(done) / Double(expected))
      let filled = Int(fraction * 30)
      let eta = rate > 0 ? Double(max(0, expected - done)) / rate : 0
      text = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
        + "\(Int(fraction * 100))% \(Int(rate)) frames/s ETA \(Int(eta)) s"
    }
    FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
    shown = true
  }

  func clear() {
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
