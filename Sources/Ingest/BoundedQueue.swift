import Dispatch
import Synchronization

/// A first-in first-out queue between two threads that blocks the producer when full, so that
/// a fast decoder cannot run ahead of the analysis and fill memory.
final class BoundedQueue<Element: Sendable>: Sendable {
  private let items = Mutex<[Element]>([])
  private let free: DispatchSemaphore
  private let filled = DispatchSemaphore(value: 0)
  private let last = Mutex<Element?>(nil)

  init(capacity: Int) {
    free = DispatchSemaphore(value: capacity)
  }

  /// Appends, waiting while the queue is full.
  func put(_ element: Element) {
    free.wait()
    items.withLock { $0.append(element) }
    filled.signal()
  }

  /// Removes the oldest element, waiting while the queue is empty.
  func take() -> Element {
    filled.wait()
    let element = items.withLock { $0.removeFirst() }
    last.withLock { $0 = element }
    free.signal()
    return element
  }

  /// The element `take()` returned last.
  var lastTaken: Element? { last.withLock { $0 } }
}

/// A flag one thread sets and another reads.
final class Flag: Sendable {
  private let value = Atomic<Bool>(false)

  func set() { value.store(true, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
}
