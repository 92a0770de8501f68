import Foundation

/// An instant together with the UTC offset of the place it was recorded.
///
/// Rendered and parsed as ISO 8601 with the offset, for example `2026-03-01T10:00:03.200+01:00`.
/// Encoded in JSON as that string (with milliseconds).
public struct WallClockTime: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
  public var date: Date
  /// Seconds east of UTC, a whole number of minutes within ±18 h.
  public var utcOffsetSeconds: Int

  public init(date: Date, utcOffsetSeconds: Int) {
    self.date = date
    self.utcOffsetSeconds = utcOffsetSeconds
  }

  /// Parses ISO 8601 with a mandatory offset: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` then `Z`, `±HH:MM`,
  /// `±HHMM` or `±HH`. A space may replace the `T`.
  /// - Throws: ``QueryError/invalidTime(_:reason:)``.
  public init(iso8601 text: String) throws {
    self = try WallClockTime.parse(text)
  }

  public static func < (lhs: WallClockTime, rhs: WallClockTime) -> Bool { lhs.date < rhs.date }

  /// ISO 8601 with the offset, with `fractionDigits` (0…3) decimals of seconds.
  public func iso8601(fractionDigits: Int = 3) -> String {
    let digits = min(3, max(0, fractionDigits))
    let scale = [1, 10, 100, 1000][digits]
    let localSeconds = date.timeIntervalSince1970 + Double(utcOffsetSeconds)
    let units = Int64((localSeconds * Double(scale)).rounded(.toNearestOrAwayFromZero))
    var seconds = units / Int64(scale)
    var fraction = units % Int64(scale)
    if fraction < 0 {
      fraction += Int64(scale)
      seconds -= 1
    }
    var days = seconds / 86400
    var secondOfDay = seconds % 86400
    if secondOfDay < 0 {
      secondOfDay += 86400
      days -= 1
    }
    let (year, month, day) = Calendrical.civil(fromDays: days)
    var text =
      pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
      + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
    if digits > 0 { text += "." + pad(fraction, digits) }
    let offset = abs(utcOffsetSeconds)
    text += (utcOffsetSeconds < 0 ? "-" : "+") + pad(Int64(offset / 3600), 2) + ":" + pad(Int64(offset / 60 % 60), 2)
    return text
  }

  public var description: String { iso8601() }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      self = try WallClockTime.parse(text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(iso8601())
  }

  private func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(abs(value))
    return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  private func pad(_ value: Int, _ width: Int) -> String { pad(Int64(value), width) }

  static func parse(_ text: String) throws -> WallClockTime {
    func fail(_ reason: String) -> QueryError { .invalidTime(text, reason: reason) }
    let chars = Array(text.utf8)
    guard chars.count <= 64 else { throw fail("too long") }
    var index = 0
    func number(_ count: Int, _ what: String) throws -> Int {
      guard index + count <= chars.count else { throw fail("expected \(what)") }
      var value = 0
      for c in chars[index..<(index + count)] {
        guard c >= 48 && c <= 57 else { throw fail("expected \(what)") }
        value = value * 10 + Int(c - 48)
      }
      index += count
      return value
    }
    func expect(_ c: UInt8, _ what: String) throws {
      guard index < chars.count, chars[index] == c else { throw fail("expected \(what)") }
      index += 1
    }
    let year = try number(4, "a four-digit year")
    try expect(UInt8(ascii: "-"), "'-' after the year")
    let month = try number(2, "a two-digit month")
    try expect(UInt8(ascii: "-"), "'-' after the month")
    let day = try number(2, "a two-digit day")
    guard index < chars.count, [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(chars[index]) else {
      throw fail("expected 'T' and a time of day after the date")
    }
    index += 1
    let hour = try number(2, "a two-digit hour")
    try expect(UInt8(ascii: ":"), "':' after the hour")
    let minute = try number(2, "two-digit minutes")
    var second = 0
    var fraction = 0.0
    if index < chars.count, chars[index] == UInt8(ascii: ":") {
      index += 1
      second = try number(2, "two-digit seconds")
      if index < chars.count, chars[index] == UInt8(ascii: ".") || chars[index] == UInt8(ascii: ",") {
        index += 1
        var scale = 0.1
        var count = 0
        while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
          if count < 9 { fraction += Double(chars[index] - 48) * scale }
          scale /= 10
          count += 1
          index += 1
        }
        guard count > 0 else { throw fail("expected digits after the decimal point") }
      }
    }
    guard index < chars.count else {
      throw fail("the UTC offset is missing (write for example 2026-03-01T10:00:00+01:00, or Z for UTC)")
    }
    var offset = 0
    switch chars[index] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
      index += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      let negative = chars[index] == UInt8(ascii: "-")
      index += 1
      let offsetHours = try number(2, "a two-digit offset hour")
      var offsetMinutes = 0
      if index < chars.count {
        if chars[index] == UInt8(ascii: ":") { index += 1 }
        offsetMinutes = try number(2, "two-digit offset minutes")
      }
      guard offsetHours <= 18, offsetMinutes <= 59, offsetHours * 60 + offsetMinutes <= 18 * 60 else {
        throw fail("UTC offset beyond ±18:00")
      }
      offset = (offsetHours * 3600 + offsetMinutes * 60) * (negative ? -1 : 1)
    default:
      throw fail("expected the UTC offset (Z, +HH:MM or -HH:MM)")
    }
    guard index == chars.count else { throw fail("unexpected text after the UTC offset") }
    guard (1...12).contains(month) else { throw fail("month \(month) does not exist") }
    guard (1...Calendrical.daysIn(month: month, year: year)).contains(day) else {
      throw fail("day \(day) does not exist in that month")
    }
    guard hour <= 23, minute <= 59, second <= 59 else { throw fail("time of day out of range") }
    let days = Calendrical.days(fromCivil: year, month, day)
    let local = Double(days * 86400 + hour * 3600 + minute * 60 + second) + fraction
    return WallClockTime(date: Date(timeIntervalSince1970: local - Double(offset)), utcOffsetSeconds: offset)
  }
}

/// Proleptic Gregorian calendar arithmetic (days since 1970-01-01), independent of locale and time zone data.
enum Calendrical {
  static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }

  static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }
}
