// The rules of L7 (DESIGN.md §2): lrj has no biometric processing, excluded from the program
// itself. This file is the one place the rules are written. The build applies them to every
// source file, to Package.swift and to the module maps (the `L7Check` build-tool plugin
// runs `lrj-l7-scan`, which calls `L7Rules.scan`); at run time `Ingest` refuses a detector model
// whose class list names a face or a person attribute (`L7Rules.refusedClassReason`). It lives
// under Plugins/, beside the plugin, and is itself never scanned: it has to spell what it refuses.
import Foundation

/// What a file is, for the rules that apply to it.
public enum L7FileKind: Sendable, Hashable {
  /// Swift, C, C++, Objective-C sources and headers.
  case source
  /// `Package.swift` and module maps: dependencies, linked libraries, linker settings. No line
  /// is exempt there.
  case buildConfiguration

  /// The kind of the file at `path`, or nil when the rules do not read it (resources, docs).
  public static func of(path: String) -> L7FileKind? {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if name == "Package.swift" || name.hasPrefix("Package@swift") || name.hasSuffix(".modulemap") {
      return .buildConfiguration
    }
    let suffix = name.split(separator: ".").last.map { String($0).lowercased() } ?? ""
    let sources: Set<String> = [
      "swift", "c", "h", "cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "m", "mm", "inc", "ipp", "tpp", "def",
      "s", "apinotes",
    ]
    return name.contains(".") && sources.contains(suffix) ? .source : nil
  }
}

/// One line that breaks a rule.
public struct L7Finding: Sendable, Hashable, CustomStringConvertible {
  /// The file, as given to the scan.
  public var file: String
  /// 1-based line number.
  public var line: Int
  /// The rule's name.
  public var rule: String
  /// What matched.
  public var match: String

  public init(file: String, line: Int, rule: String, match: String) {
    self.file = file
    self.line = line
    self.rule = rule
    self.match = match
  }

  /// `file:line: error: …`, the compilers' form, which build logs and editors show as an error.
  public var description: String {
    "\(file):\(line): error: L7 (no biometric processing): \(rule): \"\(match)\""
  }
}

/// The rules, and the functions that apply them.
public enum L7Rules {
  /// One rule: a name for the message and a pattern, matched without regard to case against each
  /// line with identifiers split into words (`detectFaces` is read as `detect Faces`,
  /// `face_landmarks` as `face landmarks`).
  public struct Rule: Sendable {
    public var name: String
    public var pattern: String
    /// Whether a line that states a refusal or an exclusion may name it (see `exemption`).
    public var exemptable: Bool
  }

  /// Words that name biometric or person-attribute processing.
  public static let vocabulary = Rule(
    name: "biometric or person-attribute processing",
    pattern: #"\bfaces?\b|\bface ?(detect|recogn|embed|landmark|match|id|print|mesh|align|track|verif|search)"#
      + #"|\bfacial|biometric|\bgender|\bethnic|\bskin ?(tone|colou?r|type)|\bhair ?(colou?r|style|length)"#
      + #"|\bage ?(estimat|predict|group|classif)|\bre-? ?identif|\bre ?id\b|\bappearance ?similar"#
      + #"|\bgait ?(recogn|analys|signature)|\bperson ?attribute|\bpedestrian ?attribute|\bemotion ?(recogn|detect)"#
      + #"|\biris ?(recogn|scan)"#,
    exemptable: true)

  /// Libraries, models and APIs that detect, describe or recognise faces or persons' traits:
  /// never allowed, whatever the line says.
  public static let libraries = Rule(
    name: "a face or biometric library, model or API",
    pattern: #"\bdlib\b|insight ?face|\bopenbr\b|face ?net\b|arc ?face|deep ?face|retina ?face|\bmtcnn\b|\bopen ?face\b"#
      + #"|opencv ?face|opencv ?objdetect|\bobjdetect\b|haar ?cascade|lbp ?cascade|cascade ?classifier"#
      + #"|face ?detector ?yn|face ?recognizer|libfacedetection|seeta ?face|face ?api|face ?mesh|media ?pipe"#,
    exemptable: false)

  /// Every rule, in the order they are reported.
  public static let all = [libraries, vocabulary]

  /// A line of a source file may name what the vocabulary rule refuses only to state that it is
  /// refused or absent (the capability manifest's statement, the query language's refusal).
  public static let exemption = #"refus|reject|exclu|forbid|\bno biometric|not (supported|available)|\babsent\b"#

