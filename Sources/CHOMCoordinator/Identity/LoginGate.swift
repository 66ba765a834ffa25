import Foundation
import Synchronization

/// Too many attempts: answered 429 with `Retry-After`.
struct RateLimited: Error, Sendable {
    let retryAfterSeconds: Int
}

/// The login throttle shared by a replica's requests: per account and per source address.
final class LoginGate: Sendable {
    private let throttle: Mutex<LoginThrottle>

    init(_ throttle: LoginThrottle) {
        self.throttle = Mutex(throttle)
    }

    /// Counts an attempt; throws `RateLimited` when either key is over its limit.
    func attempt(account: String, address: String, now: Date) throws {
        let decision = throttle.withLock {
            $0.attempt(keys: [.account(account.lowercased()), .address(address)], now: now)
        }
        if let seconds = decision.retryAfterSeconds { throw RateLimited(retryAfterSeconds: max(1, seconds)) }
    }

    /// The attempt counted at `now` succeeded: the account starts over, the address forgets that one
    /// attempt (so people signing in from one address do not use up its allowance for failures).
    func succeeded(account: String, address: String, now: Date) {
        throttle.withLock {
            $0.succeeded(key: .account(account.lowercased()), attemptedAt: now)
            $0.succeeded(key: .address(address), attemptedAt: now)
        }
    }
}
