import Foundation

/// The readable closure report (Markdown, and HTML ready to print as PDF) from its manifest.
enum ClosureReportText {
  static func markdown(_ m: ClosureManifest) -> String {
    var out: [String] = []
    out.append("# Closure report — procedure \(m.procedure)")
    out.append("")
    out.append("Report on the exploitation of data by lrj (CPP art. 230-20 to 230-27, R40-40), installation `\(m.installation)`.")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    for (key, value) in summaryRows(m) { out.append("| \(key) | \(cell(value)) |") }
    out.append("")
    out.append("## Authorisations")
    out.append("")
    out.append(table(["token", "magistrate", "kind", "valid from", "until", "investigators", "presented", "revoked"],
                     m.authorisations.map { a in
                       [a.tokenID, a.issuer, a.kind, a.notBefore, a.expires, a.investigators.joined(separator: ", "),
                        a.registeredAt.map { "\($0) by \(a.registeredBy ?? "?")" } ?? "no", a.revokedAt ?? "no"]
                     }))
    out.append("## Exhibits")
    out.append("")
    out.append(table(["exhibit", "file", "camera", "SHA-256", "bytes", "duration (s)", "start", "tracks"],
                     m.exhibits.map { [$0.id, $0.file, $0.camera, $0.sha256, String($0.sizeBytes),
                                       String(format: "%.1f", $0.durationSeconds), $0.start, String($0.tracks)] }))
    out.append("## Consultations (\(m.consultations.count))")
    out.append("")
    out.append(table(["#", "time (UTC)", "user", "role", "operation", "parameters", "results", "outcome"],
                     m.consultations.map { [String($0.seq), $0.time, $0.user, $0.role, $0.operation,
                                            $0.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                                            $0.resultCount.map(String.init) ?? "", $0.outcome] }))
    out.append("## Exports (\(m.exports.count))")
    out.append("")
    out.append(table(["#", "time (UTC)", "user", "operation", "file", "SHA-256"],
                     m.exports.map { [String($0.seq), $0.time, $0.user, $0.operation, $0.file ?? "", $0.sha256] }))
    out.append("## Data exploited")
    out.append("")
    if let archive = m.dataArchive {
      out.append("Archive `\(archive.file)`: \(archive.tracks) tracks with their thumbnails, \(archive.bytes) bytes, SHA-256 `\(archive.sha256)`.")
    } else {
      out.append("No copy of the data was requested.")
    }
    out.append("")
    out.append("## Erasure")
    out.append("")
    out.append("Once this report is published, the procedure's data are erased; the erasure record follows in the consultation log.")
    out.append("")
    out.append("- Report written: \(m.erasure.time)")
    out.append("- Procedure key: \(m.erasure.procedureKey)")
    out.append("- Vault: \(m.erasure.vaultFiles.joined(separator: ", ")) (\(m.erasure.vaultBytes) bytes): \(m.erasure.method)")
    out.append("- The consultation log of the procedure is kept five years (décret 2012-687 art. 4).")
    out.append("")
    if let checkpoint = m.checkpoint {
      out.append("## Checkpoint of the consultation log")
      out.append("")
      out.append("The log's head when this report was written, signed. Keep it: `lrj log verify --checkpoint closure-\(m.procedure).json`")
      out.append("checks that the log still holds every entry it seals, unchanged.")
      out.append("")
      out.append("```")
      out.append(checkpoint.trimmingCharacters(in: .newlines))
      out.append("```")
      out.append("")
    }
    out.append("## Capabilities")
    out.append("")
    out.append("\(m.capabilityStatement). Capability manifest SHA-256 `\(m.capabilityManifestSha256)` (`lrj about`).")
    out.append("")
    return out.joined(separator: "\n")
  }

