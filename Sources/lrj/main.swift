import ArgumentParser
import Logging

/// The lrj command line: argument parsing and printing only; the work is done by the libraries.
struct LRJ: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lrj",
    abstract: "Forensic video search under judicial authorisation (no biometric capability).",
    version: LRJVersionText.current,
    subcommands: [About.self, Init.self, Key.self, User.self, Authorise.self, ProcedureCommand.self, Log.self, Probe.self, IngestCommand.self, Search.self, Show.self, Extract.self, SynopsisCommand.self, Tracks.self, ZoneCommand.self, Erase.self, Serve.self, Demo.self])
}

LoggingSetup.bootstrap()
LRJ.main()
