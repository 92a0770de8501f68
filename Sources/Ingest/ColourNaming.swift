import Index

/// Names the colour of a Y′CbCr pixel with one of the eleven basic colour terms.
///
/// A lookup table over 5-bit Y′, Cb and Cr (32 KB) makes naming a pixel one memory access.
public struct ColourNamer: Sendable {
  private let table: [UInt8]

  /// Builds the table (BT.601 limited-range Y′CbCr, as most camera footage).
  public init() {
    var table = [UInt8](repeating: 0, count: 32 * 32 * 32)
    for y in 0..<32 {
      for cb in 0..<32 {
        for cr in 0..<32 {
          let (r, g, b) = Self.rgb(y: y * 8 + 4, cb: cb * 8 + 4, cr: cr * 8 + 4)
          table[(y << 10) | (cb << 5) | cr] = UInt8(Self.index(of: Self.name(r: r, g: g, b: b)))
        }
      }
    }
    self.table = table
  }

  /// The colour of a Y′CbCr pixel.
  @inlinable public func colour(y: UInt8, cb: UInt8, cr: UInt8) -> Colour {
    Colour.allCases[Int(colourIndex(y: y, cb: cb, cr: cr))]
  }

  /// The index in `Colour.allCases` of a Y′CbCr pixel's colour.
  public func colourIndex(y: UInt8, cb: UInt8, cr: UInt8) -> UInt8 {
    table[(Int(y >> 3) << 10) | (Int(cb >> 3) << 5) | Int(cr >> 3)]
  }

  static func index(of colour: Colour) -> Int { Colour.allCases.firstIndex(of: colour)! }

  /// BT.601 limited range to RGB in 0…1.
  static func rgb(y: Int, cb: Int, cr: Int) -> (Double, Double, Double) {
    let luma = 1.164 * Double(y - 16)
    let u = Double(cb - 128)
    let v = Double(cr - 128)
    func clamp(_ x: Double) -> Double { min(1, max(0, x / 255)) }
    return (clamp(luma + 1.596 * v), clamp(luma - 0.392 * u - 0.813 * v), clamp(luma + 2.017 * u))
  }

  /// The basic colour term of an RGB colour (components in 0…1), by hue, saturation and value.
  public static func name(r: Double, g: Double, b: Double) -> Colour {
    let maximum = max(r, g, b)
    let minimum = min(r, g, b)
    let value = maximum
    let chroma = maximum - minimum
    let saturation = maximum > 0 ? chroma / maximum : 0
    if value < 0.22 || (value < 0.32 && saturation < 0.45) { return .black }
    if saturation < 0.2 || chroma < 0.08 {
      if value > 0.8 { return .white }
      return value < 0.32 ? .black : .grey
    }
    var hue: Double
    if maximum == r {
      hue = 60 * ((g - b) / chroma)
    } else if maximum == g {
      hue = 60 * ((b - r) / chroma + 2)
    } else {
      hue = 60 * ((r - g) / chroma + 4)
    }
    if hue < 0 { hue += 360 }
    switch hue {
    case ..<12, 345...:
      // Light red is pink; the highlights of red paint are not (they stay fairly saturated).
      if saturation < 0.35 && value > 0.75 { return .pink }
      return value < 0.4 ? .brown : .red
    case ..<42:
      if value < 0.6 || (saturation < 0.5 && value < 0.75) { return .brown }
      return .orange
    case ..<70:
      return value < 0.5 ? .brown : .yellow
    case ..<165:
      return .green
    case ..<255:
      return .blue
    case ..<290:
      return .purple
    case ..<320:
      return value > 0.6 ? .pink : .purple
    default:
      // Crimson (saturated, towards magenta) is still red; pink is its light, paler form.
      if saturation >= 0.6 { return value < 0.4 ? .brown : .red }
      return value > 0.6 ? .pink : .purple
    }
  }
}
