import Consultation
import Foundation
import Hummingbird
import Index
import Synopsis

/// The web console: the same Consultation door as the command line, for the user who started it.
/// Every page that shows procedure data goes through `ProcedureAccess`, so it is authorised and
/// logged exactly as the same command would be.
struct ConsoleServer: Sendable {
  let installation: Installation
  let identity: Identity
  let sessions: ConsoleSessions
  let secure: Bool
  static let pageSize = 24

  func access(_ procedure: String) -> ProcedureAccess {
    ProcedureAccess(procedure: procedure, installation: installation, identity: identity)
  }

  func page(_ title: String, _ context: ConsoleContext, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
    Page.render(title: title, user: identity.user, role: identity.role.rawValue, csrf: context.csrf, body: body, status: status)
  }

  /// Runs a handler; Consultation's refusals become 403 pages, bad input 400, both with the reason.
  func guarded(_ title: String, _ context: ConsoleContext, _ body: () async throws -> Response) async -> Response {
    do {
      return try await body()
    } catch let error as HTTPError {
      return page(title, context, "<p class=\"error\">\(Page.h(error.body ?? ""))</p>", status: error.status)
    } catch {
      let refused = error is AuthorisationError || error is ProcedureError || error is InstallationError
      return page(title, context, "<p class=\"error\">error: \(Page.h(String(describing: error)))</p>",
                  status: refused ? .forbidden : .badRequest)
    }
  }

