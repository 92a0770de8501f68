/// A synopsis that cannot be made, with the reason in words (shown to the user as it is).
public struct SynopsisError: Error, CustomStringConvertible, Sendable, Hashable {
  /// What went wrong.
  public let description: String

  /// Creates an error with its message.
  public init(_ description: String) {
    self.description = description
  }
}
