import Foundation
import Hummingbird

/// Sessions of the web console: one one-time access token, exchanged once for a session with
/// its CSRF token.
actor ConsoleSessions {
  private var accessToken: String?
  private var sessions: [String: String] = [:]
  /// Clips and reports produced in this process, served by id (kept in memory only).
  private var downloads: [String: Download] = [:]
  private var downloadOrder: [String] = []

  struct Download: Sendable {
    var bytes: Data
    var contentType: String
    var fileName: String
    var sha256: String
  }

  init(accessToken: String) {
    self.accessToken = accessToken
  }

  /// A fresh random token: 256 bits, hex.
  static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
  }

  /// Exchanges the one-time access token for a new session id and its CSRF token.
  func exchange(_ token: String) -> (session: String, csrf: String)? {
    guard let accessToken, Self.constantTimeEqual(token, accessToken) else { return nil }
    self.accessToken = nil
    let session = Self.randomToken()
    let csrf = Self.randomToken()
    sessions[session] = csrf
    return (session, csrf)
  }

  /// The CSRF token of a live session.
  func csrf(forSession session: String) -> String? {
    sessions.first { Self.constantTimeEqual($0.key, session) }?.value
  }

  func end(_ session: String) { sessions[session] = nil }

  /// Keeps a produced file for download (the last 16).
  func keep(_ download: Download) -> String {
    let id = Self.randomToken()
    downloads[id] = download
    downloadOrder.append(id)
    if downloadOrder.count > 16 { downloads[downloadOrder.removeFirst()] = nil }
    return id
  }

  func download(_ id: String) -> Download? { downloads[id] }

  static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
  }
}

/// The request context: the session's CSRF token once authenticated.
struct ConsoleContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  var csrf = ""

  init(source: Source) {
    coreContext = .init(source: source)
  }
}

/// Headers on every response: nothing is cached, a strict content policy, no framing, no referrer.
struct SecurityHeaders: RouterMiddleware {
  typealias Context = ConsoleContext

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    var response: Response
    do {
      response = try await next(request, context)
    } catch let error as HTTPError {
      response = Page.error(status: error.status, error.body ?? error.status.reasonPhrase)
    }
    response.headers[.cacheControl] = "no-store"
    response.headers[.contentSecurityPolicy] =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; "
      + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    response.headers[.xContentTypeOptions] = "nosniff"
    response.headers[.init("Referrer-Policy")!] = "no-referrer"
    response.headers[.init("X-Frame-Options")!] = "DENY"
    return response
  }
}

/// Every route needs a session, except the first visit with the one-time token; state-changing
/// requests need the session's CSRF token.
struct SessionGate: RouterMiddleware {
  typealias Context = ConsoleContext
  let sessions: ConsoleSessions
  let secureCookie: Bool
  /// Called with the method and path of a request refused for its CSRF token (to log it).
  let refusedCSRF: @Sendable (_ method: String, _ path: String) -> Void
  static let cookie = "lrj_session"

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    var context = context
    let query = FormFields(request.uri.query ?? "")
    if request.method == .get, request.uri.path == "/", let token = query.first("token") {
      guard let (session, _) = await sessions.exchange(token) else {
        throw HTTPError(.unauthorized, message: "this access link was already used or is wrong; restart lrj serve for a new one")
      }
      var response = Response.redirect(to: "/procedures", type: .normal)
      response.setCookie(Cookie(name: Self.cookie, value: session, path: "/", secure: secureCookie, httpOnly: true, sameSite: .strict))
      return response
    }
    guard let session = request.cookies[Self.cookie]?.value, let csrf = await sessions.csrf(forSession: session) else {
      throw HTTPError(.unauthorized, message: "open the link lrj serve printed to start a session")
    }
    context.csrf = csrf
    if request.method != .get && request.method != .head {
      let given = request.headers[.init("X-CSRF-Token")!] ?? ""
      var formToken: String?
      if given.isEmpty {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        formToken = FormFields(String(buffer: body)).first("csrf")
        return try await checkCSRF(formToken ?? "", csrf: csrf, request) { try await next(request, context) }
      }
      return try await checkCSRF(given, csrf: csrf, request) { try await next(request, context) }
    }
    return try await next(request, context)
  }

  private func checkCSRF(_ given: String, csrf: String, _ request: Request, _ next: () async throws -> Response) async throws
    -> Response
  {
    guard ConsoleSessions.constantTimeEqual(given, csrf) else {
      let method = request.method.rawValue, path = request.uri.path
      try await blocking { refusedCSRF(method, path) }
      throw HTTPError(.forbidden, message: "missing or wrong CSRF token")
    }
    return try await next()
  }
}

/// `application/x-www-form-urlencoded` fields (query strings and form bodies), in order.
struct FormFields: Sendable {
  let pairs: [(String, String)]

  init(_ text: String) {
    pairs = text.split(separator: "&").compactMap { part in
      let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
      }
      guard let key = kv.first.map(decode), !key.isEmpty else { return nil }
      return (key, kv.count > 1 ? decode(kv[1]) : "")
    }
  }

  /// The first non-empty value of `key`.
  func first(_ key: String) -> String? { pairs.first { $0.0 == key && !$0.1.isEmpty }?.1 }

  /// Every non-empty value of `key`.
  func all(_ key: String) -> [String] { pairs.filter { $0.0 == key && !$0.1.isEmpty }.map(\.1) }
}

/// Runs blocking work (SQLite, FFmpeg) off the server's event loops.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
  }
}

extension Response {
  /// A body of bytes with a content type.
  static func bytes(_ data: Data, contentType: String, status: HTTPResponse.Status = .ok, download: String? = nil) -> Response {
    var headers: HTTPFields = [.contentType: contentType]
    if let download { headers[.contentDisposition] = "attachment; filename=\"\(download)\"" }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}