  func router() -> Router<ConsoleContext> {
    let router = Router(context: ConsoleContext.self)
    router.add(middleware: SecurityHeaders())
    router.add(middleware: SessionGate(sessions: sessions, secureCookie: secure) { method, path in
      // A request refused for its CSRF token is logged like every refusal.
      try? installation.logRefusal("console", parameters: ["method": method, "path": path, "reason": "missing or wrong CSRF token"],
                                   by: identity)
    })
    router.get("/") { _, _ in Response.redirect(to: "/procedures", type: .normal) }
    router.get("/static/console.js") { _, _ in
      Response.bytes(Data(ConsoleAssets.script.utf8), contentType: "text/javascript; charset=utf-8")
    }
    router.get("/static/console.css") { _, _ in
      Response.bytes(Data(ConsoleAssets.style.utf8), contentType: "text/css; charset=utf-8")
    }
    router.get("/procedures") { _, context in await guarded("Procedures", context) { try await procedures(context) } }
    router.get("/procedures/:procedure") { _, context in
      await guarded("Procedure", context) { try await overview(try context.parameters.require("procedure"), context) }
    }
    router.get("/procedures/:procedure/still.png") { request, context in
      await guarded("Still", context) {
        let procedure = try context.parameters.require("procedure")
        let camera = FormFields(request.uri.query ?? "").first("camera") ?? ""
        let still = try await blocking { try access(procedure).still(camera: camera) }
        return Response.bytes(still.png, contentType: "image/png")
      }
    }
    router.get("/procedures/:procedure/search") { request, context in
      await guarded("Search", context) {
        try await search(try context.parameters.require("procedure"), FormFields(request.uri.query ?? ""), context)
      }
    }
    router.get("/procedures/:procedure/tracks/:track") { _, context in
      await guarded("Track", context) {
        try await track(try context.parameters.require("procedure"), try context.parameters.require("track"), context)
      }
    }
    router.get("/procedures/:procedure/tracks/:track/thumbnail.png") { _, context in
      await guarded("Thumbnail", context) {
        let (procedure, track) = (try context.parameters.require("procedure"), try context.parameters.require("track"))
        return Response.bytes(try await blocking { try access(procedure).thumbnail(track: track) }, contentType: "image/png")
      }
    }
    router.post("/procedures/:procedure/tracks/:track/extract") { request, context in
      await guarded("Original footage", context) {
        let (procedure, track) = (try context.parameters.require("procedure"), try context.parameters.require("track"))
        var request = request
        let form = FormFields(String(buffer: try await request.collectBody(upTo: 1 << 16)))
        return try await extract(procedure, track, margin: Double(form.first("margin") ?? "2") ?? 2, context)
      }
    }
    router.get("/procedures/:procedure/synopsis") { request, context in
      await guarded("Synopsis", context) { try synopsisForm(try context.parameters.require("procedure"), FormFields(request.uri.query ?? ""), context) }
    }
    router.post("/procedures/:procedure/synopsis") { request, context in
      await guarded("Synopsis", context) {
        var request = request
        let form = FormFields(String(buffer: try await request.collectBody(upTo: 1 << 16)))
        return try await synopsis(try context.parameters.require("procedure"), form, context)
      }
    }
    router.get("/downloads/:id") { request, context in
      guard let download = await sessions.download(try context.parameters.require("id")) else {
        throw HTTPError(.notFound, message: "no such download (downloads are kept in memory for this session only)")
      }
      let attach = FormFields(request.uri.query ?? "").first("download") != nil
      return Response.bytes(download.bytes, contentType: download.contentType, download: attach ? download.fileName : nil)
    }
    router.get("/procedures/:procedure/close") { _, context in
      await guarded("Closure", context) { try closeForm(try context.parameters.require("procedure"), context) }
    }
    router.post("/procedures/:procedure/export") { request, context in
      await guarded("Export", context) {
        var request = request
        let form = FormFields(String(buffer: try await request.collectBody(upTo: 1 << 20)))
        return try await export(try context.parameters.require("procedure"), form, context)
      }
    }
    router.post("/procedures/:procedure/close") { request, context in
      await guarded("Closure", context) {
        var request = request
        let form = FormFields(String(buffer: try await request.collectBody(upTo: 1 << 16)))
        return try await close(try context.parameters.require("procedure"), withData: form.first("with-data") != nil,
                               folder: form.first("report"), context)
      }
    }
    router.get("/log") { request, context in
      await guarded("Consultation log", context) { try await log(FormFields(request.uri.query ?? ""), format: "html", context) }
    }
    router.get("/log.csv") { request, context in
      await guarded("Consultation log", context) { try await log(FormFields(request.uri.query ?? ""), format: "csv", context) }
    }
    router.get("/log.json") { request, context in
      await guarded("Consultation log", context) { try await log(FormFields(request.uri.query ?? ""), format: "json", context) }
    }
    router.get("/api/procedures") { _, context in
      let list = try await blocking { try installation.procedures(visibleTo: identity) }
      struct Line: Encodable { var procedure: ProcedureRecord; var authorisations: [AuthorisationRecord] }
      return Response.bytes(Data(Terminal.json(list.map { Line(procedure: $0.procedure, authorisations: $0.authorisations) }).utf8),
                            contentType: "application/json")
    }
    router.get("/api/procedures/:procedure/search") { request, context in
      let procedure = try context.parameters.require("procedure")
      let fields = FormFields(request.uri.query ?? "")
      var filters = Self.filters(fields)
      filters.limit = Int(fields.first("limit") ?? "100") ?? 100
      filters.offset = Int(fields.first("offset") ?? "0") ?? 0
      let query = filters
      do {
        let result = try await blocking { try access(procedure).search(query) }
        return Response.bytes(Data(Terminal.json(result).utf8), contentType: "application/json")
      } catch {
        let body = Terminal.json(["error": String(describing: error)])
        return Response.bytes(Data(body.utf8), contentType: "application/json", status: error is QueryError ? .badRequest : .forbidden)
      }
    }
    return router
  }

  // MARK: Pages

  func procedures(_ context: ConsoleContext) async throws -> Response {
    let list = try await blocking { try installation.procedures(visibleTo: identity) }
    let rows = list.map { procedure, authorisations -> [String] in
      let magistrates = Set(authorisations.map(\.issuer)).sorted().joined(separator: ", ")
      let live = authorisations.filter { $0.revokedAt == nil }
      let validity = live.isEmpty ? "revoked"
        : "\(AuthorisationText.time(live.map(\.notBefore).min()!)) to \(AuthorisationText.time(live.map(\.expires).max()!))"
      let link = procedure.isClosed ? Page.h(procedure.id) : "<a href=\"/procedures/\(Page.u(procedure.id))\">\(Page.h(procedure.id))</a>"
      return [link, Page.h(procedure.kind.rawValue), Page.h(magistrates), Page.h(validity),
              procedure.isClosed ? "closed and erased \(Page.h(procedure.closedAt.map(AuthorisationText.time) ?? ""))" : "open"]
    }
    return page("Procedures", context, Page.table(["procedure", "kind", "authorised by", "valid", "status"], rows, id: "procedures"))
  }

