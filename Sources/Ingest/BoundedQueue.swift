import Dispatch
import Foundation
import Synchronization

/// A first-in first-out queue between two threads that blocks the producer when full, so that
/// a fast decoder cannot run ahead of the analysis and fill memory.
///
/// Its state is guarded by an `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`,
/// whose contended path runs in uninstrumented library code: the thread sanitizer sees the
/// ordering a pthread mutex gives, so an ingest can be checked for data races.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [Element] = []
  private var last: Element?
  private let free: DispatchSemaphore
  private let filled = DispatchSemaphore(value: 0)

  init(capacity: Int) {
    free = DispatchSemaphore(value: capacity)
  }

  /// Appends, waiting while the queue is full.
  func put(_ element: Element) {
    free.wait()
    lock.withLock { items.append(element) }
    filled.signal()
  }

  /// Removes the oldest element, waiting while the queue is empty.
  func take() -> Element {
    filled.wait()
    let element = lock.withLock {
      let first = items.removeFirst()
      last = first
      return first
    }
    free.signal()
    return element
  }

  /// The element `take()` returned last.
  var lastTaken: Element? { lock.withLock { last } }
}

/// A flag one thread sets and another reads.
final class Flag: Sendable {
  private let value = Atomic<Bool>(false)

  func set() { value.store(true, ordering: .releasing) }
  func clear() { value.store(false, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
}
