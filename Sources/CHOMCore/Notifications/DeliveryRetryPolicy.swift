package import Foundation

/// When a failed notification is tried again (the outbox's rule, pure): exponential backoff from
/// `base`, doubled after every failed attempt and capped at `cap`, until `maxAttempts` attempts
/// have failed; then the message is given up (status `failed`, every attempt kept).
///
/// Attempt n (1-based) failing at `now` is retried at `now + min(base × 2^(n-1), cap)`:
/// with the defaults, 30 s, 1 min, 2 min, 4 min … 1 h, 1 h, about 4 h 15 min in all over 10 attempts.
package struct DeliveryRetryPolicy: Sendable, Equatable {
    package var base: TimeInterval
    package var cap: TimeInterval
    package var maxAttempts: Int

    package init(base: TimeInterval = 30, cap: TimeInterval = 3_600, maxAttempts: Int = 10) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    package enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp
    }

    /// What follows the failure of attempt `attempt` (1 is the first) at `now`.
    package func afterFailure(attempt: Int, now: Date) -> Decision {
        guard attempt < maxAttempts else { return .giveUp }
        let exponent = Double(min(max(attempt - 1, 0), 62))
        let delay = min(base * pow(2, exponent), cap)
        return .retry(at: now.addingTimeInterval(max(delay, 0)))
    }

    /// A clear error naming the configuration key, or nil if the policy is usable.
    package func problem(prefix: String) -> String? {
        if !(base > 0 && base <= 86_400) { return "\(prefix).retryBaseSeconds must be more than 0 and at most 86400" }
        if !(cap >= base && cap <= 7 * 86_400) {
            return "\(prefix).retryCapSeconds must be at least retryBaseSeconds and at most 604800"
        }
        if !(1...100).contains(maxAttempts) { return "\(prefix).maxAttempts must be 1 to 100" }
        return nil
    }
}