  func overview(_ procedure: String, _ context: ConsoleContext) async throws -> Response {
    let exhibits = try await blocking { try access(procedure).overview() }
    let rows = exhibits.map { e -> [String] in
      let m = e.exhibit.metadata
      let end = WallClockTime(date: m.start.date.addingTimeInterval(e.exhibit.completion?.duration ?? 0), utcOffsetSeconds: m.start.utcOffsetSeconds)
      let classes = e.tracksByClass.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
      return [Page.h(e.exhibit.id), Page.h(m.camera), Page.h("\(m.start.iso8601()) – \(end.iso8601())"), "<code>\(Page.h(m.sha256))</code>",
              String(e.exhibit.completion?.framesDecoded ?? 0), Page.h(classes.isEmpty ? "none" : classes)]
    }
    let cameras = Array(Set(exhibits.map(\.exhibit.metadata.camera))).sorted()
    var body = Page.table(["exhibit", "camera", "clock span", "SHA-256", "frames", "tracks"], rows, id: "exhibits")
    body += "<p><a href=\"/procedures/\(Page.u(procedure))/search\">Search this procedure</a>"
    if identity.role == .magistrate || identity.role == .controller {
      body += " · <a href=\"/procedures/\(Page.u(procedure))/close\">Close the procedure</a>"
    }
    body += "</p>"
    for camera in cameras {
      body += """
        <h2>Camera \(Page.h(camera))</h2>
        <p><a href="/procedures/\(Page.u(procedure))/search?camera=\(Page.u(camera))">search on this camera, with zones</a></p>
        <img class="still" alt="still of \(Page.h(camera))" src="/procedures/\(Page.u(procedure))/still.png?camera=\(Page.u(camera))">
        """
    }
    return page("Procedure \(procedure)", context, body)
  }

  static func filters(_ fields: FormFields) -> SearchFilters {
    var filters = SearchFilters()
    filters.classes = fields.all("class")
    filters.colours = fields.all("colour")
    filters.directions = fields.all("direction")
    filters.cameras = fields.all("camera")
    filters.from = fields.first("from")
    filters.to = fields.first("to")
    filters.zone = fields.first("zone")
    if filters.zone != nil, let rule = fields.first("rule") {
      switch rule {
      case "dwell": filters.zoneRule = "dwell:\(fields.first("dwell") ?? "5")"
      // From zone A (the origin) to the search zone (the search page asks for A when it is missing).
      case "from": filters.zoneRule = "from:\(fields.first("origin") ?? "")"
      default: filters.zoneRule = rule
      }
    }
    return filters
  }

  /// The zone rules offered, as (value, label).
  static let zoneRules = [
    ("enters", "enters"), ("exits", "exits"), ("inside", "inside"), ("dwell", "dwell (seconds)"), ("crosses", "crosses (line)"),
    ("from", "from zone A to the zone"),
  ]

