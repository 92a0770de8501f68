import Foundation

/// What a stop signal must settle: the operations running behind the door and the files they
/// staged. `lrj` calls ``interrupted()`` when it is stopped (Ctrl-C, `kill`): each running
/// operation is logged as failed ("interrupted") and every file not yet published is removed, so an
/// interrupted export leaves nothing behind and the attempt is still in the log.
public enum Interruption {
  private final class State: @unchecked Sendable {  // guarded by `lock`
    let lock = NSLock()
    var running: [UUID: () -> Void] = [:]
    var staged: [URL] = []
  }
  private static let state = State()

  /// Records a running operation; `logFailure` logs it as interrupted. Call ``end(_:)`` when done.
  static func begin(logFailure: @escaping () -> Void) -> UUID {
    let id = UUID()
    state.lock.withLock { state.running[id] = logFailure }
    return id
  }

  static func end(_ id: UUID) {
    _ = state.lock.withLock { state.running.removeValue(forKey: id) }
  }

  /// Records a staging name: removed (with its `.partial` form) on interruption unless published by then.
  static func staging(_ url: URL) {
    state.lock.withLock { state.staged.append(url) }
  }

  /// Logs every running operation as interrupted and removes every unpublished file. Once only:
  /// later calls find nothing left to do.
  public static func interrupted() {
    let (running, staged) = state.lock.withLock {
      defer { state.running = [:]; state.staged = [] }
      return (Array(state.running.values), state.staged)
    }
    for logFailure in running { logFailure() }
    for url in staged {
      for path in [url.path, url.path + ".partial"] where FileManager.default.fileExists(atPath: path) {
        try? FileManager.default.removeItem(atPath: path)
      }
    }
  }
}
