import Consultation
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Messages for inputs that used to get a misleading or raw one (issue 20, part 9), each through
/// the built `lrj` as a user would meet it.
@Suite(.serialized)
struct MessageTests {
  /// A zone text too long to read is named as such (it used to say "a zone needs fewer (the text
  /// is too long) points, got -1").
  @Test func aZoneTextTooLongIsNamed() throws {
    let installation = try TestInstallation.make("lrj-zone-long")
    defer { installation.remove() }
    for length in [16_385, 20_000, 100_000] {
      let zone = String(String(repeating: "0.5,0.5 ", count: length / 8 + 1).prefix(length - 1)) + "5"
      let result = try Run.lrj(["search", "--procedure", "P1", "--camera", "c", "--zone", zone], environment: installation.env())
      #expect(result.status == 1)
      let lines = result.standardError.split(separator: "\n")
      #expect(lines.count == 1 && lines[0].hasPrefix("error: the zone text is too long: \(length) characters, at most 16384"),
              "\(result.standardError)")
      #expect(!result.standardError.contains("-1") && !result.standardError.contains("fewer"))
    }
  }

  /// A named pipe, a socket or a device given to ingest or probe is named as such, not "an empty
  /// file (0 bytes)"; nothing blocks on the pipe.
  @Test func nonRegularFilesAreNamed() throws {
    let installation = try TestInstallation.make("lrj-fifo")
    defer { installation.remove() }
    let fifo = installation.folder.appendingPathComponent("camera.mp4").path
    try #require(mkfifo(fifo, 0o600) == 0)
    var cases = [(fifo, "is a named pipe (FIFO), not a regular file"), ("/dev/null", "is a character device, not a regular file")]
    let socket = installation.folder.appendingPathComponent("s.mp4").path
    let bound = try? Run.program(
      "python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socket])
    if bound?.status == 0 { cases.append((socket, "is a socket, not a regular file")) }
    for (path, expected) in cases {
      for arguments in [["ingest", "--procedure", "P1", "--camera", "c", "--start", "2026-03-01T10:00:00Z", path],
                        ["probe", path]] {
        let result = try Run.lrj(arguments, environment: installation.env())
        #expect(result.status == 1, "\(arguments)")
        #expect(result.standardError == "error: \(path): \(expected); lrj reads exhibits from regular files only\n",
                "\(arguments): \(result.standardError)")
      }
    }
    #expect(try IngestCommandTests.exhibits(home: installation.home, procedure: "P1").isEmpty)
  }

  /// A validly signed token whose claims have the wrong JSON types is refused in plain words naming
  /// the claim and what it must be, not with Swift's `DecodingError` dump.
  @Test func wronglyTypedClaimsAreNamedInPlainWords() throws {
    let installation = try TestInstallation.make("lrj-claims", procedure: nil)
    defer { installation.remove() }
    let manifest = try JSONSerialization.jsonObject(
      with: Data(contentsOf: installation.home.appendingPathComponent("installation.json"))) as? [String: Any]
    let installationID = try #require(manifest?["id"] as? String)
    let key = PasetoV4SecretKey(
      try SealedKeyFile.read(from: URL(fileURLWithPath: installation.key("judge"))).unseal(passphrase: TestInstallation.passphrase))
    let good: [String: Any] = [
      "aud": "lrj:\(installationID)", "procedure": "P7", "kind": "preliminary", "investigators": ["opj"], "iss": "judge",
      "nbf": "2026-01-01T00:00:00Z", "iat": "2026-01-01T00:00:00Z", "exp": "2099-12-31T00:00:00Z",
      "jti": String(repeating: "ab", count: 16),
    ]
    let cases: [(String, Any, String)] = [
      ("exp", 4_102_444_800, "claim \"exp\" must be a text holding an RFC 3339 time (e.g. 2026-12-31T23:59:59Z), not a number"),
      ("investigators", "opj", "claim \"investigators\" must be a list of user ids (texts), not a text"),
      ("investigators", ["opj", 7], "claim \"investigators\" must be a list of user ids (texts); item 2 is a number"),
      ("nbf", "tomorrow", "claim \"nbf\" must be a text holding an RFC 3339 time (e.g. 2026-03-01T10:00:00Z), not \"tomorrow\""),
      ("kind", 3, "claim \"kind\" must be a text naming a procedure kind, not a number"),
      ("iss", ["judge"], "claim \"iss\" must be a text (the magistrate's user id), not a list"),
      ("jti", true, "claim \"jti\" must be a text (the token id, 128 bits in hex), not true or false"),
      ("procedure", ["id": "P7"], "claim \"procedure\" must be a text (the procedure id), not an object"),
    ]
    for (claim, value, expected) in cases {
      var claims = good
      claims[claim] = value
      let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
      let token = try PasetoV4Public.sign(
        payload: payload, footer: Data(#"{"kid":"judge","procedure":"P7"}"#.utf8),
        implicitAssertion: Authorisation.implicitAssertion(installation: installationID, procedure: "P7"), key: key)
      let file = installation.folder.appendingPathComponent("\(claim).token")
      try Data(token.utf8).write(to: file)
      let result = try Run.lrj(["procedure", "open", "--token", file.path], environment: installation.env())
      #expect(result.status == 1, "\(claim)")
      #expect(result.standardError == "error: authorisation refused: invalid claims: \(expected)\n",
              "\(claim): \(result.standardError)")
      for raw in ["DecodingError", "typeMismatch", "Debug description", "CodingKeys", "codingPath", "Swift."] {
        #expect(!result.standardError.contains(raw), "\(claim): \(result.standardError)")
      }
    }
  }

  /// A logged value holding spaces and `key=value` text cannot pass for more pairs in the text view
  /// of `lrj log`: values are quoted when needed.
  @Test func loggedValuesCannotForgeKeyValuePairs() throws {
    let installation = try TestInstallation.make("lrj-pairs")
    defer { installation.remove() }
    let camera = "cam9 outcome=refused exhibit=E99"
    let file = installation.folder.appendingPathComponent("a \"b\" c=d\\e.mp4").path
    let ingest = try Run.lrj(["ingest", "--procedure", "P1", "--camera", camera, file], environment: installation.env())
    #expect(ingest.status == 1)
    let log = try installation.expect(["log", "--procedure", "P1"], installation.env(as: "judge"))
    let line = try #require(log.standardOutput.split(separator: "\n").last { $0.contains("\tingest\t") })
    let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
    #expect(fields.count == 8 && fields[6] == "failed", "\(line)")
    let pairs = try #require(Self.pairs(String(fields[7])), "\(fields[7])")
    #expect(pairs["camera"] == camera && pairs["file"] == file && pairs["outcome"] == nil && pairs["exhibit"] == nil,
            "\(fields[7])")
    #expect(fields[7].contains("camera=\"cam9 outcome=refused exhibit=E99\""), "\(fields[7])")
    // The text view reads back as exactly the pairs the JSON view holds for the same entry.
    struct Entry: Decodable {
      var operation: String
      var parameters: [String: String]
    }
    let json = try installation.expect(["log", "--procedure", "P1", "--json"], installation.env(as: "judge"))
    let entry = try #require(
      try json.standardOutput.split(separator: "\n").map { try JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
        .last { $0.operation == "ingest" })
    #expect(pairs == entry.parameters, "\(fields[7])")
  }

  /// Reads `key=value` pairs separated by spaces, values plain or in double quotes with `\"` and
  /// `\\` escapes; nil when the text is not made of such pairs.
  static func pairs(_ text: String) -> [String: String]? {
    var result: [String: String] = [:]
    var characters = Array(text)[...]
    func word(until stop: Character) -> String? {
      var out = ""
      if characters.first == "\"" {
        characters.removeFirst()
        while let c = characters.popFirst() {
          if c == "\"" { return out }
          if c == "\\" { guard let next = characters.popFirst() else { return nil }; out.append(next) } else { out.append(c) }
        }
        return nil
      }
      while let c = characters.first, c != stop, c != " " { out.append(c); characters.removeFirst() }
      return out
    }
    while !characters.isEmpty {
      guard let key = word(until: "="), characters.popFirst() == "=", let value = word(until: " ") else { return nil }
      guard result[key] == nil else { return nil }
      result[key] = value
      if let c = characters.popFirst(), c != " " { return nil }
    }
    return result
  }
}