  func search(_ procedure: String, _ fields: FormFields, _ context: ConsoleContext) async throws -> Response {
    if fields.first("rule") == "from", !(fields.first("zone") ?? "").isEmpty, (fields.first("origin") ?? "").isEmpty {
      throw HTTPError(.badRequest, message: "from zone A to the zone: draw zone A too (choose \"drawing zone A\", then click its corners)")
    }
    var filters = Self.filters(fields)
    let pageNumber = max(0, Int(fields.first("page") ?? "0") ?? 0)
    filters.limit = Self.pageSize
    filters.offset = pageNumber * Self.pageSize
    let query = filters
    let searched = try await blocking { try access(procedure).searchPage(query) }
    let result = searched.result
    func select(_ name: String, _ values: [String], _ chosen: [String]) -> String {
      "<select name=\"\(name)\"><option value=\"\">any \(name)</option>"
        + values.map { "<option\(chosen.contains($0) ? " selected" : "")>\(Page.h($0))</option>" }.joined() + "</select>"
    }
    let camera = filters.cameras.first ?? ""
    let rule = fields.first("rule") ?? "enters"
    var body = """
      <form id="search" method="get" action="/procedures/\(Page.u(procedure))/search">
      \(select("class", ObjectClass.allCases.map(\.rawValue), filters.classes))
      \(select("colour", Colour.allCases.map(\.rawValue), filters.colours))
      \(select("direction", Direction.allCases.map(\.rawValue), filters.directions))
      <select name="camera" id="camera"><option value="">any camera</option>\(searched.cameras.map {
        "<option\($0 == camera ? " selected" : "")>\(Page.h($0))</option>" }.joined())</select>
      <input name="from" placeholder="from (ISO 8601)" value="\(Page.h(filters.from ?? ""))">
      <input name="to" placeholder="to (ISO 8601)" value="\(Page.h(filters.to ?? ""))">
      <input type="hidden" name="zone" id="zone" value="\(Page.h(filters.zone ?? ""))">
      <input type="hidden" name="origin" id="origin" value="\(Page.h(fields.first("origin") ?? ""))">
      <select name="rule" id="rule">\(Self.zoneRules.map { "<option value=\"\($0.0)\"\($0.0 == rule ? " selected" : "")>\($0.1)</option>" }.joined())</select>
      <input name="dwell" size="3" value="\(Page.h(fields.first("dwell") ?? "5"))" title="dwell seconds">
      <button type="submit" id="run">Search</button>
      </form>
      """
    if !camera.isEmpty {
      body += """
        <p>Click on the picture to draw the zone (two points make a line for <i>crosses</i>).
        <label><input type="radio" name="drawing" value="zone" id="draw-zone" checked> drawing the zone</label>: <code id="zone-text">\(Page.h(filters.zone ?? "none"))</code>
        <label><input type="radio" name="drawing" value="origin" id="draw-origin"> drawing zone A, for <i>from zone A to the zone</i></label>: <code id="origin-text">none</code>
        <button type="button" id="clear-zone">clear the one being drawn</button></p>
        <div class="drawing"><img id="still" alt="still of \(Page.h(camera))" src="/procedures/\(Page.u(procedure))/still.png?camera=\(Page.u(camera))">
        <svg id="zone-svg" viewBox="0 0 1 1" preserveAspectRatio="none"><polygon class="origin" id="origin-shape" points=""/><polygon id="zone-shape" points=""/></svg></div>
        """
    }
    let searchQuery = fields.pairs.filter { $0.0 != "page" }.map { "\(Page.u($0.0))=\(Page.u($0.1))" }.joined(separator: "&")
    body += "<p id=\"total\">\(result.total) tracks"
    if !camera.isEmpty && result.total > 0 {
      body += " · <a id=\"synopsis-link\" href=\"/procedures/\(Page.u(procedure))/synopsis?\(searchQuery)\">synopsis of these tracks</a>"
    }
    body += "</p>"
    body += Self.timeline(searched, procedure: procedure, fields: fields)
    body += """
      <form id="export-form" method="post" action="/procedures/\(Page.u(procedure))/export">\(Page.csrfField(context.csrf))
      <label><input type="checkbox" name="with-synopsis" value="1"> with a synopsis</label>
      <button type="submit" id="export">Export the selected tracks as a signed bundle</button></form>
      <div class="grid" id="results">
      """
    for r in result.results {
      let colours = r.colours.map { "\($0.colour.rawValue) \(Int(($0.fraction * 100).rounded()))%" }.joined(separator: ", ")
      body += """
        <div class="card" data-track="\(Page.h(r.track))"><a href="/procedures/\(Page.u(procedure))/tracks/\(Page.u(r.track))">
        <img alt="\(Page.h(r.track))" src="/procedures/\(Page.u(procedure))/tracks/\(Page.u(r.track))/thumbnail.png"></a>
        <span><label><input type="checkbox" name="track" value="\(Page.h(r.track))" form="export-form"> <b>\(Page.h(r.track))</b></label>
        \(Page.h(r.objectClass.rawValue)) · \(Page.h(colours)) · \(Page.h(r.direction.rawValue))<br>
        \(Page.h(r.start.iso8601(fractionDigits: 0))) → \(Page.h(String(r.end.iso8601(fractionDigits: 0).dropFirst(11))))</span></div>
        """
    }
    body += "</div>"
    var links: [String] = []
    let base = (fields.pairs.filter { $0.0 != "page" }.map { "\(Page.u($0.0))=\(Page.u($0.1))" } ).joined(separator: "&")
    if pageNumber > 0 { links.append("<a href=\"?\(base)&page=\(pageNumber - 1)\">previous</a>") }
    if (pageNumber + 1) * Self.pageSize < result.total { links.append("<a id=\"next\" href=\"?\(base)&page=\(pageNumber + 1)\">next</a>") }
    body += "<p>Page \(pageNumber + 1) · \(links.joined(separator: " · "))</p>"
    return page("Search procedure \(procedure)", context, body)
  }

