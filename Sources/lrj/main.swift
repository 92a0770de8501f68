import ArgumentParser
import Consultation
import Dispatch
import Foundation
import Logging

/// The lrj command line: argument parsing and printing only; the work is done by the libraries.
struct LRJ: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lrj",
    abstract: "Forensic video search under judicial authorisation (no biometric capability).",
    version: LRJVersionText.current,
    subcommands: [About.self, Init.self, Key.self, User.self, Authorise.self, ProcedureCommand.self, Log.self, Probe.self, IngestCommand.self, Jobs.self, Worker.self, Search.self, Show.self, Extract.self, Export.self, Verify.self, SynopsisCommand.self, Tracks.self, ZoneCommand.self, Erase.self, Serve.self, Demo.self])
}

extension LRJ {
  /// Like `main()`, but a mistake on the command line is one `error:` line naming it and the help
  /// to read, as for every other error (argument-parser would add the whole usage).
  static func runReportingParseErrors() -> Never {
    do {
      var command = try parseAsRoot()
      try command.run()
      LogSealing.sealAll()
    } catch {
      LogSealing.sealAll()
      let code = exitCode(for: error)
      if code.isSuccess || error is ExitCode { exit(withError: error) }  // help, version, already reported
      let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
      Terminal.error(message + " (see `" + (["lrj"] + commandPath() + ["--help"]).joined(separator: " ") + "`)")
      exit(withError: ExitCode(code.rawValue))
    }
    exit()
  }

  /// The subcommand names at the start of the arguments, e.g. ["log", "verify"].
  static func commandPath() -> [String] {
    var path: [String] = []
    var current: any ParsableCommand.Type = LRJ.self
    for argument in CommandLine.arguments.dropFirst() {
      guard let next = current.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
      path.append(argument)
      current = next
    }
    return path
  }
}

/// Ctrl-C, `kill` or a closed terminal: the running operation is logged as interrupted, files not
/// yet published are removed, the log is sealed, and lrj exits with 128 + the signal's number.
enum StopSignals {
  nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []  // set once, before any command runs

  static func install() {
    for number in [SIGINT, SIGTERM, SIGHUP] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        Passphrase.restoreTerminal()
        Interruption.interrupted()
        LogSealing.sealAll()
        Terminal.error("interrupted (signal \(number)); files not yet published were removed")
        Foundation.exit(128 + number)
      }
      source.resume()
      sources.append(source)
    }
  }
}

LoggingSetup.bootstrap()
StopSignals.install()
LRJ.runReportingParseErrors()
