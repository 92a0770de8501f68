import Foundation

@testable import Index

/// A ground path in normalised coordinates: (time, x, y) per sample.
func groundPath(_ samples: [(Double, Double, Double)]) -> [PathPoint] {
  samples.map { PathPoint(time: $0.0, position: Point(x: $0.1, y: $0.2)) }
}

func polygon(_ text: String) -> ZoneShape { .polygon(try! QueryParser.polygon(text)) }

func evaluate(_ rule: ZoneRule, _ shape: ZoneShape, _ samples: [(Double, Double, Double)]) -> (
  first: Double, last: Double
)? {
  ZoneQuery(zone: Zone(camera: "c", shape: shape), rule: rule).evaluate(groundPath(samples))
}

func approx(_ a: (first: Double, last: Double)?, _ b: (Double, Double)?, tolerance: Double = 1e-6) -> Bool {
  switch (a, b) {
  case (nil, nil): return true
  case (let a?, let b?): return abs(a.first - b.0) < tolerance && abs(a.last - b.1) < tolerance
  default: return false
  }
}

let frameWidth = 640
let frameHeight = 480

/// A path whose ground positions (bottom-centre of a 20x40 box) are the given normalised points, in a
/// 640x480 frame at 25 fps.
func pixelPath(_ samples: [(Double, Double, Double)]) -> [PathSample] {
  samples.map { t, x, y in
    PathSample(
      time: t, frameIndex: Int((t * 25).rounded()),
      box: Box(x: x * Double(frameWidth) - 10, y: y * Double(frameHeight) - 40, width: 20, height: 40))
  }
}

func makeTrack(
  _ objectClass: ObjectClass = .car, colours: [ColourFraction] = [ColourFraction(.red, 0.6)],
  direction: Direction = .right, speed: Double = 0.1, from start: Double = 0, to end: Double = 10,
  path: [(Double, Double, Double)]? = nil, area: Double? = nil
) -> NewTrack {
  NewTrack(
    objectClass: objectClass, classConfidence: 0.8, colours: colours, direction: direction, speed: speed,
    path: pixelPath(path ?? [(start, 0.2, 0.9), (end, 0.8, 0.9)]), maxBoxAreaFraction: area)
}

func metadata(
  sha: Character = "a", camera: String = "north", start: String = "2026-03-01T10:00:00+01:00"
) -> ExhibitMetadata {
  ExhibitMetadata(
    fileName: "cam-\(sha).mp4", sha256: String(repeating: sha, count: 64), sizeBytes: 1_000_000,
    container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "h264", width: frameWidth, height: frameHeight, fps: 25,
    camera: camera, start: try! WallClockTime(iso8601: start))
}

let completion = ExhibitCompletion(duration: 600, framesDecoded: 15000, skippedPackets: 0)

func date(_ text: String) -> Date { try! WallClockTime(iso8601: text).date }
