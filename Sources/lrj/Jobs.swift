import ArgumentParser
import Consultation
import Foundation
import Ingest

/// `lrj jobs`: the progress of a procedure's queued ingests; an investigator's call publishes those finished.
struct Jobs: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the progress of a procedure's queued ingests (lrj ingest --queue); publishes the exhibits whose spans are all done.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Flag(help: "Print a JSON array, one object per queued exhibit.")
  var json = false

  func run() throws {
    try reportingErrors {
      let access = try key.access(procedure)
      // Each finished job is published on its own: one that cannot be is one error line, the others go on.
      var failed = 0
      for job in try access.readyJobs() {
        do {
          let report = try access.publish(job: job)
          Terminal.note("published: " + IngestCommand.summary(report).split(separator: "\n")[0])
        } catch {
          Terminal.error("\(job): \(error)")
          failed += 1
        }
      }
      let statuses = try access.jobs()
      if json {
        print(Terminal.json(statuses))
      } else {
        if statuses.isEmpty { print("no queued ingest in procedure \(procedure)") }
        for status in statuses { print(Self.line(status)) }
      }
      if failed > 0 { throw ExitCode.failure }
    }
  }

  static func line(_ s: IngestJobStatus) -> String {
    let rate = s.framesPerSecond.map { String(format: ", %.0f frames/s", $0) } ?? ""
    let exhibit = s.exhibit.map { " → \($0)" } ?? ""
    var text = "\(s.job)\t\(s.state)\(exhibit)\t\(s.done)/\(s.spans) spans done, \(s.running) running, \(s.queued) queued, "
      + "\(s.failed) failed\t\(s.frames) frames\(rate)\t\(s.file)"
    for reason in s.reasons { text += "\n  \(reason)" }
    return text
  }
}

/// `lrj worker`: processes queued spans until stopped (or, with `--drain`, until none is left).
struct Worker: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Process queued spans of ingests (users enrolled with the role worker); Ctrl-C gives the current span back.")

  @OptionGroup var key: KeyOption

  @Flag(help: "Exit once no span is queued or running.")
  var drain = false

  @Option(help: "Seconds a claim lasts without a heartbeat (another worker takes the span over after that).")
  var lease: Double = 60

  @Option(help: ArgumentHelp("The detector's model (default: LRJ_MODEL, else LRJ_HOME/models/yolox_nano.onnx).", valueName: "file"))
  var model: String?

  @Flag(help: "Run without the detector: take only spans queued without it.")
  var noModel = false

  func run() throws {
    try reportingErrors {
      guard lease >= 2, lease <= 3600 else { throw ValidationError("--lease must be in 2...3600 seconds") }
      if noModel && model != nil { throw ValidationError("--model and --no-model exclude each other") }
      let home = Installation.defaultHome
      let (installation, identity) = try key.signIn()
      let detector = noModel ? DetectorSetup.geometryOnly : try DetectorSetup.resolve(explicit: model, home: home)
      var worker = try SpanWorker(installation: installation, identity: identity, detector: detector, leaseSeconds: lease)
      Terminal.note("worker \(identity.user): ready; \(detector.summary)")
      if let notice = detector.notice { Terminal.note("warning: \(notice); this worker takes only spans queued without the detector") }
      var backoff = 1.0
      while true {
        do {
          if let report = try worker.processNext() {
            Terminal.say(Self.line(report))
          } else {
            if drain, try worker.pendingSpans() == 0 { return }
            Thread.sleep(forTimeInterval: 1)
          }
          backoff = 1
        } catch {
          Terminal.note("worker \(identity.user): \(error); retrying in \(Int(backoff)) s")
          Thread.sleep(forTimeInterval: backoff)
          backoff = min(30, backoff * 2)
          if let reopened = try? Installation.open(home: home),
            let fresh = try? SpanWorker(installation: reopened, identity: identity, detector: detector, leaseSeconds: lease)
          {
            worker = fresh
          }
        }
      }
    }
  }

  static func line(_ r: SpanReport) -> String {
    let to = r.to.map { String(format: "%.1f", $0) } ?? "end"
    var text = "\(r.procedure) \(r.job) span \(r.span)/\(r.spans) (\(String(format: "%.1f", r.from))–\(to) s of \(r.file)): \(r.outcome.rawValue)"
    if r.outcome == .done {
      text += String(format: ", %d tracks, %d frames in %.1f s (%.0f frames/s)", r.tracks, r.frames, r.seconds,
                     Double(r.frames) / max(r.seconds, 1e-3))
    }
    if let reason = r.reason { text += ": \(reason)" }
    return text
  }
}
