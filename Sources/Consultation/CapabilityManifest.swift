import Crypto
import Foundation
import Index
import Ingest
import Media

/// The version of lrj.
public enum LRJVersion {
  /// Semantic version of this build.
  public static let current = "0.1.0"
}

/// What this build of lrj can do, compiled in and stated for the record (DESIGN.md §8, L7).
///
/// The manifest lists the decoders, the object classes, colours and directions, and the query
/// predicates. Its SHA-256 goes into closure reports, so a magistrate can tell which capabilities
/// the program that processed a procedure had.
public struct CapabilityManifest: Codable, Sendable, Hashable {
  public var program: String
  public var version: String
  public var ffmpeg: String
  public var libpng: String
  public var videoDecoders: [String]
  public var objectClasses: [String]
  /// How object classes are decided: the classifiers compiled in.
  public var objectClassifiers: [String]
  public var colours: [String]
  public var directions: [String]
  public var queryPredicates: [String]
  /// The statement that no biometric capability exists in the program (L7).
  public var exclusionStatement: String
  /// Processing that is absent from the program by construction (no code, no library, no model).
  public var excludedByConstruction: [String]

  /// The manifest of this build.
  public static var current: CapabilityManifest {
    CapabilityManifest(
      program: "lrj",
      version: LRJVersion.current,
      ffmpeg: FFmpeg.version,
      libpng: PNG.libraryVersion,
      videoDecoders: FFmpeg.videoDecoders,
      objectClasses: ObjectClass.allCases.map(\.rawValue),
      objectClassifiers: [
        "geometry and motion",
        ClassifierModel.capability,
      ],
      colours: Colour.allCases.map(\.rawValue),
      directions: Direction.allCases.map(\.rawValue),
      queryPredicates: [
        "class", "colour", "direction", "camera", "exhibit", "time-range", "duration", "speed", "size",
        "zone:enters", "zone:exits", "zone:inside", "zone:dwell", "zone:crosses", "zone:from-to",
      ],
      exclusionStatement: "lrj has no biometric capability: it is excluded from the program, not switched off (L7)",
      excludedByConstruction: excludedProcessing)
  }

  /// Processing excluded from lrj by construction: no code, no library, no model for any of it.
  public static let excludedProcessing = ["face detection", "face recognition", "appearance similarity", "person re-identification", "sex", "age", "skin", "hair", "gait", "any other person attribute"]  // excluded

  /// Canonical JSON (sorted keys, no whitespace) of the manifest.
  public var canonicalJSON: Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain strings and arrays cannot fail.
    return try! encoder.encode(self)
  }

  /// SHA-256 of the canonical JSON, in hex.
  public var sha256: String {
    SHA256Hex.of(canonicalJSON)
  }
}
