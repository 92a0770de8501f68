import Foundation

/// An error of the index store: what failed and why, in one line.
///
/// The command line maps these to a one-line `error: …` message and a non-zero exit code.
public enum IndexError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
  /// An exhibit with this SHA-256 is already in the store (re-ingest of the same file).
  case duplicateExhibit(sha256: String, existing: String)
  /// No exhibit with this id (or it is still being ingested).
  case exhibitNotFound(String)
  /// No track with this id.
  case trackNotFound(String)
  /// The exhibit is already complete: tracks can no longer be added to it.
  case exhibitAlreadyComplete(String)
  /// The exhibit's description was refused before any write, with the reason.
  case invalidExhibit(String)
  /// The track at this position of the batch was refused before any write, with the reason.
  case invalidTrack(index: Int, reason: String)
  /// A camera or zone name that breaks the naming rule.
  case invalidName(String)
  /// An identifier that is not of the form `E12`, `T17`.
  case invalidIdentifier(String)
  /// Stored data that cannot be decoded (a corrupt path blob or zone).
  case corruptData(String)
  /// SQLite refused an operation (a constraint, I/O, a locked or corrupt file).
  case storage(String)
  /// Another operation is storing an exhibit with this SHA-256 right now.
  case exhibitInProgress(sha256: String, exhibit: String)
  /// What is stored differs from the digest it must have.
  case digestMismatch(String)
  /// Sealed data could not be sealed or opened (altered, moved, or no key that opens it here).
  case sealed(String)

  public var description: String {
    switch self {
    case .duplicateExhibit(let sha256, let existing):
      return "exhibit already ingested as \(existing) (SHA-256 \(sha256))"
    case .exhibitNotFound(let id): return "no exhibit \(id) in this procedure"
    case .trackNotFound(let id): return "no track \(id) in this procedure"
    case .exhibitAlreadyComplete(let id): return "exhibit \(id) is already complete; no track can be added to it"
    case .invalidExhibit(let reason): return "invalid exhibit: \(reason)"
    case .invalidTrack(let index, let reason): return "invalid track #\(index) of the batch: \(reason)"
    case .invalidName(let reason): return "invalid name: \(reason)"
    case .invalidIdentifier(let text): return "invalid identifier \"\(text)\""
    case .corruptData(let what): return "corrupt index data: \(what)"
    case .storage(let message): return "index store: \(message)"
    case .exhibitInProgress(let sha256, let exhibit):
      return "the file with SHA-256 \(sha256) is being ingested right now (exhibit \(exhibit)); wait for it to finish"
    case .digestMismatch(let what): return "index store: \(what) differs from what was stored and logged"
    case .sealed(let what): return "sealed index data: \(what)"
    }
  }

  public var errorDescription: String? { description }
}

/// An error in a query or in text given by a user (zones, rules, names, times, numbers).
///
/// Each case says what was wrong; ``description`` is one human line.
public enum QueryError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
  /// A point that is not `x,y` with two numbers.
  case malformedPoint(String)
  /// A polygon or line with the wrong number of points.
  case wrongPointCount(shape: String, count: Int, expected: String)
  /// A text longer than lrj reads (a zone given as text): its length and the most accepted.
  case textTooLong(what: String, length: Int, maximum: Int, hint: String)
  /// A coordinate that is NaN or infinite.
  case notFinite(String)
  /// A coordinate outside 0…1.
  case coordinateOutOfRange(Double)
  /// Two edges of the polygon cross or touch (other than neighbours at their shared corner).
  case selfIntersecting
  /// A polygon of (almost) zero area, or a line of zero length, or a repeated point.
  case degenerateShape(String)
  /// A value that is not in the vocabulary; lists the valid ones.
  case unknownValue(kind: String, value: String, valid: [String])
  /// A refused biometric or person-attribute term: lrj has no such capability by design (DESIGN.md L7).
  case refusedBiometricTerm(String)
  /// A time that is not ISO 8601 with its UTC offset.
  case invalidTime(String, reason: String)
  /// A time range whose start is not before its end.
  case emptyTimeRange(from: String, to: String)
  /// A number that is not valid for its purpose.
  case invalidNumber(what: String, value: String)
  /// A zone rule that cannot be read.
  case invalidRule(String, reason: String)
  /// A zone rule used with the wrong kind of shape (for example `crosses` with a polygon).
  case ruleShapeMismatch(rule: String, needs: String)
  /// A named zone that is not saved for this camera.
  case unknownZone(name: String, camera: String)
  /// Limit or offset out of range.
  case invalidPaging(String)
  /// An identifier that is not of the form `E12` or `T17`.
  case invalidIdentifier(String)

  public var description: String {
    switch self {
    case .malformedPoint(let text):
      return "malformed point \"\(text)\": expected x,y with two numbers in 0..1 (for example 0.25,0.8)"
    case .wrongPointCount(let shape, let count, let expected):
      return "a \(shape) needs \(expected) points, got \(count)"
    case .textTooLong(let what, let length, let maximum, let hint):
      return "the \(what) is too long: \(length) characters, at most \(maximum)\(hint.isEmpty ? "" : " (\(hint))")"
    case .notFinite(let text): return "coordinate \"\(text)\" is not a finite number"
    case .coordinateOutOfRange(let value):
      return "coordinate \(value) is outside 0..1 (coordinates are fractions of the image width and height)"
    case .selfIntersecting: return "the polygon crosses itself; give its corners in order around its outline"
    case .degenerateShape(let reason): return "degenerate shape: \(reason)"
    case .unknownValue(let kind, let value, let valid):
      return "unknown \(kind) \"\(value)\"; valid \(kind) values: \(valid.joined(separator: ", "))"
    case .refusedBiometricTerm(let term):
      return
        "\"\(term)\" is a biometric or personal attribute: lrj has no biometric capability by design "
        + "(no face, sex, age, skin, hair, gait or appearance processing exists in the program)"  // refused terms (L7)
    case .invalidTime(let text, let reason): return "invalid time \"\(text)\": \(reason)"
    case .emptyTimeRange(let from, let to): return "empty time range: from \(from) is not before to \(to)"
    case .invalidNumber(let what, let value): return "invalid \(what): \"\(value)\""
    case .invalidRule(let text, let reason): return "invalid zone rule \"\(text)\": \(reason)"
    case .ruleShapeMismatch(let rule, let needs): return "zone rule \(rule) needs \(needs)"
    case .unknownZone(let name, let camera): return "no zone named @\(name) saved for camera \"\(camera)\""
    case .invalidPaging(let reason): return "invalid paging: \(reason)"
    case .invalidIdentifier(let text): return "invalid identifier \"\(text)\""
    }
  }

  public var errorDescription: String? { description }
}
