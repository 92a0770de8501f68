import CPNG

/// PNG encoding and decoding in memory with libpng's simplified `png_image` API, which reports
/// errors as return codes (no `longjmp` ever crosses a Swift frame).
public enum PNG {
  /// A decoded PNG: colour images come back as RGB, grey ones as gray.
  public enum Image: Sendable, Hashable {
    case rgb(RGBImage)
    case gray(GrayImage)
  }

  /// The largest picture decoded, in pixels (guards against decompression bombs).
  public static let maximumPixels = 100_000_000

  /// libpng's version, e.g. `1.6.39`.
  public static var libraryVersion: String { String(cString: png_get_libpng_ver(nil)) }

  /// Encodes an RGB image as PNG bytes.
  public static func encode(_ image: RGBImage) throws(MediaError) -> [UInt8] {
    try encode(pixels: image.pixels, width: image.width, height: image.height, format: lrj_png_format_rgb())
  }

  /// Encodes a grey image as PNG bytes.
  public static func encode(_ image: GrayImage) throws(MediaError) -> [UInt8] {
    try encode(pixels: image.pixels, width: image.width, height: image.height, format: lrj_png_format_gray())
  }

  /// Decodes PNG bytes; alpha, palettes and 16-bit samples are flattened to 8-bit RGB or gray.
  public static func decode(_ data: [UInt8]) throws(MediaError) -> Image {
    var image = png_image()
    image.version = lrj_png_image_version()
    let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard begun != 0 else { throw failure(&image, "png_image_begin_read_from_memory") }
    let width = Int(image.width)
    let height = Int(image.height)
    guard width > 0, height > 0, width * height <= maximumPixels else {
      png_image_free(&image)
      throw MediaError(.png, "PNG of absurd size \(width)x\(height)")
    }
    let isColour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
    image.format = isColour ? lrj_png_format_rgb() : lrj_png_format_gray()
    let channels = isColour ? 3 : 1
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    var black = png_color(red: 0, green: 0, blue: 0)
    let finished = pixels.withUnsafeMutableBytes {
      png_image_finish_read(&image, &black, $0.baseAddress, 0, nil)
    }
    guard finished != 0 else { throw failure(&image, "png_image_finish_read") }
    png_image_free(&image)
    return isColour
      ? .rgb(RGBImage(width: width, height: height, pixels: pixels))
      : .gray(GrayImage(width: width, height: height, pixels: pixels))
  }

  private static func encode(pixels: [UInt8], width: Int, height: Int, format: png_uint_32) throws(MediaError)
    -> [UInt8]
  {
    var image = png_image()
    image.version = lrj_png_image_version()
    image.width = png_uint_32(width)
    image.height = png_uint_32(height)
    image.format = format
    image.flags = lrj_png_flag_fast()  // speed over size: thumbnails are encoded during ingest
    var size = 0
    // First pass: ask for the size; second: write.
    let sized = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
    guard sized != 0, size > 0 else { throw failure(&image, "png_image_write_to_memory") }
    var output = [UInt8](repeating: 0, count: size)
    let written = output.withUnsafeMutableBytes { destination in
      pixels.withUnsafeBytes { png_image_write_to_memory(&image, destination.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
    }
    guard written != 0 else { throw failure(&image, "png_image_write_to_memory") }
    png_image_free(&image)
    return Array(output.prefix(size))
  }

  private static func failure(_ image: inout png_image, _ call: String) -> MediaError {
    let message = withUnsafeBytes(of: image.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    png_image_free(&image)
    return MediaError(.png, "\(call) failed: \(message.isEmpty ? "unknown libpng error" : message)")
  }
}
