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
        if let from = filter.from, let to = filter.to, from > to { throw ValidationError("--from is after --to") }
        let (installation, identity) = try key.signIn()
        let entries = try installation.consultLog(filter, by: identity)
        if csv { print(LogFormat.csvHeader) }
        for stored in entries {
          guard let entry = stored.entry else {
            print(json ? "{\"seq\":\(stored.seq),\"purged\":true}" : csv ? "\(stored.seq),,,,,,purged,,," : "\(stored.seq)\t(body purged)")
            continue
          }
          print(json ? Terminal.json(LogFormat.Line(stored.seq, entry))
                : csv ? LogFormat.csv(stored.seq, entry) : LogFormat.tabbed(stored.seq, entry))
        }
      }
    }
  }

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Verify the log and everything it vouches for; exit non-zero naming what does not hold.",
      discussion: """
        Recomputes the hash chain and checks every signed checkpoint; checks the log against the checkpoints \
        kept outside the registry ($LRJ_HOME/checkpoint, your own cache, and any --checkpoint FILE: a signed \
        checkpoint, or a closure report's JSON, that someone kept); checks the registry's users, procedures, \
        authorisations and closures against the operations the log records; and checks every open \
        procedure's key, vault and stored tracks against the digests their ingests logged.
        """)

    @Option(help: "A checkpoint someone kept (a note lrj signed, or a closure report's closure-P.json); repeat for several.")
    var checkpoint: [String] = []

    func run() throws {
      try reportingErrors {
        let installation = try Installation.open(home: Installation.defaultHome)
        let kept = try checkpoint.map { try Installation.readCheckpoint(URL(fileURLWithPath: $0)) }
        let audit = try installation.verifyLog(checkpoints: kept)
        let report = audit.chain
        if let failure = report.failure { throw ValidationError("consultation log does not verify: \(failure)") }
        for note in audit.notes { Terminal.note("note: \(note.escapingControlCharacters)") }
        if let first = audit.problems.first {
          for problem in audit.problems { print("- \(problem.escapingControlCharacters)") }
          let more = audit.problems.count > 1 ? " (and \(audit.problems.count - 1) more, listed above)" : ""
          throw ValidationError("consultation log does not verify: \(first)\(more)")
        }
        print("consultation log verified: \(report.entryCount) entries (\(report.purgedCount) purged), "
              + "\(report.checkpointCount) signed checkpoints, head \(SHA256Hex.hex(report.head))")
        print("registry, vaults and stored tracks agree with the log; checked against \(installation.keptCheckpoints().count + kept.count) "
              + "checkpoint(s) kept outside the registry")
        if report.sealedCount < report.entryCount {
          // Attempts by users who could not be authenticated wait for the next command's checkpoint.
          let first = report.sealedCount + 1, last = Int64(report.entryCount)
          let entries = first == last ? "entry \(first) comes" : "entries \(first) to \(last) come"
          Terminal.note("note: \(entries) after the last signed checkpoint; the next command of an authenticated "
                        + "user seals them")
        }
      }
    }
  }
}