  static func html(_ m: ClosureManifest) -> String {
    // The Markdown's content, as a self-contained printable page.
    var body = ""
    body += "<h1>Closure report — procedure \(escape(m.procedure))</h1>\n"
    body += "<p>Report on the exploitation of data by lrj (CPP art. 230-20 to 230-27, R40-40), installation <code>\(escape(m.installation))</code>.</p>\n"
    body += htmlTable(nil, summaryRows(m).map { [$0.0, $0.1] })
    body += "<h2>Authorisations</h2>\n" + htmlTable(
      ["token", "magistrate", "kind", "valid from", "until", "investigators", "revoked"],
      m.authorisations.map { [$0.tokenID, $0.issuer, $0.kind, $0.notBefore, $0.expires, $0.investigators.joined(separator: ", "), $0.revokedAt ?? "no"] })
    body += "<h2>Exhibits</h2>\n" + htmlTable(
      ["exhibit", "file", "camera", "SHA-256", "bytes", "duration (s)", "start", "tracks"],
      m.exhibits.map { [$0.id, $0.file, $0.camera, $0.sha256, String($0.sizeBytes), String(format: "%.1f", $0.durationSeconds), $0.start, String($0.tracks)] })
    body += "<h2>Consultations (\(m.consultations.count))</h2>\n" + htmlTable(
      ["#", "time (UTC)", "user", "role", "operation", "parameters", "results", "outcome"],
      m.consultations.map { [String($0.seq), $0.time, $0.user, $0.role, $0.operation,
                             $0.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                             $0.resultCount.map(String.init) ?? "", $0.outcome] })
    body += "<h2>Exports (\(m.exports.count))</h2>\n" + htmlTable(
      ["#", "time (UTC)", "user", "operation", "file", "SHA-256"],
      m.exports.map { [String($0.seq), $0.time, $0.user, $0.operation, $0.file ?? "", $0.sha256] })
    body += "<h2>Data exploited</h2>\n<p>"
    body += m.dataArchive.map { "Archive <code>\(escape($0.file))</code>: \($0.tracks) tracks with their thumbnails, \($0.bytes) bytes, SHA-256 <code>\($0.sha256)</code>." }
      ?? "No copy of the data was requested."
    body += "</p>\n<h2>Erasure</h2>\n<p>Once this report is published, the procedure's data are erased; the erasure record follows in the consultation log.</p>\n"
    body += "<ul><li>Report written: \(escape(m.erasure.time))</li><li>Procedure key: \(escape(m.erasure.procedureKey))</li>"
    body += "<li>Vault: \(escape(m.erasure.vaultFiles.joined(separator: ", "))) (\(m.erasure.vaultBytes) bytes): \(escape(m.erasure.method))</li>"
    body += "<li>The consultation log of the procedure is kept five years.</li></ul>\n"
    if let checkpoint = m.checkpoint {
      body += "<h2>Checkpoint of the consultation log</h2>\n<p>The log's head when this report was written, signed "
      body += "(<code>lrj log verify --checkpoint closure-\(escape(m.procedure)).json</code> checks the log against it).</p>\n"
      body += "<pre>\(escape(checkpoint))</pre>\n"
    }
    body += "<h2>Capabilities</h2>\n<p>\(escape(m.capabilityStatement)). Capability manifest SHA-256 <code>\(m.capabilityManifestSha256)</code>.</p>\n"
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>Closure report \(escape(m.procedure))</title>
      <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;font-size:10pt;text-align:left;vertical-align:top}code{font-size:9pt}@media print{body{margin:0}}</style>
      </head><body>
      \(body)</body></html>

      """
  }

  static func summaryRows(_ m: ClosureManifest) -> [(String, String)] {
    [("Procedure", m.procedure), ("Kind", m.kind), ("Opened", "\(m.openedAt) by \(m.openedBy)"),
     ("Closed", "\(m.closedAt) by \(m.closedBy)"), ("Investigators", m.investigators.joined(separator: ", ")),
     ("Exhibits", String(m.exhibits.count)), ("Consultations", String(m.consultations.count)),
     ("Exports", String(m.exports.count))]
  }

  /// A Markdown table cell: HTML markup shown as text, pipes escaped, control characters as spaces.
  static func cell(_ text: String) -> String {
    let plain = String(String.UnicodeScalarView(text.unicodeScalars.map {
      $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
    }))
    return plain.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "|", with: "\\|")
  }

  static func table(_ header: [String], _ rows: [[String]]) -> String {
    guard !rows.isEmpty else { return "None.\n" }
    var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
    lines += rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
    return lines.joined(separator: "\n") + "\n"
  }

  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  static func htmlTable(_ header: [String]?, _ rows: [[String]]) -> String {
    guard !rows.isEmpty else { return "<p>None.</p>\n" }
    var out = "<table>\n"
    if let header { out += "<tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n" }
    for row in rows { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
    return out + "</table>\n"
  }
}
