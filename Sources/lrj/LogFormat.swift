import Consultation
import Foundation

/// How consultation-log entries are printed: the same lines for `lrj log` and the web console.
enum LogFormat {
  /// The CSV header line (RFC 4180).
  static let csvHeader = "seq,time,user,role,procedure,operation,outcome,result_count,parameters,files_sha256"

  /// One entry as a JSON object.
  struct Line: Encodable {
    var seq: Int64, time: String, user: String, role: String, procedure: String?, operation: String
    var parameters: [String: String], resultCount: Int?, outcome: String, filesSha256: [String]

    init(_ seq: Int64, _ e: LogEntry) {
      self.seq = seq
      time = LogFormat.time(e.time)
      user = e.user
      role = e.role
      procedure = e.procedure
      operation = e.operation
      parameters = e.parameters
      resultCount = e.resultCount
      outcome = e.outcome.rawValue
      filesSha256 = e.filesWritten
    }
  }

  /// UTC with milliseconds.
  static func time(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }

  /// `key=value` pairs, sorted by key; a value (or key) that is empty or holds a space, `=`, a quote
  /// or a backslash is quoted (`camera="Rue de la Paix 3"`, `\"` and `\\` inside), so that a
  /// logged value cannot pass for more pairs.
  static func parameters(_ e: LogEntry) -> String {
    e.parameters.sorted { $0.key < $1.key }.map { "\(quoted($0.key))=\(quoted($0.value))" }.joined(separator: " ")
  }

  /// `text` as is when it is one plain word, else in double quotes with `"` and `\` escaped.
  static func quoted(_ text: String) -> String {
    let plain = !text.isEmpty && !text.unicodeScalars.contains {
      $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.properties.isWhitespace
    }
    if plain { return text }
    return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  /// One entry as a CSV line.
  static func csv(_ seq: Int64, _ e: LogEntry) -> String {
    [String(seq), time(e.time), e.user, e.role, e.procedure ?? "", e.operation, e.outcome.rawValue,
     e.resultCount.map(String.init) ?? "", parameters(e), e.filesWritten.joined(separator: " ")]
      .map(csvField).joined(separator: ",")
  }

  /// One entry as a tab-separated line; control characters in a field are escaped, so that a
  /// logged value cannot forge a line.
  static func tabbed(_ seq: Int64, _ e: LogEntry) -> String {
    [String(seq), time(e.time), e.user, e.role, e.procedure ?? "-", e.operation, e.outcome.rawValue, parameters(e)]
      .map(\.escapingControlCharacters).joined(separator: "\t")
  }

  /// A CSV field, quoted when it holds a comma, quote or line break.
  static func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
