import Foundation
import Hummingbird

/// Server-rendered HTML: one layout, escaped text, no third-party assets.
enum Page {
  /// Escapes text for HTML content and attribute values.
  static func h(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(c)
      }
    }
    return out
  }

  /// Percent-encodes a path segment or query value.
  static func u(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
  }

  /// A whole page.
  static func render(title: String, user: String, role: String, csrf: String, body: String, status: HTTPResponse.Status = .ok) -> Response {
    let html = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><meta name="csrf-token" content="\(h(csrf))">
      <title>\(h(title)) — lrj</title><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script>
      </head><body>
      <header><a href="/procedures"><b>lrj</b></a> · <a href="/procedures">procedures</a>\(role == "magistrate" || role == "controller" ? " · <a href=\"/log\">consultation log</a>" : "")
      <span class="who">\(h(user)) (\(h(role))) · no biometric capability</span></header>
      <main><h1>\(h(title))</h1>
      \(body)
      </main></body></html>
      """
    return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
  }

  /// A minimal error page (also for 401, without any data).
  static func error(status: HTTPResponse.Status, _ message: String) -> Response {
    let html = """
      <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(status.code) — lrj</title></head>
      <body><h1>\(status.code) \(h(status.reasonPhrase))</h1><p class="error">\(h(message))</p></body></html>
      """
    return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
  }

  /// A table from a header and rows of already-escaped cells.
  static func table(_ header: [String], _ rows: [[String]], id: String? = nil) -> String {
    guard !rows.isEmpty else { return "<p>None.</p>" }
    var out = "<table\(id.map { " id=\"\(h($0))\"" } ?? "")><tr>" + header.map { "<th>\(h($0))</th>" }.joined() + "</tr>\n"
    for row in rows { out += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
    return out + "</table>"
  }

  /// A hidden CSRF field for forms that change state.
  static func csrfField(_ csrf: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(h(csrf))\">" }
}
