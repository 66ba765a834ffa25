import CHOMCore
import Foundation
import Testing

@Suite("Notification retries: exponential backoff, capped, given up after the last attempt")
struct DeliveryRetryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_794_824_400)

    @Test("attempt n failing is retried base × 2^(n-1) later, capped; the last attempt gives up")
    func schedule() {
        let policy = DeliveryRetryPolicy(base: 30, cap: 3_600, maxAttempts: 10)
        let delays = (1...9).map { attempt -> TimeInterval in
            guard case .retry(let at) = policy.afterFailure(attempt: attempt, now: now) else { return -1 }
            return at.timeIntervalSince(now)
        }
        #expect(delays == [30, 60, 120, 240, 480, 960, 1_920, 3_600, 3_600])
        #expect(policy.afterFailure(attempt: 10, now: now) == .giveUp)
        #expect(policy.afterFailure(attempt: 11, now: now) == .giveUp)
        // A huge attempt count cannot overflow into a past or infinite date.
        let wide = DeliveryRetryPolicy(base: 1, cap: 60, maxAttempts: 100)
        #expect(wide.afterFailure(attempt: 99, now: now) == .retry(at: now.addingTimeInterval(60)))
        #expect(DeliveryRetryPolicy(maxAttempts: 1).afterFailure(attempt: 1, now: now) == .giveUp)
    }

    @Test("unusable settings are named by their configuration key")
    func problems() {
        #expect(DeliveryRetryPolicy().problem(prefix: "n") == nil)
        #expect(DeliveryRetryPolicy(base: 0).problem(prefix: "n")?.contains("n.retryBaseSeconds") == true)
        #expect(DeliveryRetryPolicy(base: 60, cap: 30).problem(prefix: "n")?.contains("n.retryCapSeconds") == true)
        #expect(DeliveryRetryPolicy(maxAttempts: 0).problem(prefix: "n")?.contains("n.maxAttempts") == true)
    }
}
