import Index
import Media

/// Placeholder namespace until the Synopsis issue lands.
public enum SynopsisModule {
  /// The module's name, used in logs.
  public static let name = "Synopsis"
}
