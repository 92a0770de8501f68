import Foundation

extension AuthorisationClaims {
  /// What each claim must be, in words.
  static let expectedForm: [String: String] = [
    "aud": "a text (lrj:<installation id>)",
    "procedure": "a text (the procedure id)",
    "kind": "a text naming a procedure kind",
    "investigators": "a list of user ids (texts)",
    "iss": "a text (the magistrate's user id)",
    "nbf": "a text holding an RFC 3339 time (e.g. 2026-03-01T10:00:00Z)",
    "exp": "a text holding an RFC 3339 time (e.g. 2026-12-31T23:59:59Z)",
    "iat": "a text holding an RFC 3339 time (e.g. 2026-03-01T10:00:00Z)",
    "jti": "a text (the token id, 128 bits in hex)",
  ]

  /// A claim that could not be decoded, in plain words: which claim, what it must be and what it
  /// is, e.g. `claim "exp" must be a text holding an RFC 3339 time (…), not a number`.
  /// - Parameters:
  ///   - error: what `JSONDecoder` threw decoding the claims.
  ///   - payload: the claims' JSON, to say what the wrong value is.
  static func plainWords(_ error: any Error, payload: Data) -> String {
    guard let error = error as? DecodingError else { return "the claims cannot be read" }
    let context: DecodingError.Context
    switch error {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
    case .keyNotFound(let key, _): return "claim \"\(key.stringValue)\" is missing"
    @unknown default: return "the claims cannot be read"
    }
    guard let claim = context.codingPath.first?.stringValue else { return "the claims are not a JSON object" }
    let expected = expectedForm[claim] ?? "of another type"
    let value = (try? JSONDecoder().decode([String: JSONValueKind].self, from: payload))?[claim]
    // An element of a list: say which one, counting from 1.
    if context.codingPath.count > 1, let index = context.codingPath[1].intValue, case .list(let items) = value,
      items.indices.contains(index)
    {
      return "claim \"\(claim)\" must be \(expected); item \(index + 1) is \(items[index].words)"
    }
    if case .dataCorrupted = error, case .text(let text) = value {
      return "claim \"\(claim)\" must be \(expected), not \"\(text.prefix(64))\""
    }
    return "claim \"\(claim)\" must be \(expected), not \(value?.words ?? "null")"
  }
}

/// The kind of a JSON value, to name a wrongly typed claim's value.
enum JSONValueKind: Decodable {
  case null, boolean, number
  case text(String)
  case list([JSONValueKind])
  case object

  init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if (try? c.decode(Bool.self)) != nil {
      self = .boolean
    } else if (try? c.decode(Double.self)) != nil {
      self = .number
    } else if let text = try? c.decode(String.self) {
      self = .text(text)
    } else if let items = try? c.decode([JSONValueKind].self) {
      self = .list(items)
    } else {
      self = .object
    }
  }

  /// The kind in words.
  var words: String {
    switch self {
    case .null: "null"
    case .boolean: "true or false"
    case .number: "a number"
    case .text: "a text"
    case .list: "a list"
    case .object: "an object"
    }
  }
}