  /// Hits per camera over its footage's clock span, one bar per stretch, each a link to the hits of
  /// that stretch (the search's filters, narrowed to that camera and time).
  static func timeline(_ page: SearchPage, procedure: String, fields: FormFields) -> String {
    guard page.result.total > 0 else { return "" }
    let kept = fields.pairs.filter { !["page", "camera", "from", "to"].contains($0.0) }
    var svg = "<div id=\"timeline\"><p>When the hits happen (a hit counts in every stretch it lasts over)"
      + (page.timelineComplete ? "" : " (the first \(ProcedureAccess.timelineLimit) hits)") + ": click a bar for its hits.</p>"
    for line in page.timelines {
      let peak = max(1, line.counts.max() ?? 1)
      let width = 100.0 / Double(max(1, line.counts.count))
      svg += "<p class=\"timeline-camera\">\(Page.h(line.camera)): \(Page.h(line.start.iso8601(fractionDigits: 0))) to "
        + "\(Page.h(line.end.iso8601(fractionDigits: 0)))</p>"
      svg += "<svg class=\"timeline\" data-camera=\"\(Page.h(line.camera))\" viewBox=\"0 0 100 20\" preserveAspectRatio=\"none\">"
      for (index, count) in line.counts.enumerated() where count > 0 {
        let span = line.span(of: index)
        let query = (kept + [("camera", line.camera), ("from", span.from.iso8601(fractionDigits: 3)), ("to", span.to.iso8601(fractionDigits: 3))])
          .map { "\(Page.u($0.0))=\(Page.u($0.1))" }.joined(separator: "&")
        let height = 2 + 18 * Double(count) / Double(peak)
        svg += "<a class=\"bucket\" data-count=\"\(count)\" href=\"/procedures/\(Page.u(procedure))/search?\(query)\">"
          + String(format: "<rect x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" height=\"%.3f\"/>", Double(index) * width, 20 - height, width * 0.9, height)
          + "<title>\(count) hits, \(Page.h(span.from.iso8601(fractionDigits: 0))) to \(Page.h(span.to.iso8601(fractionDigits: 0)))</title></a>"
      }
      svg += "</svg>"
    }
    return svg + "</div>"
  }

  func export(_ procedure: String, _ form: FormFields, _ context: ConsoleContext) async throws -> Response {
    let tracks = form.all("track")
    guard !tracks.isEmpty else { throw HTTPError(.badRequest, message: "select at least one track to export") }
    let withSynopsis = form.first("with-synopsis") != nil
    let (report, tar) = try await blocking { try access(procedure).exportBundleData(tracks: tracks, withSynopsis: withSynopsis) }
    let id = await sessions.keep(.init(bytes: tar, contentType: "application/x-tar", fileName: "bundle-\(procedure).tar",
                                       sha256: SHA256Hex.of(tar)))
    let body = """
      <p id="bundle">Signed bundle of \(report.tracks.map(Page.h).joined(separator: ", ")): \(report.files) files.
      <a id="bundle-download" href="/downloads/\(id)?download=1">Download bundle-\(Page.h(procedure)).tar</a></p>
      <p>Manifest SHA-256 <code>\(report.manifestSHA256)</code>; signer's key fingerprint <code>\(report.fingerprint)</code>.
      Unpack it anywhere and check it offline with <code>lrj verify bundle-\(Page.h(procedure))</code>.</p>
      """
    return page("Export of procedure \(procedure)", context, body)
  }

