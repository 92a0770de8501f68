/// The class of a moving object. Nothing finer about a person exists in lrj (DESIGN.md L7).
public enum ObjectClass: String, CaseIterable, Codable, Sendable, Hashable {
  case person
  case car
  case twoWheeler = "two-wheeler"
  case busTruck = "bus-truck"
  case other
}

/// The eleven basic colour terms (Berlin & Kay).
public enum Colour: String, CaseIterable, Codable, Sendable, Hashable {
  case black, white, grey, red, orange, yellow, green, blue, purple, pink, brown
}

/// Image-space direction of travel; up is towards the top of the image.
public enum Direction: String, CaseIterable, Codable, Sendable, Hashable {
  case up
  case upRight = "up-right"
  case right
  case downRight = "down-right"
  case down
  case downLeft = "down-left"
  case left
  case upLeft = "up-left"
  case stationary
}
