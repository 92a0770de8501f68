import Consultation
import Foundation
import GRDB
import TestSupport
import Testing

/// `lrj init`, `lrj key generate`, `lrj user add|disable|list` through the binary.
struct IdentityCommandTests {
  /// Ctrl-C while lrj asks for a passphrase (echo off) gives the terminal its echo back.
  @Test func stoppedAtThePassphrasePromptTheTerminalEchoesAgain() throws {
    let installation = try TestInstallation.make("lrj-prompt", procedure: nil)
    defer { installation.remove() }
    // A pseudo-terminal, kept open here so that its settings can be read after lrj has gone.
    let script = """
      import os, pty, subprocess, sys, termios, time, signal
      master, slave = pty.openpty()
      env = dict(os.environ, LRJ_HOME=sys.argv[2]); env.pop("LRJ_PASSPHRASE", None)
      p = subprocess.Popen([sys.argv[1], "user", "list", "--key", sys.argv[3]], stdin=slave, stdout=slave, stderr=slave, env=env)
      deadline = time.time() + 60
      while termios.tcgetattr(slave)[3] & termios.ECHO and time.time() < deadline and p.poll() is None: time.sleep(0.05)
      during = not termios.tcgetattr(slave)[3] & termios.ECHO
      os.kill(p.pid, signal.SIGINT)
      status = p.wait(timeout=30)
      print(during, status, bool(termios.tcgetattr(slave)[3] & termios.ECHO))
      """
    let result = try Run.program("python3", ["-c", script, TestPaths.products.appendingPathComponent("lrj").path,
                                             installation.home.path, installation.key("admin")])
    #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "True 130 True",
            "echo off while asked, exit 130, echo on after: \(result.standardOutput) \(result.standardError)")
  }

  /// A failed `lrj init` leaves nothing behind, so that trying again (with a good path) works.
  @Test func aFailedInitLeavesNothingAndCanBeRetried() throws {
    let folder = try TestPaths.temporaryFolder("lrj-init-fails")
    defer { try? FileManager.default.removeItem(at: folder) }
    let home = folder.appendingPathComponent("home")
    let env = ["LRJ_HOME": home.path, "LRJ_PASSPHRASE": "correct horse battery staple"]
    let failed = try Run.lrj(["init", "--admin-key", folder.appendingPathComponent("no-such-folder/admin.key").path],
                             environment: env)
    #expect(failed.status != 0)
    #expect(failed.standardError.hasPrefix("error: ") && failed.standardError.contains("no-such-folder"), "\(failed.standardError)")
    #expect(failed.standardError.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: home.path), "nothing of an installation is left")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)

    // A registry without a manifest (an unfinished installation of an older lrj) is named, not reused.
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    try Data("x".utf8).write(to: home.appendingPathComponent("registry.sqlite"))
    let unfinished = try Run.lrj(["init", "--admin-key", folder.appendingPathComponent("admin.key").path], environment: env)
    #expect(unfinished.status != 0 && unfinished.standardError.contains("unfinished installation"), "\(unfinished.standardError)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: home.path) == ["registry.sqlite"])
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("admin.key").path))
    try FileManager.default.removeItem(at: home.appendingPathComponent("registry.sqlite"))

    let retried = try Run.lrj(["init", "--admin-key", folder.appendingPathComponent("admin.key").path], environment: env)
    #expect(retried.status == 0, "\(retried.standardError)")
    let verified = try Run.lrj(["log", "verify"], environment: env)
    #expect(verified.status == 0 && verified.standardOutput.contains("1 entries (0 purged), 1 signed checkpoints"),
            "the installation's creation is logged and sealed: \(verified.standardOutput)")
  }

  @Test func enrolmentAndItsRefusals() throws {
    let folder = try TestPaths.temporaryFolder("lrj-identity")
    defer { try? FileManager.default.removeItem(at: folder) }
    let home = folder.appendingPathComponent("home")
    var env = ["LRJ_HOME": home.path, "LRJ_PASSPHRASE": "correct horse battery staple"]
    let adminKey = folder.appendingPathComponent("admin.key").path
    let aliceKey = folder.appendingPathComponent("alice.key").path

    let initialised = try Run.lrj(["init", "--admin-key", adminKey], environment: env)
    #expect(initialised.status == 0, "\(initialised.standardError)")
    let mode = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0 }
    #expect(try mode(adminKey) == 0o600)
    #expect(try mode(home.appendingPathComponent("keys/kek").path) == 0o600)
    let again = try Run.lrj(["init", "--admin-key", folder.appendingPathComponent("other.key").path], environment: env)
    #expect(again.status != 0 && again.standardError.contains("already holds an lrj installation"))

    let generated = try Run.lrj(["key", "generate", "--id", "alice", "--out", aliceKey], environment: env)
    #expect(generated.status == 0, "\(generated.standardError)")
    let publicKey = try #require(generated.standardOutput.split(separator: "\n").last.map(String.init))
    #expect(Data(base64Encoded: publicKey)?.count == 32, "the last line is the public key")
    #expect(try mode(aliceKey) == 0o600)

    let added = try Run.lrj(["user", "add", "alice", "--role", "investigator", "--public-key", publicKey,
                             "--key", adminKey], environment: env)
    #expect(added.status == 0, "\(added.standardError)")
    let listed = try Run.lrj(["user", "list", "--key", adminKey], environment: env)
    #expect(listed.standardOutput.contains("alice\tinvestigator\tenabled\t\(publicKey)"))

    // Refused, each with one clear line and a refused entry in the consultation log.
    func expectRefused(_ arguments: [String], _ environment: [String: String], _ error: String) throws {
      let result = try Run.lrj(arguments, environment: env.merging(environment) { $1 })
      #expect(result.status != 0, "\(arguments)")
      #expect(result.standardError.hasPrefix("error: ") && result.standardError.contains(error),
              "\(arguments): \(result.standardError)")
      #expect(result.standardError.split(separator: "\n").count == 1)
    }
    let refusals: [(arguments: [String], environment: [String: String], error: String)] = [
      (["user", "list", "--key", adminKey], ["LRJ_PASSPHRASE": "wrong"], "wrong passphrase"),
      (["user", "add", "bob", "--role", "investigator", "--public-key", publicKey, "--key", aliceKey], [:],
       "user.add is for administrators"),
      (["user", "add", "carol", "--role", "janitor", "--public-key", publicKey, "--key", adminKey], [:], "unknown role"),
      (["user", "list", "--key", folder.path], [:], "is a directory, not a key file"),
      (["key", "generate", "--id", "bad id/", "--out", folder.appendingPathComponent("bad.key").path], [:], "invalid user id"),
    ]
    for refusal in refusals { try expectRefused(refusal.arguments, refusal.environment, refusal.error) }
    let disabled = try Run.lrj(["user", "disable", "alice", "--key", adminKey], environment: env)
    #expect(disabled.status == 0, "\(disabled.standardError)")
    try expectRefused(["user", "list", "--key", aliceKey], [:], "user alice is disabled")
    let truncated = folder.appendingPathComponent("truncated.key").path
    let keyBytes = try Data(contentsOf: URL(fileURLWithPath: aliceKey))
    try keyBytes.prefix(keyBytes.count / 2).write(to: URL(fileURLWithPath: truncated))
    try expectRefused(["user", "list", "--key", truncated], [:], "error: ")
    env["LRJ_PASSPHRASE"] = nil
    let noPassphrase = try Run.lrj(["user", "list", "--key", adminKey], environment: ["LRJ_HOME": home.path])
    #expect(noPassphrase.status != 0)

    // The log: the controller reads all of it, a magistrate only their procedures' (none here) and
    // their own actions, the administrator nothing; the chain verifies, until tampered.
    var withPassphrase = env
    withPassphrase["LRJ_PASSPHRASE"] = "correct horse battery staple"
    var keys: [String: String] = [:]
    for (user, role) in [("control", "controller"), ("judge", "magistrate")] {
      keys[user] = folder.appendingPathComponent("\(user).key").path
      let generated = try Run.lrj(["key", "generate", "--id", user, "--out", keys[user]!], environment: withPassphrase)
      let publicKey = try #require(generated.standardOutput.split(separator: "\n").last.map(String.init))
      #expect(try Run.lrj(["user", "add", user, "--role", role, "--public-key", publicKey, "--key", adminKey],
                          environment: withPassphrase).status == 0)
    }
    let shown = try Run.lrj(["log", "--key", keys["control"]!], environment: withPassphrase)
    #expect(shown.status == 0, "\(shown.standardError)")
    #expect(shown.standardOutput.contains("\tuser.add\tsuccess\t") && shown.standardOutput.contains("\trefused\t"))
    let byMagistrate = try Run.lrj(["log", "--key", keys["judge"]!], environment: withPassphrase)
    #expect(byMagistrate.status == 0 && !byMagistrate.standardOutput.contains("\tuser.add\t"), "\(byMagistrate.standardOutput)")
    let byAdmin = try Run.lrj(["log", "--key", adminKey], environment: withPassphrase)
    #expect(byAdmin.status != 0 && byAdmin.standardError.contains("for magistrates and the controller"))
    let verified = try Run.lrj(["log", "verify"], environment: withPassphrase)
    #expect(verified.status == 0 && verified.standardOutput.hasPrefix("consultation log verified: "), "\(verified.standardError)")
    do {
      let registry = try DatabaseQueue(path: home.appendingPathComponent("registry.sqlite").path)
      try registry.write { db in
        try db.execute(sql: "DROP TRIGGER log_body_no_update")
        try db.execute(sql: "UPDATE log_body SET body = CAST(replace(CAST(body AS TEXT), 'alice', 'mallory') AS BLOB) WHERE seq = 2")
      }
      try registry.close()
    }
    let tampered = try Run.lrj(["log", "verify"], environment: withPassphrase)
    #expect(tampered.status != 0)
    #expect(tampered.standardError.hasPrefix("error: consultation log does not verify") && tampered.standardError.contains("2"),
            "\(tampered.standardError)")

    let installation = try Installation.open(home: home)
    let entries = try installation.logEntries().compactMap(\.entry)
    #expect(entries.filter { $0.outcome == .success }.map(\.operation).starts(with: ["installation.create", "user.add", "user.disable"]))
    #expect(entries.filter { $0.outcome == .refused }.count >= 3, "wrong passphrase, not an administrator, disabled")
  }
}