  func track(_ procedure: String, _ track: String, _ context: ConsoleContext) async throws -> Response {
    let detail = try await blocking { try access(procedure).track(track) }
    let s = detail.summary
    let points = detail.path.map { sample -> String in
      // Where the object stands: the bottom centre of its box (DESIGN.md §5).
      let x = (sample.box.x + sample.box.width / 2) / Double(s.frameWidth)
      let y = (sample.box.y + sample.box.height) / Double(s.frameHeight)
      return String(format: "%.4f,%.4f", x, y)
    }.joined(separator: " ")
    let colours = s.colours.map { "\($0.colour.rawValue) \(Int(($0.fraction * 100).rounded()))%" }.joined(separator: ", ")
    let rows: [[String]] = [
      ["class", Page.h("\(s.objectClass.rawValue) (\(String(format: "%.2f", s.classConfidence)))")],
      ["colours", Page.h(colours)], ["direction", Page.h(s.direction.rawValue)],
      ["clock time", Page.h("\(s.start.iso8601(fractionDigits: 1)) → \(s.end.iso8601(fractionDigits: 1))")],
      ["exhibit", Page.h("\(s.exhibit), camera \(s.camera), \(String(format: "%.1f–%.1f s", s.startOffset, s.endOffset))")],
    ]
    let body = """
      \(Page.table(["", ""], rows, id: "track"))
      <img class="thumbnail" alt="\(Page.h(s.track))" src="/procedures/\(Page.u(procedure))/tracks/\(Page.u(s.track))/thumbnail.png">
      <h2>Path</h2>
      <div class="drawing"><img alt="still of \(Page.h(s.camera))" src="/procedures/\(Page.u(procedure))/still.png?camera=\(Page.u(s.camera))">
      <svg viewBox="0 0 1 1" preserveAspectRatio="none"><polyline class="path" points="\(points)"/></svg></div>
      <h2>Original footage</h2>
      <form method="post" action="/procedures/\(Page.u(procedure))/tracks/\(Page.u(s.track))/extract">\(Page.csrfField(context.csrf))
      margin <input name="margin" value="2" size="3"> s <button type="submit" id="extract">Extract the original clip</button></form>
      """
    return page("Track \(s.track)", context, body)
  }

  func extract(_ procedure: String, _ track: String, margin: Double, _ context: ConsoleContext) async throws -> Response {
    let (report, bytes) = try await blocking { try access(procedure).extractData(track: track, margin: margin) }
    let id = await sessions.keep(.init(bytes: bytes, contentType: "video/mp4", fileName: "\(procedure)-\(report.track).mp4", sha256: report.sha256))
    let body = """
      <p>\(Page.h(report.track)) of exhibit \(Page.h(report.exhibit)), \(String(format: "%.2f–%.2f s", report.from, report.to)),
      \(report.frames) frames (\(report.streamCopied ? "stream copy" : "re-encoded")).</p>
      <video id="clip" controls preload="auto" src="/downloads/\(id)"></video>
      <p><a href="/downloads/\(id)?download=1">Download</a> · SHA-256 <code id="sha256">\(report.sha256)</code></p>
      <p><a href="/procedures/\(Page.u(procedure))/tracks/\(Page.u(track))">back to the track</a></p>
      """
    return page("Original footage of \(report.track)", context, body)
  }

  func synopsisForm(_ procedure: String, _ fields: FormFields, _ context: ConsoleContext) throws -> Response {
    let hidden = fields.pairs.filter { $0.0 != "page" }
      .map { "<input type=\"hidden\" name=\"\(Page.h($0.0))\" value=\"\(Page.h($0.1))\">" }.joined()
    let described = fields.pairs.filter { $0.0 != "page" && !$0.1.isEmpty }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    let body = """
      <p>The tracks of the search (\(Page.h(described.isEmpty ? "all" : described))), shifted in time so that they play together,
      each with its original clock time.</p>
      <form method="post" action="/procedures/\(Page.u(procedure))/synopsis">\(Page.csrfField(context.csrf))\(hidden)
      target length <input name="length" size="4" placeholder="auto"> s <button type="submit" id="render">Render the synopsis</button></form>
      """
    return page("Synopsis", context, body)
  }

