import ArgumentParser
import Consultation
import Foundation
import Logging

enum LRJVersionText {
  static var current: String { LRJVersion.current }
}

/// Logging for the whole process: libraries log through swift-log, only here is it bootstrapped.
enum LoggingSetup {
  static func bootstrap() {
    let level = ProcessInfo.processInfo.environment["LRJ_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}

/// Printing to the terminal; only the `lrj` target prints.
enum Terminal {
  /// The errors printed so far.
  static let printedErrors = LockedValue<[String]>([])

  /// Prints `error: message` on standard error.
  static func error(_ message: String) {
    printedErrors.withLock { $0.append(message) }
    FileHandle.standardError.write(Data("error: \(message.escapingControlCharacters)\n".utf8))
  }

  /// Prints a line on standard output at once (long-running commands: not held in a buffer until exit).
  static func say(_ line: String) {
    FileHandle.standardOutput.write(Data("\(line)\n".utf8))
  }

  /// Prints a line on standard error (progress, notes).
  static func note(_ message: String) {
    FileHandle.standardError.write(Data("\(message)\n".utf8))
  }

  /// JSON for machine output: sorted keys, no escaped slashes, dates in ISO 8601 (UTC).
  static func json<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
      : [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
  }
}

/// The users this process authenticated. When the command ends, whatever its outcome, each seals
/// the log's head with a signed checkpoint (if entries were added), so that refused and failed
/// attempts are covered as soon as successful ones.
enum LogSealing {
  private static let signers = LockedValue<[(installation: Installation, identity: Identity)]>([])

  static func remember(_ installation: Installation, _ identity: Identity) {
    signers.withLock { $0.append((installation, identity)) }
  }

  /// Seals for every remembered user; a failure is a warning (the operation itself is done and logged).
  static func sealAll() {
    for (installation, identity) in signers.withLock({ $0 }) {
      do {
        try installation.sealLog(by: identity)
      } catch {
        // The command's own error already said so (the database went away, for instance): one line.
        let cause = String(describing: error)
        if Terminal.printedErrors.withLock({ $0.contains { $0.contains(cause) } }) { continue }
        Terminal.note("warning: the consultation log could not be sealed by \(identity.user): \(cause)")
      }
    }
  }
}

/// A value shared between threads, guarded by a lock.
final class LockedValue<Value>: @unchecked Sendable {  // `value` is only touched under `lock`
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) { self.value = value }

  func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
    lock.withLock { body(&value) }
  }
}

extension String {
  /// The text on one line: line breaks, tabs and other control characters (and bidirectional
  /// overrides) shown as escapes such as `\n`, `\t`, `\u{1B}`, so that text from outside (a file
  /// name, a reason) can neither forge a line of output nor drive the terminal.
  var escapingControlCharacters: String {
    var out = ""
    for scalar in unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where Self.isHidden(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .lineSeparator, .paragraphSeparator: return true
    default: return (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
  }
}

extension ParsableCommand {
  /// Runs `body`; any error becomes a one-line `error:` and a non-zero exit.
  func reportingErrors(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let exit as ExitCode {
      throw exit
    } catch {
      Terminal.error(String(describing: error))
      throw ExitCode.failure
    }
  }
}

/// Files the user asked for (`--out`): written whole or not at all, never over a directory.
enum Files {
  /// Fails early when `path` cannot be written (missing folder, a directory, not writable).
  static func checkWritable(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw ValidationError("\(path) is a directory")
    }
    let folder = (path as NSString).deletingLastPathComponent
    let parent = folder.isEmpty ? "." : folder
    guard FileManager.default.isWritableFile(atPath: parent) else {
      throw ValidationError("\(path): cannot write in \(parent)")
    }
  }

  /// Writes `data` atomically (temporary file then rename).
  static func writeNew(_ data: Data, to path: String) throws {
    try checkWritable(path)
    do {
      try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw ValidationError("\(path): \(error.localizedDescription)")
    }
  }

  static func sha256(_ data: Data) -> String { SHA256Hex.of(data) }
}
