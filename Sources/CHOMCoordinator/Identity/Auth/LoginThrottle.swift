package import Foundation

/// Rate limits for login attempts: a sliding window (a log of attempt times) per key, by default
/// 5 attempts per 15 minutes per account and 20 per 15 minutes per source address.
///
/// A pure value: the caller keeps it (in a `Mutex`) and passes the time. Every allowed attempt is
/// counted when it is made, so parallel password checks cannot slip past the limit; a refused attempt
/// is not counted, so a limited key frees up on time. A success takes its attempt back: an account
/// starts over, a source address only forgets that one attempt (so that logging into one's own account
/// does not wipe the failures of guesses at others). Memory is bounded: past `maximumKeys`, expired
/// logs are dropped, then the keys idle longest.
package struct LoginThrottle: Sendable {
    package enum Key: Hashable, Sendable {
        /// The account name as submitted (normalized by the caller), whether or not it exists.
        case account(String)
        case address(String)
    }

    package struct Limit: Sendable, Equatable {
        package var attempts: Int
        package var window: TimeInterval

        package init(attempts: Int, window: TimeInterval) {
            self.attempts = attempts
            self.window = window
        }
    }

    package enum Decision: Sendable, Equatable {
        case allowed
        /// Try again after this many seconds (0 < retryAfter ≤ the window).
        case limited(retryAfter: TimeInterval)

        /// The `Retry-After` header value: whole seconds, rounded up; nil when allowed.
        package var retryAfterSeconds: Int? {
            guard case .limited(let retryAfter) = self else { return nil }
            return Int(retryAfter.rounded(.up))
        }
    }

    package var accountLimit: Limit
    package var addressLimit: Limit
    package var maximumKeys: Int
    /// Attempt times per key, oldest first; never more than the key's limit, never empty.
    private var attempts: [Key: [Date]] = [:]

    package init(
        accountLimit: Limit = Limit(attempts: 5, window: 15 * 60),
        addressLimit: Limit = Limit(attempts: 20, window: 15 * 60),
        maximumKeys: Int = 100_000
    ) {
        precondition(accountLimit.attempts > 0 && addressLimit.attempts > 0 && maximumKeys > 0)
        self.accountLimit = accountLimit
        self.addressLimit = addressLimit
        self.maximumKeys = maximumKeys
    }

    /// The number of keys held, for tests and metrics.
    package var keyCount: Int { attempts.count }

    /// Asks to try once for `key` at `now`; counts the attempt if allowed.
    package mutating func attempt(key: Key, now: Date) -> Decision {
        attempt(keys: [key], now: now)
    }

    /// Asks to try once for all `keys` (a login's account and address) at `now`. If any is limited, none
    /// is counted and the longest wait is returned; otherwise the attempt is counted for each.
    package mutating func attempt(keys: [Key], now: Date) -> Decision {
        var longestWait: TimeInterval = 0
        for key in keys {
            if case .limited(let wait) = decision(for: key, now: now) { longestWait = max(longestWait, wait) }
        }
        if longestWait > 0 { return .limited(retryAfter: longestWait) }
        for key in Set(keys) {
            if attempts[key] == nil, attempts.count >= maximumKeys { evict(now: now) }
            attempts[key, default: []].append(now)
        }
        return .allowed
    }

    /// The attempt made at `attemptedAt` for `key` succeeded.
    package mutating func succeeded(key: Key, attemptedAt: Date) {
        switch key {
        case .account:
            attempts[key] = nil
        case .address:
            guard var log = attempts[key], let index = log.lastIndex(of: attemptedAt) else { return }
            log.remove(at: index)
            attempts[key] = log.isEmpty ? nil : log
        }
    }

    /// What an attempt at `now` would get, without counting it. Drops the key's expired attempts.
    package mutating func decision(for key: Key, now: Date) -> Decision {
        let limit = limit(for: key)
        guard var log = attempts[key] else { return .allowed }
        log.removeAll { $0 <= now.addingTimeInterval(-limit.window) }
        attempts[key] = log.isEmpty ? nil : log
        guard log.count >= limit.attempts, let oldest = log.first else { return .allowed }
        // The oldest attempt leaves the window at oldest + window; a clock that went back is capped.
        let wait = min(limit.window, oldest.addingTimeInterval(limit.window).timeIntervalSince(now))
        return .limited(retryAfter: max(wait, .leastNonzeroMagnitude))
    }

    private func limit(for key: Key) -> Limit {
        switch key {
        case .account: accountLimit
        case .address: addressLimit
        }
    }

    /// Makes room: drops logs whose every attempt has left its window, then, if still full, the eighth
    /// of keys whose last attempt is oldest (amortized, so a flood of new keys is not quadratic).
    private mutating func evict(now: Date) {
        attempts = attempts.filter { key, log in
            guard let last = log.last else { return false }
            return last > now.addingTimeInterval(-limit(for: key).window)
        }
        guard attempts.count >= maximumKeys else { return }
        let idleFirst = attempts.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
        for (key, _) in idleFirst.prefix(max(1, maximumKeys / 8)) { attempts[key] = nil }
    }
}