  func synopsis(_ procedure: String, _ form: FormFields, _ context: ConsoleContext) async throws -> Response {
    let filters = Self.filters(form)
    var options = SynopsisOptions()
    if let text = form.first("length") {
      guard let length = Double(text), length > 0, length.isFinite else {
        throw HTTPError(.badRequest, message: "the target length must be a number of seconds above 0")
      }
      options.target = .length(seconds: length)
    }
    let settings = options
    let render = try await blocking { try access(procedure).synopsisData(filters, options: settings) }
    let report = render.report
    let index = try JSONDecoder().decode(SynopsisIndex.self, from: render.index)
    let videoID = await sessions.keep(.init(bytes: render.video, contentType: "video/mp4",
                                            fileName: "synopsis-\(procedure).mp4", sha256: report.video.sha256))
    let pngID = await sessions.keep(.init(bytes: render.overview, contentType: "image/png",
                                          fileName: "synopsis-\(procedure).png", sha256: report.overview?.sha256 ?? ""))
    let indexID = await sessions.keep(.init(bytes: render.index, contentType: "application/json",
                                            fileName: "synopsis-\(procedure).json", sha256: report.index.sha256))
    var hits = ""
    for object in index.objects {
      for box in object.overviewBoxes {
        hits += "<a href=\"/procedures/\(Page.u(procedure))/tracks/\(Page.u(object.track))\" data-track=\"\(Page.h(object.track))\">"
          + String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", box.x, box.y, box.width, box.height)
          + "<title>\(Page.h(object.track)) \(Page.h(object.start.iso8601(fractionDigits: 0)))</title></a>"
      }
    }
    let body = """
      <p id="synopsis-summary">\(report.objects) objects of camera \(Page.h(report.camera)): \(String(format: "%.1f", report.seconds)) s for
      \(String(format: "%.0f", report.sourceSeconds)) s of footage (\(String(format: "%.1f", report.condensation))× shorter),
      collision area \(String(format: "%.2f", report.collisionPercent)) %, at most \(report.maxConcurrent) at once.</p>
      <video id="synopsis" controls preload="auto" src="/downloads/\(videoID)"></video>
      <p><a href="/downloads/\(videoID)?download=1">MP4</a> (SHA-256 <code>\(report.video.sha256)</code>) ·
      <a href="/downloads/\(indexID)?download=1">index</a> · <a href="/downloads/\(pngID)?download=1">overview</a></p>
      <h2>Overview</h2><p>Click an object to open its track.</p>
      <div class="overview"><img alt="overview" src="/downloads/\(pngID)">
      <svg id="overview-hits" viewBox="0 0 \(index.width) \(index.height)" preserveAspectRatio="none">\(hits)</svg></div>
      """
    return page("Synopsis of procedure \(procedure)", context, body)
  }

  /// Where the console proposes to keep a closure report: `~/lrj-reports/<procedure>`.
  static func defaultReportFolder(_ procedure: String) -> String {
    let home = ProcessInfo.processInfo.environment["HOME"].map { URL(fileURLWithPath: $0) }
      ?? FileManager.default.homeDirectoryForCurrentUser
    return home.appendingPathComponent("lrj-reports").appendingPathComponent(procedure).path
  }

  func closeForm(_ procedure: String, _ context: ConsoleContext) throws -> Response {
    guard identity.role == .magistrate || identity.role == .controller else {
      throw HTTPError(.forbidden, message: "closure is ordered by the magistrate or the controller")
    }
    let body = """
      <p>Closing writes the closure report, then erases the procedure's data for good: its key is destroyed and its vault deleted.
      The consultation log is kept.</p>
      <form method="post" action="/procedures/\(Page.u(procedure))/close">\(Page.csrfField(context.csrf))
      <label>Keep the report in the folder <input type="text" name="report" size="50" value="\(Page.h(Self.defaultReportFolder(procedure)))"></label>
      <label><input type="checkbox" name="with-data" value="1"> with an archive of the data exploited</label>
      <button type="submit" id="close">Close procedure \(Page.h(procedure)) and erase its data</button></form>
      """
    return page("Close procedure \(procedure)", context, body)
  }

