import Index
import Media

/// The JSON written beside a synopsis MP4: for every object shown, where it is in the synopsis
/// and where it comes from, so that `lrj extract TRACK` brings back the original.
public struct SynopsisIndex: Sendable, Hashable, Codable {
  /// One object of the synopsis.
  public struct Object: Sendable, Hashable, Codable {
    /// Track id (`T17`), for `lrj extract`.
    public var track: String
    public var exhibit: String
    public var `class`: ObjectClass
    /// Seconds from the synopsis start: first and last frame showing the object.
    public var synopsisStart: Double
    public var synopsisEnd: Double
    /// Output frame indices (0-based) of the same.
    public var synopsisFirstFrame: Int
    public var synopsisLastFrame: Int
    /// Seconds from the exhibit's first frame.
    public var sourceStartOffset: Double
    public var sourceEndOffset: Double
    /// Wall-clock times of the first and last box.
    public var start: WallClockTime
    public var end: WallClockTime
    /// Objects of the same group interacted in the original and keep their relative timing.
    public var group: Int
    /// Where the PNG overview shows the object (source pixels), so a click on it can open its track.
    public var overviewBoxes: [Box]
    /// Whether the object plays faster while it stays put (some source frames skipped; its clock
    /// stays true to each frame shown).
    public var timeLapsed: Bool
  }

  /// The MP4's file name.
  public var video: String
  public var camera: String
  /// The picture's size (the MP4's and the overview's), in pixels.
  public var width: Int
  public var height: Int
  public var frameRate: Double
  public var frames: Int
  public var seconds: Double
  /// Seconds of the source timeline from the first object's start to the last one's end.
  public var sourceSeconds: Double
  /// `sourceSeconds / seconds`.
  public var condensation: Double
  /// Overlap area of objects of different groups shown at once, in % of the objects' area.
  public var collisionPercent: Double
  public var maxConcurrent: Int
  /// Objects in synopsis order (by first frame, then track).
  public var objects: [Object]

  /// The index of `plan` over `tubes`.
  public init(plan: SynopsisPlan, tubes: [Tube], video: String, camera: String, size: PixelSize) {
    let fps = plan.frameRate
    self.video = video
    self.camera = camera
    width = size.width
    height = size.height
    frameRate = fps
    frames = plan.frameCount
    seconds = plan.seconds
    sourceSeconds = Double(plan.sourceFrames) / fps
    condensation = plan.condensation
    collisionPercent = plan.collision.fraction * 100
    maxConcurrent = plan.maxConcurrent
    objects = plan.placements.sorted { ($0.outputStart, $0.tube) < ($1.outputStart, $1.tube) }.map { p in
      let tube = tubes[p.tube]
      let last = tube.boxes.count - 1
      return Object(
        track: tube.track, exhibit: tube.exhibit, class: tube.objectClass, synopsisStart: Double(p.outputStart) / fps,
        synopsisEnd: Double(p.outputEnd - 1) / fps, synopsisFirstFrame: p.outputStart, synopsisLastFrame: p.outputEnd - 1,
        sourceStartOffset: tube.sourceOffset, sourceEndOffset: tube.sourceTime(ofBox: last, frameRate: fps),
        start: tube.clockTime(ofBox: 0, frameRate: fps), end: tube.clockTime(ofBox: last, frameRate: fps), group: p.group,
        overviewBoxes: Overview.instances(of: tube).map { tube.boxes[$0] }, timeLapsed: !tube.boxTimes.isEmpty)
    }
  }
}
