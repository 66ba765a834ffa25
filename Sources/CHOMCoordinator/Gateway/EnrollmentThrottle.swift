package import Foundation

/// Failed enrollments per source address: after `limit.failures` within `limit.window`, the address
/// is refused until its oldest failure leaves the window (the gateway answers resourceExhausted).
///
/// A pure value (the login throttle's mechanism, one key kind): the caller keeps it in a `Mutex`
/// and passes the time. Every allowed attempt is counted when it starts, so parallel attempts cannot
/// slip past the limit; a successful enrollment takes its attempt back, so only failures stay
/// counted. A refused attempt is not counted, and only the first refusal of a run is reported
/// (`firstRefusal`), so a flood of refused calls writes one audit entry, not one each. Memory is
/// bounded: past `maximumAddresses`, addresses whose failures all left the window are dropped, then
/// the eighth idle longest.
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

    private struct Entry: Sendable {
        /// Attempt times, oldest first; never more than the limit.
        var attempts: [Date]
        var refusalReported = false
    }

    package let limit: Limit
    package let maximumAddresses: Int
    private var entries: [String: Entry] = [:]

    package init(limit: Limit = Limit(failures: 10, window: 15 * 60), maximumAddresses: Int = 10_000) {
        precondition(limit.failures > 0 && limit.window > 0 && maximumAddresses > 0)
        self.limit = limit
        self.maximumAddresses = maximumAddresses
    }

    /// The number of addresses held, for tests and metrics.
    package var addressCount: Int { entries.count }

    /// Asks to enroll once from `address` at `now`; counts the attempt if allowed.
    package mutating func attempt(address: String, now: Date) -> Decision {
        var entry = entries[address] ?? Entry(attempts: [])
        entry.attempts.removeAll { $0 <= now.addingTimeInterval(-limit.window) }
        if entry.attempts.count >= limit.failures, let oldest = entry.attempts.first {
            // The oldest failure leaves the window at oldest + window; a clock that went back is capped.
            let wait = min(limit.window, oldest.addingTimeInterval(limit.window).timeIntervalSince(now))
            let first = !entry.refusalReported
            entry.refusalReported = true
            entries[address] = entry
            return .limited(retryAfter: max(wait, .leastNonzeroMagnitude), firstRefusal: first)
        }
        entry.refusalReported = false
        entry.attempts.append(now)
        if entries[address] == nil, entries.count >= maximumAddresses { evict(now: now) }
        entries[address] = entry
        return .allowed
    }

    /// The attempt made from `address` at `attemptedAt` enrolled an agent: it does not count.
    package mutating func succeeded(address: String, attemptedAt: Date) {
        guard var entry = entries[address], let index = entry.attempts.lastIndex(of: attemptedAt) else { return }
        entry.attempts.remove(at: index)
        entries[address] = entry.attempts.isEmpty ? nil : entry
    }

    /// Makes room: drops addresses whose every attempt has left the window, then, if still full, the
    /// eighth whose last attempt is oldest (amortized, so a flood of new addresses is not quadratic).
    private mutating func evict(now: Date) {
        let horizon = now.addingTimeInterval(-limit.window)
        entries = entries.filter { _, entry in (entry.attempts.last ?? .distantPast) > horizon }
        guard entries.count >= maximumAddresses else { return }
        let idleFirst = entries.sorted { ($0.value.attempts.last ?? .distantPast) < ($1.value.attempts.last ?? .distantPast) }
        for (address, _) in idleFirst.prefix(max(1, maximumAddresses / 8)) { entries[address] = nil }
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
