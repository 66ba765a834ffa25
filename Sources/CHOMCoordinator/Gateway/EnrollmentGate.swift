import Foundation
import Synchronization

/// The enrollment throttle shared by a replica's Enroll calls, per source address.
final class EnrollmentGate: Sendable {
    private let throttle: Mutex<EnrollmentThrottle>

    init(_ agents: CoordinatorConfiguration.Agents) {
        throttle = Mutex(EnrollmentThrottle(
            limit: .init(failures: max(1, agents.enrollmentFailuresPerAddress), window: max(1, agents.enrollmentWindowSeconds)),
            maximumAddresses: max(1, agents.enrollmentThrottleAddresses)))
    }

    func attempt(address: String, now: Date) -> EnrollmentThrottle.Decision {
        throttle.withLock { $0.attempt(address: address, now: now) }
    }

    func succeeded(address: String, attemptedAt: Date) {
        throttle.withLock { $0.succeeded(address: address, attemptedAt: attemptedAt) }
    }

    var addressCount: Int { throttle.withLock { $0.addressCount } }
}
