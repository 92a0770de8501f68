internal import CPangoCairo
import Foundation

/// A printable document laid out for A4 and written as PDF in memory, with cairo and Pango (text
/// shaping, wrapping, fonts from fontconfig). Blocks flow from top to bottom and onto new pages;
/// every page carries a footer with its number.
///
/// ```swift
/// var pdf = PDFDocument(footer: "Closure report P-1")
/// pdf.heading("Summary")
/// pdf.table(["what", "value"], [["Procedure", "P-1"]])
/// let bytes = try pdf.finish()
/// ```
public struct PDFDocument {
  /// A block to lay out.
  enum Block {
    case heading(String, level: Int)
    case paragraph(String, monospace: Bool)
    case table(headers: [String], rows: [[String]], widths: [Double]?)
    case pageBreak
  }

  private var blocks: [Block] = []
  private let footer: String

  /// A4, in points.
  static let pageWidth = 595.276
  static let pageHeight = 841.89
  static let margin = 48.0

  /// A new, empty document; `footer` is printed at the bottom of every page with its number.
  public init(footer: String) {
    self.footer = footer
  }

  /// A heading; level 1 is the title.
  public mutating func heading(_ text: String, level: Int = 2) { blocks.append(.heading(text, level: level)) }

  /// A paragraph of plain text (no markup), wrapped at the page width.
  public mutating func paragraph(_ text: String, monospace: Bool = false) { blocks.append(.paragraph(text, monospace: monospace)) }

  /// A table with a header row (none when every header is empty); `widths` are the columns' shares of
  /// the text width (equal when nil).
  /// Long cells wrap; a row never splits across pages, and the header repeats on every page.
  public mutating func table(_ headers: [String], _ rows: [[String]], widths: [Double]? = nil) {
    blocks.append(.table(headers: headers, rows: rows, widths: widths))
  }

  /// Starts a new page.
  public mutating func pageBreak() { blocks.append(.pageBreak) }

  /// Lays the document out and returns the PDF's bytes.
  /// - Throws: `MediaError` when cairo cannot make the document.
  public func finish() throws(MediaError) -> Data {
    let sink = PDFSink()
    let unmanaged = Unmanaged.passRetained(sink)
    defer { unmanaged.release() }
    guard
      let surface = cairo_pdf_surface_create_for_stream(
        { closure, data, length in
          guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
          Unmanaged<PDFSink>.fromOpaque(closure).takeUnretainedValue().bytes.append(data, count: Int(length))
          return CAIRO_STATUS_SUCCESS
        }, unmanaged.toOpaque(), Self.pageWidth, Self.pageHeight)
    else { throw MediaError(.allocation, "cairo_pdf_surface_create_for_stream") }
    defer { cairo_surface_destroy(surface) }
    guard let cairo = cairo_create(surface) else { throw MediaError(.allocation, "cairo_create") }
    defer { cairo_destroy(cairo) }
    var page = PDFPage(cairo: cairo, footer: footer)
    for block in blocks { page.draw(block) }
    page.end()
    cairo_surface_finish(surface)
    let status = cairo_surface_status(surface)
    guard status == CAIRO_STATUS_SUCCESS else {
      throw MediaError(.encodeFailed, "cairo: \(String(cString: cairo_status_to_string(status)))")
    }
    return sink.bytes
  }

  /// The versions of cairo and Pango.
  public static var libraryVersions: String {
    "cairo \(String(cString: cairo_version_string())), Pango \(String(cString: pango_version_string()))"
  }
}

/// Receives the PDF's bytes from cairo.
private final class PDFSink {
  var bytes = Data()
}

/// The page being filled: where the next block goes, and page breaks.
private struct PDFPage {
  let cairo: OpaquePointer
  let footer: String
  var number = 1
  var y = PDFDocument.margin
  var textWidth: Double { PDFDocument.pageWidth - 2 * PDFDocument.margin }
  var bottom: Double { PDFDocument.pageHeight - PDFDocument.margin - 18 }

  init(cairo: OpaquePointer, footer: String) {
    self.cairo = cairo
    self.footer = footer
  }

  mutating func draw(_ block: PDFDocument.Block) {
    switch block {
    case .heading(let text, let level):
      let size = level == 1 ? 16.0 : 12.0
      let layout = makeLayout(text, font: "DejaVu Sans Bold \(size)", width: textWidth)
      defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
      let height = self.height(of: layout)
      if y + height + 30 > bottom { newPage() }  // keep a heading with what follows
      y += level == 1 ? 0 : 8
      show(layout, x: PDFDocument.margin, y: y)
      y += height + 6
    case .paragraph(let text, let monospace):
      let layout = makeLayout(text, font: monospace ? "DejaVu Sans Mono 7" : "DejaVu Sans 9", width: textWidth)
      defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
      var lines = lineHeights(of: layout)
      // A paragraph longer than a page is split between lines.
      var index = 0
      while index < lines.count {
        var taken = 0.0
        var count = 0
        while index + count < lines.count, y + taken + lines[index + count] <= bottom || count == 0 && y == PDFDocument.margin {
          taken += lines[index + count]
          count += 1
        }
        if count == 0 {
          newPage()
          continue
        }
        cairo_save(cairo)
        cairo_rectangle(cairo, PDFDocument.margin - 2, y, textWidth + 4, taken)
        cairo_clip(cairo)
        let skipped = lines[..<index].reduce(0, +)
        show(layout, x: PDFDocument.margin, y: y - skipped)
        cairo_restore(cairo)
        y += taken
        index += count
        if index < lines.count { newPage() }
      }
      lines.removeAll()
      y += 5
    case .table(let headers, let rows, let widths):
      drawTable(headers, rows, widths)
    case .pageBreak:
      newPage()
    }
  }

