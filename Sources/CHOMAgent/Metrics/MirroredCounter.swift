import Prometheus

/// A Prometheus counter that follows a cumulative kernel value (CPU ticks, interface bytes).
///
/// swift-prometheus's `Counter` cannot be set, only incremented, so each reading adds the
/// difference since the previous one; the exported value is the kernel's own. When the kernel's
/// value goes back (an interface re-created, a 32-bit driver counter wrapping) the counter restarts
/// from the new value, which Prometheus's `rate()` treats as an ordinary counter reset.
struct MirroredCounter: Sendable {
    let counter: Counter
    /// Kernel units per exported unit: `USER_HZ` for ticks → seconds, 1 for bytes.
    private let divisor: UInt64
    private var last: UInt64?

    init(_ counter: Counter, divisor: UInt64 = 1) {
        self.counter = counter
        self.divisor = max(1, divisor)
    }

    mutating func advance(to value: UInt64) {
        if let last, value >= last {
            add(value - last)
        } else {
            counter.reset()
            add(value)
        }
        last = value
    }

    private func add(_ delta: UInt64) {
        guard delta > 0 else { return }
        if divisor == 1 {
            counter.increment(by: Int64(clamping: delta))
        } else {
            counter.increment(by: Double(delta) / Double(divisor))
        }
    }
}
