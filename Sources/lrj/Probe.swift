import ArgumentParser
import Foundation
import Media

/// `lrj probe FILE…`: what the decoder reports about each file.
struct Probe: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Report container, codec, size, frame rate, duration and creation time of video files.")

  @Flag(help: "Print JSON: one object per file, in an array.")
  var json = false

  @Flag(help: "Also decode every frame (at 640 px wide) and report frames decoded and corrupt packets skipped.")
  var decode = false

  @Argument(help: "Video files.")
  var files: [String]

  struct Report: Encodable {
    var info: VideoInfo
    var decoded: DecodeReport?
  }

  struct DecodeReport: Encodable {
    var frames: Int
    var skippedPackets: Int
    var firstTime: Double?
    var lastTime: Double?
    var seconds: Double
    var framesPerSecond: Double
  }

  func run() throws {
    var reports: [Report] = []
    var failures = 0
    for file in files {
      do {
        let decoder = try Decoder(path: file, format: .analysis())
        let decoded = decode ? try Self.decodeAll(decoder) : nil
        reports.append(Report(info: decoder.info, decoded: decoded))
        if !json { print(Self.table(decoder.info, decoded)) }
      } catch {
        Terminal.error(String(describing: error))
        failures += 1
      }
    }
    if json { print(Terminal.json(reports, pretty: true)) }
    if failures > 0 { throw ExitCode.failure }
  }

  static func decodeAll(_ decoder: Decoder) throws -> DecodeReport {
    let started = Date()
    var count = 0
    var first: Double?
    var last: Double?
    while let frame = try decoder.nextFrame() {
      count += 1
      if first == nil { first = frame.time }
      last = frame.time
    }
    let seconds = Date().timeIntervalSince(started)
    return DecodeReport(
      frames: count, skippedPackets: decoder.skippedPackets, firstTime: first, lastTime: last, seconds: seconds,
      framesPerSecond: seconds > 0 ? Double(count) / seconds : 0)
  }

  static func table(_ info: VideoInfo, _ decoded: DecodeReport?) -> String {
    func f(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }
    var rows: [(String, String)] = [
      ("container", "\(info.container) (\(info.containerLongName))"),
      ("codec", "\(info.codec) (\(info.codecLongName)), \(info.pixelFormat)"),
      ("size", "\(info.width)x\(info.height)"),
      ("frame rate", "\(f(info.frameRate)) fps"),
      ("duration", info.duration.map { "\(f($0)) s" } ?? "unknown"),
      ("start", "\(f(info.startTime)) s"),
      ("frames", info.declaredFrames.map { "\($0) (declared)" } ?? "not declared"),
      ("bit rate", info.bitRate.map { "\($0 / 1000) kb/s" } ?? "unknown"),
      ("file size", "\(info.fileSize) bytes"),
      ("created", info.creationTime ?? "no creation_time"),
      ("audio", info.hasAudio ? "yes" : "no"),
    ]
    if let decoded {
      rows.append(("decoded", "\(decoded.frames) frames in \(f(decoded.seconds, 2)) s (\(f(decoded.framesPerSecond, 1)) frames/s)"))
      rows.append(("skipped", "\(decoded.skippedPackets) corrupt packets"))
    }
    return ([info.path] + rows.map { "  " + $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 })
      .joined(separator: "\n")
  }
}
