import Foundation

/// Which frames the decoding thread reduces and sends to the analysis: every `stride`-th while
/// something moves, fewer while nothing has for a while (the analysis says which).
///
/// The analysis rules on each frame it analyses, and a ruling takes effect `lead` frames later.
/// The decoder asks about a frame only once the analysis has ruled that far, or has analysed
/// everything sent so far (then no ruling to come can reach back to that frame); otherwise it waits.
/// So the frames analysed depend on the footage alone, never on how far the decoder happened to run
/// ahead: the same file always gives the same tracks. A larger `lead` lets the decoder run further
/// ahead (the two threads overlap more) and makes the analysis look more often for longer once
/// something moves again.
final class FrameSchedule: @unchecked Sendable {
  private let condition = NSCondition()
  private var lead = 1
  /// Rulings in frame order: from frame `from` on, the footage is idle or not. The first covers all.
  private var rulings: [(from: Int, idle: Bool)] = [(Int.min, false)]
  /// Frames up to this index are ruled on (nil until the decoder's first question).
  private var ruledThrough: Int?
  private var sentFrames = 0
  private var analysedFrames = 0
  private var closed = false

  /// Decoder, before its first question: frames between a ruling and the first frame it applies to.
  func begin(lead: Int) {
    condition.lock()
    self.lead = max(1, lead)
    condition.unlock()
  }

  /// Decoder: whether frame `index` falls where nothing moves; waits until the analysis has ruled
  /// on it. The first question starts the count: the `lead` frames from there on are not idle.
  func isIdle(at index: Int) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    // Rulings still to come are made on this frame or later ones, so reach `index + lead` at the nearest.
    ruledThrough = ruledThrough ?? (index + lead - 1)
    while !closed, index > ruledThrough!, analysedFrames < sentFrames {
      condition.wait()
    }
    while rulings.count > 1, rulings[1].from <= index { rulings.removeFirst() }
    return rulings[0].idle
  }

  /// Decoder: one more frame is on its way to the analysis.
  func sent() {
    condition.lock()
    sentFrames += 1
    condition.unlock()
  }

  /// Analysis: frame `index` is analysed, and the footage is idle (or not) from `index + lead` on.
  func analysed(_ index: Int, idle: Bool) {
    condition.lock()
    analysedFrames += 1
    ruledThrough = index + lead  // rulings still to come are made on later frames
    if rulings[rulings.count - 1].idle != idle { rulings.append((index + lead, idle)) }
    condition.broadcast()
    condition.unlock()
  }

  /// Either side: nobody waits any more (the analysis ended or stopped).
  func close() {
    condition.lock()
    closed = true
    condition.broadcast()
    condition.unlock()
  }
}
