import Foundation
import Index
import Media

/// What the analysis of one span of an exhibit found.
public struct SpanAnalysis: Sendable {
  public var window: AnalysisWindow
  /// Its tracks, thumbnails cut at source quality.
  public var tracks: [NewTrack]
  /// Indices of the tracks kept only because the span's edge cuts them (not seen moving in the span).
  public var provisional: Set<Int>
  /// Frames decoded in the window, and the times of the first and last.
  public var frames: Int
  /// Frames from the window's `ownFrom` on: what this span adds to the exhibit's count.
  public var ownFrames: Int
  public var firstTime: Double
  public var lastTime: Double
  public var skippedPackets: Int
  /// The SHA-256 of the whole file, read while decoding (L8: every span re-checks it).
  public var sha256: String
  public var info: VideoInfo
  /// The runtime the detector ran on, with its version (nil without a model).
  public var detectorRuntime: String?
}

extension Spans {
  /// Analyses the part of `path` in `window`.
  /// - Throws: `MediaError` for unreadable or bad footage.
  public static func analyse(path: String, window: AnalysisWindow, settings: AnalysisSettings = AnalysisSettings()) throws
    -> SpanAnalysis
  {
    var result = try Analyzer(settings: settings).analyse(path: path, window: window)
    result.tracks = SourceThumbnails.refine(result.tracks, path: path, threads: settings.threads)
    return SpanAnalysis(
      window: window, tracks: result.tracks.map(\.track),
      provisional: Set(result.tracks.indices.filter { result.tracks[$0].provisional }), frames: result.frames, ownFrames: result.ownFrames, firstTime: result.firstTime,
      lastTime: result.lastTime, skippedPackets: result.skippedPackets, sha256: result.sha256, info: result.info,
      detectorRuntime: result.runtime?.description)
  }
}

/// What `lrj ingest --queue` learns of a file before cutting it into spans: its stream, SHA-256 and
/// the keyframes its container indexes.
public struct ExhibitSurvey: Sendable {
  public var info: VideoInfo
  public var sha256: String
  /// Keyframe times from the container's index (empty without one).
  public var keyframes: [Double]
  /// The container's creation time, in UTC, if it has one.
  public var creationTime: WallClockTime?

  /// Opens `path`, reads its index and hashes it whole.
  /// - Throws: `MediaError` for unreadable or bad footage.
  public static func of(path: String) throws -> ExhibitSurvey {
    let decoder = try Decoder(path: path, format: FrameFormat(layout: .gray, size: PixelSize(width: 16, height: 16)))
    let keyframes = decoder.indexedKeyframeTimes
    let sha256: String
    do { sha256 = try ExhibitHasher().finish(path: path) } catch {
      throw MediaError(.unreadable, path: path, "cannot be read to the end: \(error.localizedDescription)")
    }
    return ExhibitSurvey(info: decoder.info, sha256: sha256, keyframes: keyframes, creationTime: try Ingestor.creationTime(decoder.info))
  }
}
