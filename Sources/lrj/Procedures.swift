import ArgumentParser
import Consultation
import Foundation
import Index

/// Times on the command line: ISO 8601 with offset, or a day `YYYY-MM-DD` (its end, UTC, for `--until`).
enum DateArgument {
  static func parse(_ text: String, option: String, endOfDay: Bool) throws -> Date {
    if let time = try? WallClockTime(iso8601: text) { return time.date }
    let day = DateFormatter()
    day.locale = Locale(identifier: "en_US_POSIX")
    day.timeZone = TimeZone(identifier: "UTC")
    day.dateFormat = "yyyy-MM-dd"
    if text.count == 10, let date = day.date(from: text) { return endOfDay ? date.addingTimeInterval(86_399) : date }
    throw ValidationError("\(option) \"\(text)\" is not a day (2026-12-31) or an ISO 8601 time with offset")
  }
}

/// `lrj authorise`: a magistrate's authorisation for one procedure, or its revocation.
struct Authorise: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "authorise",
    abstract: "Authorise a procedure (magistrates): write a signed token naming its investigators; or revoke one.",
    discussion: "Kinds (CPP art. 230-20, 230-26): \(ProcedureKind.allCases.map(\.rawValue).joined(separator: ", ")).")

  @Option(help: "The procedure id.")
  var procedure: String?

  @Option(help: "The procedure kind.")
  var kind: String?

  @Option(help: "An investigator the authorisation names (repeat).")
  var investigator: [String] = []

  @Option(help: "Valid from (default: now): a day or an ISO 8601 time.")
  var from: String?

  @Option(help: "Valid until: a day (through its end, UTC) or an ISO 8601 time.")
  var until: String?

  @Option(help: "The token file to write (mode 0600; never overwritten).")
  var out: String?

  @Option(help: "Revoke this token id instead.")
  var revoke: String?

  @OptionGroup var key: KeyOption

  func run() throws {
    try reportingErrors {
      if let revoke {
        let (installation, identity) = try key.signIn()
        try installation.revoke(tokenID: revoke, by: identity)
        print("authorisation \(revoke) revoked")
        return
      }
      guard let procedure, let kindText = kind, let until, let out else {
        throw ValidationError("authorise needs --procedure, --kind, --investigator, --until and --out (or --revoke TOKEN-ID)")
      }
      guard let kind = ProcedureKind(rawValue: kindText) else {
        throw ValidationError("kind \"\(kindText)\" is not allowed; kinds: \(ProcedureKind.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      let expires = try DateArgument.parse(until, option: "--until", endOfDay: true)
      let notBefore = try from.map { try DateArgument.parse($0, option: "--from", endOfDay: false) } ?? Date()
      guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists; choose another file") }
      try Files.checkWritable(out)
      let (installation, identity) = try key.signIn()
      let (token, claims) = try installation.authorise(
        procedure: procedure, kind: kind, investigators: investigator, notBefore: notBefore, expires: expires, by: identity)
      guard FileManager.default.createFile(atPath: out, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
        throw ValidationError("cannot write \(out)")
      }
      print("authorisation \(claims.jti) for procedure \(procedure) (\(kind.rawValue)), investigators \(investigator.joined(separator: ", ")),")
      print("valid \(AuthorisationText.time(claims.nbf)) to \(AuthorisationText.time(claims.exp)); token written to \(out)")
    }
  }
}

enum AuthorisationText {
  static func time(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }
}

/// `lrj procedure open|close|list`.
struct ProcedureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "procedure", abstract: "Open a procedure with a magistrate's token, list procedures, close one.",
    subcommands: [Open.self, Close.self, List.self, Transfer.self])

  struct Transfer: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Hand a procedure over to another magistrate (its magistrate in charge or the controller; logged and signed).")

    @Option(help: "The procedure id.")
    var procedure: String

    @Option(help: "The magistrate who takes charge of it.")
    var to: String

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let (installation, identity) = try key.signIn()
        try installation.transfer(procedure: procedure, to: to, by: identity)
        print("procedure \(procedure) is now in the charge of magistrate \(to)")
      }
    }
  }

  struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Present a magistrate's authorisation token: registers the procedure and creates its sealed vault (investigators).")

    @Option(help: "The token file written by lrj authorise.")
    var token: String

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        guard let data = FileManager.default.contents(atPath: token), data.count < 16_384 else {
          throw ValidationError("cannot read token file \(token) (or it is over 16 KiB)")
        }
        let (installation, identity) = try key.signIn()
        let (procedure, claims) = try installation.openProcedure(token: String(decoding: data, as: UTF8.self), by: identity)
        print("procedure \(procedure.id) open (\(claims.kind.rawValue)), authorised by \(claims.iss) "
              + "until \(AuthorisationText.time(claims.exp)) for \(claims.investigators.joined(separator: ", "))")
      }
    }
  }

  struct Close: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Close a procedure (its magistrate or the controller): write the closure report, then erase its data.")

    @Option(help: "The procedure id.")
    var procedure: String

    @Option(help: "The folder to write the closure report into.")
    var report: String

    @Flag(help: "Also write an archive of the data exploited (tracks and thumbnails) with its SHA-256.")
    var withData = false

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let result = try key.access(procedure).close(reportFolder: URL(fileURLWithPath: report), withData: withData)
        if result.resumed { print("procedure \(procedure): the closure begun earlier was finished") }
        print("procedure \(procedure) closed; its vault is erased (\(result.erasure.vaultFiles.count) files, "
              + "\(result.erasure.vaultBytes) bytes) and its key destroyed")
        for file in result.files { print("\(file.path)\tSHA-256 \(file.sha256)") }
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The procedures you may consult.")

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var key: KeyOption

    func run() throws {
      try reportingErrors {
        let (installation, identity) = try key.signIn()
        let procedures = try installation.procedures(visibleTo: identity)
        if json {
          struct Line: Encodable { var procedure: ProcedureRecord; var authorisations: [AuthorisationRecord] }
          print(Terminal.json(procedures.map { Line(procedure: $0.procedure, authorisations: $0.authorisations) }))
          return
        }
        for (procedure, authorisations) in procedures {
          let until = authorisations.filter { $0.revokedAt == nil && $0.registeredAt != nil }.map(\.expires).max()
            .map(AuthorisationText.time) ?? "-"
          let status = procedure.isClosing ? "closing (\(procedure.closure ?? ""))" : procedure.status
          print([procedure.id, procedure.kind.rawValue, status, "magistrate \(procedure.magistrate)", "until \(until)"]
            .joined(separator: "\t"))
        }
      }
    }
  }
}

/// `lrj erase`: the magistrate has a track or an exhibit erased during the procedure (L9).
struct Erase: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Erase a track or a whole exhibit from a procedure (the magistrate who authorised it; logged).")

  @Option(help: "The procedure id.")
  var procedure: String

  @Option(help: "The track to erase (T17).")
  var track: String?

  @Option(help: "The exhibit to erase with all its tracks (E2).")
  var exhibit: String?

  @Option(help: "Why (recorded in the consultation log).")
  var reason: String

  @OptionGroup var key: KeyOption

  func run() throws {
    try reportingErrors {
      try key.access(procedure).erase(track: track, exhibit: exhibit, reason: reason)
      print("\(track ?? exhibit ?? "") erased from procedure \(procedure)")
    }
  }
}
