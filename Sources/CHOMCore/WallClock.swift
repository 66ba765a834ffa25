package import Foundation
import Synchronization

/// Wall-clock time, injected wherever behaviour depends on it (expiry, grace, heartbeats).
package protocol WallClock: Sendable {
    func now() -> Date
}

package struct SystemWallClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

/// A clock that moves only when told to. For tests.
package final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    package func now() -> Date { current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    package func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}

extension Date {
    /// Milliseconds since the Unix epoch, the unit the agent protocol uses.
    package var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    package init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(unixMilliseconds) / 1000)
    }
}
