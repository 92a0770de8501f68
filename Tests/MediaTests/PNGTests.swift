import Media
import Testing

struct PNGTests {
  @Test func rgbRoundTripIsBitExact() throws {
    var generator = SystemRandomNumberGenerator()
    let pixels = (0..<(97 * 61 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let image = RGBImage(width: 97, height: 61, pixels: pixels)
    let bytes = try PNG.encode(image)
    #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(try PNG.decode(bytes) == .rgb(image))
  }

  @Test func grayRoundTripIsBitExact() throws {
    let image = GrayImage(width: 33, height: 17, pixels: (0..<(33 * 17)).map { UInt8($0 % 256) })
    #expect(try PNG.decode(try PNG.encode(image)) == .gray(image))
  }

  @Test func garbageAndTruncatedDataAreErrors() throws {
    #expect(throws: MediaError.self) { _ = try PNG.decode(Array("not a png".utf8)) }
    #expect(throws: MediaError.self) { _ = try PNG.decode([]) }
    let bytes = try PNG.encode(RGBImage(width: 64, height: 64, fill: (1, 2, 3)))
    do {
      _ = try PNG.decode(Array(bytes.prefix(bytes.count / 2)))
      Issue.record("a truncated PNG must not decode")
    } catch {
      #expect(error.kind == .png)
      #expect(error.description.contains("png_image"))
    }
  }
}
