import Index
import Media

/// Placeholder namespace until the Ingest issue lands: the pipeline will live in this module.
public enum IngestModule {
  /// The module's name, used in logs.
  public static let name = "Ingest"
}
