import ArgumentParser
import Consultation
import Foundation
import Index

/// Search filters shared by `search` (and later `synopsis`).
struct FilterOptions: ParsableArguments {
  @Option(name: .customLong("class"), help: "Object class: person, car, two-wheeler, bus-truck, other (repeat or comma-separate for OR).")
  var classes: [String] = []

  @Option(name: [.customLong("colour"), .customLong("color")], help: "Colour, one of the eleven basic terms (repeat or comma-separate for OR).")
  var colours: [String] = []

  @Option(help: "Least fraction of the track's pixels for a colour to count (default 0.2).")
  var minColourFraction: String?

  @Option(name: .customLong("direction"), help: "Direction: up, up-right, right, down-right, down, down-left, left, up-left, stationary.")
  var directions: [String] = []

  @Option(name: .customLong("camera"), help: "Camera name (repeat for OR).")
  var cameras: [String] = []

  @Option(name: .customLong("exhibit"), help: "Exhibit id, E1… (repeat for OR).")
  var exhibits: [String] = []

  @Option(help: "From this wall-clock time, ISO 8601 with offset (tracks overlapping [from, to)).")
  var from: String?

  @Option(help: "Up to this wall-clock time, ISO 8601 with offset.")
  var to: String?

  @Option(help: "Least duration in seconds.")
  var minDuration: String?

  @Option(help: "Least mean speed, image widths per second.")
  var minSpeed: String?

  @Option(help: "Greatest mean speed, image widths per second.")
  var maxSpeed: String?

  @Option(help: "Least box area, as a fraction of the picture.")
  var minSize: String?

  @Option(help: "Zone of one camera drawn now, normalised: polygon \"x,y x,y x,y …\", line \"x,y x,y\", or @name.")
  var zone: String?

  @Option(help: "enters (polygon default), exits, inside, dwell:SECONDS, crosses[:left-to-right|:right-to-left] (line default), from:@ZONE.")
  var zoneRule: String?

  var filters: SearchFilters {
    var filters = SearchFilters()
    filters.classes = classes
    filters.colours = colours
    filters.minColourFraction = minColourFraction
    filters.directions = directions
    filters.cameras = cameras
    filters.exhibits = exhibits
    filters.from = from
    filters.to = to
    filters.minDuration = minDuration
    filters.minSpeed = minSpeed
    filters.maxSpeed = maxSpeed
    filters.minSize = minSize
    filters.zone = zone
    filters.zoneRule = zoneRule
    return filters
  }
}

/// `lrj search`: tracks by class, colour, direction, camera, time and zone.
struct Search: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Find tracks by class, colour, direction, camera, time range and zones drawn now.",
    discussion: "lrj has no biometric capability: person attributes such as face, sex, age, skin or hair are refused.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @OptionGroup var options: FilterOptions

  @Option(help: "Results per page (at most 10000).")
  var limit: Int = 100

  @Option(help: "Results to skip.")
  var offset: Int = 0

  @Flag(help: "Print {\"total\": N, \"results\": [...]}.")
  var json = false

  func run() throws {
    try reportingErrors {
      var filters = options.filters
      filters.limit = limit
      filters.offset = offset
      let result = try key.access(procedure).search(filters)
      if json {
        print(Terminal.json(result))
      } else {
        print(Self.table(result, offset: offset))
      }
    }
  }

  static func table(_ result: SearchResult, offset: Int) -> String {
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    let header = ["track", "camera", "exhibit", "class", "colours", "direction", "start", "end", "offset s", "first box"]
    let rows = result.results.map { r -> [String] in
      let colours = r.colours.map { "\($0.colour.rawValue) \(Int(($0.fraction * 100).rounded()))%" }.joined(separator: ", ")
      var row = [r.track, r.camera, r.exhibit, r.objectClass.rawValue, colours, r.direction.rawValue,
                 r.start.iso8601(fractionDigits: 1), r.end.iso8601(fractionDigits: 1),
                 "\(f(r.startOffset))–\(f(r.endOffset))",
                 "\(Int(r.firstBox.x)),\(Int(r.firstBox.y)) \(Int(r.firstBox.width))x\(Int(r.firstBox.height))"]
      if let first = r.zoneFirst, let last = r.zoneLast { row[8] += " (zone \(f(first))–\(f(last)))" }
      return row
    }
    let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    let shown = result.results.isEmpty ? "none" : "\(offset + 1)–\(offset + result.results.count)"
    return ([line(header)] + rows.map(line) + ["\(result.total) tracks (showing \(shown))"]).joined(separator: "\n")
  }
}

/// `lrj show`: a track's thumbnail.
struct Show: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write a track's thumbnail (the largest clear view) as PNG.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Argument(help: "The track id (T17).")
  var track: String

  @Option(help: "The PNG file to write.")
  var out: String

  func run() throws {
    try reportingErrors {
      let written = try key.access(procedure).exportThumbnail(track: track, to: out)
      print("\(out) (\(written.bytes) bytes, SHA-256 \(written.sha256))")
    }
  }
}

/// `lrj extract`: the original footage around a track.
struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the original footage around a track as MP4 (stream copy when possible) and print its SHA-256.")

  @Option(help: "The procedure id.")
  var procedure: String

  @OptionGroup var key: KeyOption

  @Argument(help: "The track id (T17).")
  var track: String

  @Option(help: "The MP4 file to write.")
  var out: String

  @Option(help: "Seconds of footage kept before and after the track.")
  var margin: Double = 2

  @Flag(help: "Print the report as JSON.")
  var json = false

  func run() throws {
    try reportingErrors {
      let report = try key.access(procedure).extract(track: track, margin: margin, to: out)
      if json {
        print(Terminal.json(report))
      } else {
        print(String(format: "%@ (%@ of exhibit %@, %.2f–%.2f s, %d frames, %@)\nSHA-256 %@", report.file, report.track,
                     report.exhibit, report.from, report.to, report.frames,
                     report.streamCopied ? "stream copy" : "re-encoded", report.sha256))
      }
    }
  }
}

/// `lrj zone save`: name a zone of a camera for later searches.
struct ZoneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zone", abstract: "Save named zones of a camera, used in searches as --zone @name.",
    subcommands: [Save.self])

  struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Save a polygon or line of a camera under a name.")

    @Option(help: "The procedure id.")
    var procedure: String

    @OptionGroup var key: KeyOption

    @Option(help: "The camera.")
    var camera: String

    @Option(help: "The zone's name.")
    var name: String

    @Flag(help: "Replace a zone of the same name.")
    var replace = false

    @Argument(help: "Polygon \"x,y x,y x,y …\" or line \"x,y x,y\", normalised.")
    var points: String

    func run() throws {
      try reportingErrors {
        try key.access(procedure).saveZone(points, name: name, camera: camera, replacing: replace)
        print("zone @\(name) saved for camera \(camera)")
      }
    }
  }
}
