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

    @Flag(help: "Print JSON lines.")
    var json = false

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let installation = try Installation.open(home: ProcedureWorkspace.home)
        let identity = try key.authenticate(installation)
        let entries = try installation.consultLog(LogFilter(procedure: procedure, user: user), by: identity)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for stored in entries {
          guard let entry = stored.entry else {
            print(json ? "{\"seq\":\(stored.seq),\"purged\":true}" : "\(stored.seq)\t(body purged)")
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
          } else {
            print([String(stored.seq), formatter.string(from: entry.time), entry.user, entry.role, entry.procedure ?? "-",
                   entry.operation, entry.outcome.rawValue, parameters].joined(separator: "\t"))
          }
        }
      }
    }
  }

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Recompute the log's hash chain; exit non-zero naming the first bad entry.")

    func run() throws {
      try reportingErrors {
        let report = try Installation.open(home: ProcedureWorkspace.home).verifyLog()
        if let failure = report.failure { throw ValidationError("consultation log does not verify: \(failure)") }
        print("consultation log verified: \(report.entryCount) entries (\(report.purgedCount) purged), "
              + "head \(SHA256Hex.hex(report.head))")
      }
    }
  }
}
