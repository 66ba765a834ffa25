package import Foundation

/// Failed enrollments per source address: after `limit.failures` within `limit.window`, the address
/// is refused until its oldest failure leaves the window (the gateway answers resourceExhausted).
///
/// The sliding window, the in-flight counting, the success that takes its attempt back and the
/// bounded table are the login throttle's (``LoginThrottle`` keyed by `.address`); this adds only
/// that the first refusal of a run is reported (`firstRefusal`), so a flood of refused calls writes
/// one audit entry, not one each. A pure value: the caller keeps it in a `Mutex` and passes the time.
package struct EnrollmentThrottle: Sendable {
    package struct Limit: Sendable, Equatable {
        package var failures: Int
        package var window: TimeInterval

        package init(failures: Int, window: TimeInterval) {
            self.failures = failures
            self.window = window
        }
    }

    package enum Decision: Sendable, Equatable {
        case allowed
        /// Refused for `retryAfter` seconds (0 < retryAfter ≤ the window); `firstRefusal` once per run.
        case limited(retryAfter: TimeInterval, firstRefusal: Bool)
    }

    package let limit: Limit
    package let maximumAddresses: Int
    private var attempts: LoginThrottle
    /// Addresses whose current run of refusals was reported; bounded like the table.
    private var reported: Set<String> = []

    package init(limit: Limit = Limit(failures: 10, window: 15 * 60), maximumAddresses: Int = 10_000) {
        precondition(limit.failures > 0 && limit.window > 0 && maximumAddresses > 0)
        self.limit = limit
        self.maximumAddresses = maximumAddresses
        let window = LoginThrottle.Limit(attempts: limit.failures, window: limit.window)
        attempts = LoginThrottle(accountLimit: window, addressLimit: window, maximumKeys: maximumAddresses)
    }

    /// The number of addresses held, for tests and metrics.
    package var addressCount: Int { attempts.keyCount }

    /// Asks to enroll once from `address` at `now`; counts the attempt if allowed.
    package mutating func attempt(address: String, now: Date) -> Decision {
        switch attempts.attempt(key: .address(address), now: now) {
        case .allowed:
            reported.remove(address)
            return .allowed
        case .limited(let wait):
            if reported.count >= maximumAddresses { reported.removeAll() }  // at worst one more audit entry each
            return .limited(retryAfter: wait, firstRefusal: reported.insert(address).inserted)
        }
    }

    /// The attempt made from `address` at `attemptedAt` enrolled an agent: it does not count.
    package mutating func succeeded(address: String, attemptedAt: Date) {
        attempts.succeeded(key: .address(address), attemptedAt: attemptedAt)
    }

    /// The host part of a gRPC peer (`ipv4:203.0.113.7:53211`, `ipv6:[2001:db8::1]:53211`): the
    /// port changes with every connection, so it is not part of the key.
    package static func sourceAddress(ofPeer peer: String) -> String {
        if peer.hasPrefix("ipv6:["), let close = peer.firstIndex(of: "]") {
            return String(peer[peer.index(peer.startIndex, offsetBy: 6)..<close])
        }
        if peer.hasPrefix("ipv4:") {
            let rest = peer.dropFirst(5)
            return String(rest.split(separator: ":").first ?? rest)
        }
        return peer
    }
}