  func close(_ procedure: String, withData: Bool, folder text: String?, _ context: ConsoleContext) async throws -> Response {
    // The report is kept on disk before the key is destroyed, in the folder the magistrate names.
    guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw HTTPError(.badRequest, message: "name the folder to keep the closure report in")
    }
    let folder = URL(fileURLWithPath: (text as NSString).expandingTildeInPath)
    if folder.path == Self.defaultReportFolder(procedure) {
      try? FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true,
                                               attributes: [.posixPermissions: 0o700])
    }
    let result = try await blocking { try access(procedure).close(reportFolder: folder, withData: withData) }
    var rows: [[String]] = []
    for file in result.files {
      let name = URL(fileURLWithPath: file.path).lastPathComponent
      let type = name.hasSuffix(".html") ? "text/html; charset=utf-8" : name.hasSuffix(".json") ? "application/json"
        : name.hasSuffix(".md") ? "text/markdown; charset=utf-8" : name.hasSuffix(".pdf") ? "application/pdf" : "application/x-tar"
      let id = await sessions.keep(.init(bytes: try Data(contentsOf: URL(fileURLWithPath: file.path)), contentType: type,
                                         fileName: name, sha256: file.sha256))
      rows.append(["<a href=\"/downloads/\(id)?download=1\">\(Page.h(name))</a>", "<code>\(file.sha256)</code>"])
    }
    let body = """
      <p id="closed">Procedure \(Page.h(procedure)) is closed; its data are erased (\(result.erasure.vaultFiles.count) files,
      \(result.erasure.vaultBytes) bytes) and its key destroyed. The closure report is in \(Page.h(folder.path)); it can
      also be downloaded here.</p>
      \(Page.table(["report file", "SHA-256"], rows, id: "report"))
      """
    return page("Procedure \(procedure) closed", context, body)
  }

  func log(_ fields: FormFields, format: String, _ context: ConsoleContext) async throws -> Response {
    let filter = LogFilter(
      procedure: fields.first("procedure"), user: fields.first("user"),
      from: try fields.first("from").map { try DateArgument.parse($0, option: "from", endOfDay: false) },
      to: try fields.first("to").map { try DateArgument.parse($0, option: "to", endOfDay: true) })
    let operation = fields.first("operation")
    let (entries, verification) = try await blocking {
      (try installation.consultLog(filter, by: identity), try installation.verifyLog())
    }
    let shown = entries.compactMap { stored in stored.entry.map { (stored.seq, $0) } }
      .filter { operation == nil || $0.1.operation == operation }
    switch format {
    case "csv":
      let lines = [LogFormat.csvHeader] + shown.map { LogFormat.csv($0.0, $0.1) }
      return Response.bytes(Data((lines.joined(separator: "\n") + "\n").utf8), contentType: "text/csv; charset=utf-8", download: "lrj-log.csv")
    case "json":
      return Response.bytes(Data(Terminal.json(shown.map { LogFormat.Line($0.0, $0.1) }).utf8), contentType: "application/json",
                            download: "lrj-log.json")
    default:
      let query = fields.pairs.map { "\(Page.u($0.0))=\(Page.u($0.1))" }.joined(separator: "&")
      let chain = verification.chain
      let failure = chain.failure.map(\.description) ?? verification.problems.first
      let status = failure.map { "<p class=\"error\" id=\"verification\">The log does not verify: \(Page.h($0))</p>" }
        ?? "<p id=\"verification\">Chain verified: \(chain.entryCount) entries (\(chain.purgedCount) purged), \(chain.checkpointCount) signed checkpoints; registry, vaults and stored tracks agree with it.</p>"
      func input(_ name: String) -> String {
        "<input name=\"\(name)\" placeholder=\"\(name)\" value=\"\(Page.h(fields.first(name) ?? ""))\">"
      }
      let body = """
        \(status)
        <form method="get" action="/log">\(["procedure", "user", "operation", "from", "to"].map(input).joined()) <button type="submit">Filter</button></form>
        <p><a href="/log.csv?\(query)">CSV</a> · <a href="/log.json?\(query)">JSON</a></p>
        \(Page.table(["#", "time (UTC)", "user", "role", "procedure", "operation", "outcome", "results", "parameters"],
                     shown.map { seq, e in
                       [String(seq), Page.h(LogFormat.time(e.time)), Page.h(e.user), Page.h(e.role), Page.h(e.procedure ?? ""),
                        Page.h(e.operation), Page.h(e.outcome.rawValue), e.resultCount.map(String.init) ?? "", Page.h(LogFormat.parameters(e))]
                     }, id: "log"))
        """
      return page("Consultation log", context, body)
    }
  }
}
