import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Named instants at which a test can kill lrj with SIGKILL (debug builds only; release builds
/// compile it out): `LRJ_CRASH_AT=closure.reported lrj procedure close …` dies right after the
/// closure logged its report, before publishing it. Kills timed from outside land between these
/// instants by chance; these land on them every time.
enum CrashPoint {
  static func reach(_ name: String) {
    #if DEBUG
      if ProcessInfo.processInfo.environment["LRJ_CRASH_AT"] == name { kill(getpid(), SIGKILL) }
    #endif
  }
}
