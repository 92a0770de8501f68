import ArgumentParser
import Consultation
import Foundation

/// `lrj log` and `lrj log verify`: the consultation log (DESIGN.md §8, L4).
struct Log: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the consultation log (magistrates, controller) or verify its hash chain.",
    subcommands: [Show.self, Verify.self], defaultSubcommand: Show.self)

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "List log entries.")

    @Option(help: "Only this procedure.")
    var procedure: String?

    @Option(help: "Only this user.")
    var user: String?

    @Option(help: "From this time (a day or ISO 8601).")
    var from: String?

    @Option(help: "Before this time (a day, through its end, or ISO 8601).")
    var to: String?

    @Flag(help: "Print JSON lines.")
    var json = false

    @Flag(help: "Print CSV (RFC 4180) with a header line.")
    var csv = false

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        guard !(json && csv) else { throw ValidationError("choose --json or --csv, not both") }
        let filter = LogFilter(
          procedure: procedure, user: user,
          from: try from.map { try DateArgument.parse($0, option: "--from", endOfDay: false) },
          to: try to.map { try DateArgument.parse($0, option: "--to", endOfDay: true) })
        let (installation, identity) = try key.signIn()
        let entries = try installation.consultLog(filter, by: identity)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if csv { print("seq,time,user,role,procedure,operation,outcome,result_count,parameters,files_sha256") }
        for stored in entries {
          guard let entry = stored.entry else {
            print(json ? "{\"seq\":\(stored.seq),\"purged\":true}" : csv ? "\(stored.seq),,,,,,purged,,," : "\(stored.seq)\t(body purged)")
            continue
          }
          let parameters = entry.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
          if json {
            struct Line: Encodable {
              var seq: Int64, time: String, user: String, role: String, procedure: String?, operation: String
              var parameters: [String: String], resultCount: Int?, outcome: String, filesSha256: [String]
            }
            print(Terminal.json(Line(
              seq: stored.seq, time: formatter.string(from: entry.time), user: entry.user, role: entry.role,
              procedure: entry.procedure, operation: entry.operation, parameters: entry.parameters,
              resultCount: entry.resultCount, outcome: entry.outcome.rawValue, filesSha256: entry.filesWritten)))
          } else if csv {
            print([String(stored.seq), formatter.string(from: entry.time), entry.user, entry.role, entry.procedure ?? "",
                   entry.operation, entry.outcome.rawValue, entry.resultCount.map(String.init) ?? "", parameters,
                   entry.filesWritten.joined(separator: " ")].map(Self.csvField).joined(separator: ","))
          } else {
            print([String(stored.seq), formatter.string(from: entry.time), entry.user, entry.role, entry.procedure ?? "-",
                   entry.operation, entry.outcome.rawValue, parameters].joined(separator: "\t"))
          }
        }
      }
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
      guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
      return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
  }

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Recompute the log's hash chain; exit non-zero naming the first bad entry.")

    func run() throws {
      try reportingErrors {
        let report = try Installation.open(home: Installation.defaultHome).verifyLog()
        if let failure = report.failure { throw ValidationError("consultation log does not verify: \(failure)") }
        print("consultation log verified: \(report.entryCount) entries (\(report.purgedCount) purged), "
              + "\(report.checkpointCount) signed checkpoints, head \(SHA256Hex.hex(report.head))")
      }
    }
  }
}