  /// The findings of every rule in `text`, the contents of `file` (at most one a line).
  public static func scan(_ text: String, file: String, kind: L7FileKind) -> [L7Finding] {
    let rules = all.map { ($0, regex($0.pattern)) }
    let exempt = regex(exemption)
    var findings: [L7Finding] = []
    var number = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      let words = readable(line)
      for (rule, pattern) in rules {
        guard let match = firstMatch(pattern, in: words) else { continue }
        if rule.exemptable, kind == .source, firstMatch(exempt, in: words) != nil { continue }
        findings.append(L7Finding(file: file, line: number, rule: rule.name, match: match))
        break
      }
    }
    return findings
  }

  /// A finding when the name of the file at `path` (its last component) breaks a rule: a file
  /// named for biometric processing is refused whatever it holds. Reported at line 1.
  public static func scanFileName(_ path: String) -> L7Finding? {
    let name = String(path.split(separator: "/").last ?? Substring(path))
    let words = readable(Substring(name))
    for rule in all {
      if let match = firstMatch(regex(rule.pattern), in: words) {
        return L7Finding(file: path, line: 1, rule: "\(rule.name), in the file's name", match: match)
      }
    }
    return nil
  }

  /// Why a detector class named `name` is refused (it names a face or a person's attribute), or
  /// nil when it names an object (`person`, `car`, `hair drier`…).
  public static func refusedClassReason(_ name: String) -> String? {
    let words = readable(Substring(name)).lowercased()
    for rule in all {
      if let match = firstMatch(regex(rule.pattern), in: words) { return "it names \(rule.name) (\(match))" }
    }
    let tokens = words.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    for (index, token) in tokens.enumerated() {
      let next = index + 1 < tokens.count ? tokens[index + 1] : ""
      if token == "hair" && ["drier", "dryer", "brush", "clip", "band", "tie"].contains(next) { continue }
      if let trait = personTraits[token] ?? personTraits[String(token.prefix { $0.isLetter })] {
        return "it names a person's \(trait) (\(token))"
      }
    }
    return nil
  }

  /// Words of a class name that name a person's trait, and which trait.
  static let personTraits: [String: String] = {
    var traits: [String: String] = [:]
    let groups: [(String, [String])] = [
      ("face", ["face", "faces", "facial", "eye", "eyes", "iris", "mouth", "nose", "lips", "smile", "smiling"]),
      ("sex", ["sex", "gender", "male", "female", "man", "men", "woman", "women", "boy", "boys", "girl", "girls"]),
      ("age", ["age", "aged", "ageover", "ageless", "old", "young", "child", "children", "kid", "kids", "baby",
               "infant", "adult", "adults", "elderly", "senior", "teen", "teenager", "minor"]),
      ("skin or origin", ["skin", "complexion", "ethnicity", "ethnic", "race", "racial", "nationality"]),
      ("hair", ["hair", "hairs", "haired", "hairstyle", "bald", "beard", "bearded", "moustache", "mustache"]),
      ("build or gait", ["gait", "fat", "thin", "tall", "short", "weight", "height", "posture"]),
      ("expression", ["emotion", "emotions", "expression", "happy", "sad", "angry"]),
      ("identity", ["identity", "personal"]),
    ]
    for (trait, words) in groups { for word in words { traits[word] = trait } }
    return traits
  }()

  // MARK: - Matching

  /// `line` with identifiers split into words: a lower-case letter or digit followed by a capital
  /// gets a space between them, and `_` becomes a space.
  static func readable(_ line: Substring) -> String {
    var out = String.UnicodeScalarView()
    var previousLowerOrDigit = false
    for scalar in line.unicodeScalars {
      if scalar == "_" {
        out.append(" ")
        previousLowerOrDigit = false
        continue
      }
      let properties = scalar.properties
      if properties.isUppercase && previousLowerOrDigit { out.append(" ") }
      out.append(scalar)
      previousLowerOrDigit = properties.isLowercase || properties.numericType != nil
    }
    return String(out)
  }

  /// A pattern of this file, compiled (case-insensitive). The patterns are constants, tested by
  /// L7RulesTests, so compiling cannot fail.
  static func regex(_ pattern: String) -> NSRegularExpression {
    try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
  }

  /// The first text `regex` matches in `text`, or nil.
  static func firstMatch(_ regex: NSRegularExpression, in text: String) -> String? {
    let range = NSRange(text.startIndex..., in: text)
    guard let match = regex.firstMatch(in: text, range: range), let found = Range(match.range, in: text) else {
      return nil
    }
    return String(text[found])
  }
}
