import ArgumentParser
import Consultation
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `lrj serve`: the web console for the user who starts it.
struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the web console (search with zones, thumbnails, clips, log review) for your user.",
    discussion: """
      Binds to loopback by default and prints a link with a one-time access token; the first visit exchanges it for \
      a session cookie. Every action is authorised and logged as the same command would be. Binding to another \
      address requires TLS (--tls-cert and --tls-key, PEM files).
      """)

  @Option(help: "Address to bind to.")
  var bind = "127.0.0.1"

  @Option(help: "Port (0: any free port).")
  var port = 8080

  @Option(help: "TLS certificate chain (PEM).")
  var tlsCert: String?

  @Option(help: "TLS private key (PEM).")
  var tlsKey: String?

  @OptionGroup var key: KeyOption

  func run() throws {
    try reportingErrors {
      guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
      // Searches open sealed blocks in memory: the console keeps them between requests (512 MB at most).
      Installation.keepOpenedSearchBlocks(upTo: 512 << 20)
      // The server is asynchronous; this command's thread waits for it to stop.
      let outcome = Outcome()
      let done = DispatchSemaphore(value: 0)
      let command = self
      Task.detached {
        do { try await command.serve() } catch { outcome.set(error) }
        done.signal()
      }
      done.wait()
      if let error = outcome.error { throw error }
    }
  }

  /// The server's error, handed from its task to the waiting thread.
  final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ error: any Error) { lock.withLock { stored = error } }
  }

  func serve() async throws {
    let loopback = ["127.0.0.1", "::1", "localhost"].contains(bind)
    var tls: TLSConfiguration?
    switch (tlsCert, tlsKey) {
    case let (cert?, key?):
      do {
        let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
        tls = TLSConfiguration.makeServerConfiguration(
          certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
      } catch {
        throw ValidationError("cannot load the TLS certificate or key: \(error)")
      }
    case (nil, nil):
      guard loopback else {
        throw ValidationError("binding to \(bind) needs TLS: give --tls-cert and --tls-key (loopback needs neither)")
      }
    default:
      throw ValidationError("give both --tls-cert and --tls-key")
    }
    let (installation, identity) = try key.signIn()
    MemoryRenders.removeStale()
    let token = ConsoleSessions.randomToken()
    let sessions = ConsoleSessions(accessToken: token)
    let server = ConsoleServer(installation: installation, identity: identity, sessions: sessions, secure: tls != nil)
    let scheme = tls == nil ? "http" : "https"
    let host = bind.contains(":") ? "[\(bind)]" : bind
    let onRunning: @Sendable (any Channel) async -> Void = { channel in
      let port = channel.localAddress?.port ?? 0
      // Written in one piece, unbuffered: scripts wait for this line.
      FileHandle.standardOutput.write(Data("""
        lrj console for \(identity.user) (\(identity.role.rawValue)): \(scheme)://\(host):\(port)/?token=\(token)
        the link works once; stop with Ctrl-C

        """.utf8))
    }
    let configuration = ApplicationConfiguration(address: .hostname(bind, port: port), serverName: "lrj")
    if let tls {
      let app = Application(
        router: server.router(), server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration,
        onServerRunning: onRunning, logger: .init(label: "lrj.console"))
      try await app.runService()
    } else {
      let app = Application(router: server.router(), configuration: configuration, onServerRunning: onRunning,
                            logger: .init(label: "lrj.console"))
      try await app.runService()
    }
  }
}