  mutating func drawTable(_ headers: [String], _ rows: [[String]], _ widths: [Double]?) {
    let columns = max(1, headers.count)
    let shares = widths.map { w in w.map { $0 / w.reduce(0, +) } } ?? Array(repeating: 1.0 / Double(columns), count: columns)
    let columnWidths = shares.map { $0 * textWidth }
    func rowHeight(_ cells: [String], bold: Bool) -> (Double, [OpaquePointer]) {
      var layouts: [OpaquePointer] = []
      var height = 0.0
      for (index, width) in columnWidths.enumerated() {
        let text = index < cells.count ? cells[index] : ""
        let layout = makeLayout(text, font: bold ? "DejaVu Sans Bold 7" : "DejaVu Sans 7", width: width - 6)
        layouts.append(layout)
        height = max(height, self.height(of: layout))
      }
      return (height + 4, layouts)
    }
    func drawRow(_ layouts: [OpaquePointer], height: Double, shaded: Bool) {
      var x = PDFDocument.margin
      if shaded {
        cairo_set_source_rgb(cairo, 0.92, 0.92, 0.92)
        cairo_rectangle(cairo, x, y, textWidth, height)
        cairo_fill(cairo)
        cairo_set_source_rgb(cairo, 0, 0, 0)
      }
      for (layout, width) in zip(layouts, columnWidths) {
        show(layout, x: x + 3, y: y + 2)
        x += width
      }
      cairo_set_line_width(cairo, 0.4)
      cairo_move_to(cairo, PDFDocument.margin, y + height)
      cairo_line_to(cairo, PDFDocument.margin + textWidth, y + height)
      cairo_stroke(cairo)
      y += height
      for layout in layouts { g_object_unref(UnsafeMutableRawPointer(layout)) }
    }
    func header() {
      let (height, layouts) = rowHeight(headers, bold: true)
      drawRow(layouts, height: height, shaded: true)
    }
    let hasHeader = headers.contains { !$0.isEmpty }
    if y + 40 > bottom { newPage() }
    if hasHeader { header() }
    for cells in rows {
      let (height, layouts) = rowHeight(cells, bold: false)
      if y + height > bottom {
        newPage()
        if hasHeader { header() }
      }
      drawRow(layouts, height: height, shaded: false)
    }
    y += 8
  }

  func makeLayout(_ text: String, font: String, width: Double) -> OpaquePointer {
    let layout = pango_cairo_create_layout(cairo)!
    let description = pango_font_description_from_string(font)
    pango_layout_set_font_description(layout, description)
    pango_font_description_free(description)
    pango_layout_set_width(layout, Int32(width * Double(lrj_pango_scale())))
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
    pango_layout_set_text(layout, text, -1)
    return layout
  }

  func height(of layout: OpaquePointer) -> Double {
    var width: Int32 = 0
    var height: Int32 = 0
    pango_layout_get_pixel_size(layout, &width, &height)
    return Double(height)
  }

  /// The height of each line of a layout.
  func lineHeights(of layout: OpaquePointer) -> [Double] {
    let count = Int(pango_layout_get_line_count(layout))
    guard count > 0, let iterator = pango_layout_get_iter(layout) else { return [] }
    defer { pango_layout_iter_free(iterator) }
    var heights: [Double] = []
    repeat {
      var ink = PangoRectangle()
      var logical = PangoRectangle()
      pango_layout_iter_get_line_extents(iterator, &ink, &logical)
      heights.append(Double(logical.height) / Double(lrj_pango_scale()))
    } while pango_layout_iter_next_line(iterator) != 0
    return heights
  }

  func show(_ layout: OpaquePointer, x: Double, y: Double) {
    cairo_move_to(cairo, x, y)
    pango_cairo_show_layout(cairo, layout)
  }

  mutating func newPage() {
    end()
    cairo_show_page(cairo)
    number += 1
    y = PDFDocument.margin
  }

  /// Draws the footer of the current page.
  func end() {
    let layout = makeLayout("\(footer) — page \(number)", font: "DejaVu Sans 7", width: textWidth)
    defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
    cairo_set_source_rgb(cairo, 0.35, 0.35, 0.35)
    show(layout, x: PDFDocument.margin, y: PDFDocument.pageHeight - PDFDocument.margin)
    cairo_set_source_rgb(cairo, 0, 0, 0)
  }
}
