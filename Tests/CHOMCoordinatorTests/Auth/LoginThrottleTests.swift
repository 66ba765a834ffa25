import CHOMCoordinator
import Foundation
import Testing

@Suite("Login throttle")
struct LoginThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("an account gets 5 attempts and an address 20 per 15 minutes, then a Retry-After", arguments: [
        (LoginThrottle.Key.account("alice"), 5), (.address("192.0.2.7"), 20),
    ])
    func limits(key: LoginThrottle.Key, allowed: Int) {
        var throttle = LoginThrottle()
        for index in 0..<allowed {
            #expect(throttle.attempt(key: key, now: start.addingTimeInterval(Double(index))) == .allowed)
        }
        let now = start.addingTimeInterval(100)
        #expect(throttle.attempt(key: key, now: now) == .limited(retryAfter: 800))
        #expect(throttle.attempt(key: key, now: now).retryAfterSeconds == 800)
        // Other keys are untouched.
        #expect(throttle.attempt(key: .account("bob"), now: now) == .allowed)
        #expect(throttle.attempt(key: .address("192.0.2.8"), now: now) == .allowed)
    }

    @Test("the window slides: each old attempt frees one slot exactly when it leaves the window")
    func sliding() {
        var throttle = LoginThrottle()
        let key = LoginThrottle.Key.account("alice")
        for index in 0..<5 { _ = throttle.attempt(key: key, now: start.addingTimeInterval(Double(index) * 60)) }
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(899.5)) == .limited(retryAfter: 0.5))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(900)) == .allowed)
        // The slot freed by the first attempt is used; the second frees at 60 + 900.
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(901)) == .limited(retryAfter: 59))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(960)) == .allowed)
    }

    @Test("Retry-After is whole seconds rounded up, never zero", arguments: [
        (0.001, 1), (0.5, 1), (1, 1), (1.2, 2), (799.01, 800), (900, 900),
    ])
    func retryAfterSeconds(wait: TimeInterval, seconds: Int) {
        #expect(LoginThrottle.Decision.limited(retryAfter: wait).retryAfterSeconds == seconds)
        #expect(LoginThrottle.Decision.allowed.retryAfterSeconds == nil)
    }

    @Test("refused attempts are not counted, so a limited key frees up on time")
    func refusedNotCounted() {
        var throttle = LoginThrottle()
        let key = LoginThrottle.Key.account("alice")
        for _ in 0..<5 { _ = throttle.attempt(key: key, now: start) }
        for second in stride(from: 1.0, to: 900, by: 10) {
            #expect(throttle.attempt(key: key, now: start.addingTimeInterval(second)) == .limited(retryAfter: 900 - second))
        }
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(900)) == .allowed)
    }

    @Test("a success starts an account over")
    func accountReset() {
        var throttle = LoginThrottle()
        let key = LoginThrottle.Key.account("alice")
        for _ in 0..<4 { _ = throttle.attempt(key: key, now: start) }
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(1)) == .allowed)
        throttle.succeeded(key: key, attemptedAt: start.addingTimeInterval(1))
        for _ in 0..<5 { #expect(throttle.attempt(key: key, now: start.addingTimeInterval(2)) == .allowed) }
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(2)) == .limited(retryAfter: 900))
    }

    @Test("a success takes back only its own attempt from an address")
    func addressForgetsOne() {
        var throttle = LoginThrottle(addressLimit: .init(attempts: 3, window: 600))
        let key = LoginThrottle.Key.address("198.51.100.1")
        _ = throttle.attempt(key: key, now: start)
        _ = throttle.attempt(key: key, now: start.addingTimeInterval(1))
        _ = throttle.attempt(key: key, now: start.addingTimeInterval(2))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(3)) == .limited(retryAfter: 597))
        throttle.succeeded(key: key, attemptedAt: start.addingTimeInterval(1))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(3)) == .allowed)
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(4)) == .limited(retryAfter: 596))
        // A success for an attempt it never saw changes nothing.
        throttle.succeeded(key: key, attemptedAt: start.addingTimeInterval(99))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(4)) == .limited(retryAfter: 596))
    }

    @Test("a login asks for account and address together: if either is limited, neither is counted")
    func combined() {
        var throttle = LoginThrottle()
        let address = LoginThrottle.Key.address("203.0.113.9")
        for index in 0..<20 {
            let keys = [LoginThrottle.Key.account("user\(index)"), address]
            #expect(throttle.attempt(keys: keys, now: start.addingTimeInterval(Double(index))) == .allowed)
        }
        let alice = LoginThrottle.Key.account("alice")
        #expect(throttle.attempt(keys: [alice, address], now: start.addingTimeInterval(30)) == .limited(retryAfter: 870))
        #expect(throttle.decision(for: alice, now: start.addingTimeInterval(30)) == .allowed)
        // From another address alice still has all five.
        for _ in 0..<5 {
            #expect(throttle.attempt(keys: [alice, .address("203.0.113.10")], now: start.addingTimeInterval(31)) == .allowed)
        }
        // Both limited: the longer wait is given.
        #expect(throttle.attempt(keys: [alice, address], now: start.addingTimeInterval(40)) == .limited(retryAfter: 891))
    }

    @Test("the limits are configurable")
    func configurable() {
        var throttle = LoginThrottle(accountLimit: .init(attempts: 1, window: 10))
        let key = LoginThrottle.Key.account("alice")
        #expect(throttle.attempt(key: key, now: start) == .allowed)
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(4)) == .limited(retryAfter: 6))
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(10)) == .allowed)
    }

    @Test("a clock that went back never asks for more than the window")
    func clockBack() {
        var throttle = LoginThrottle()
        let key = LoginThrottle.Key.account("alice")
        for _ in 0..<5 { _ = throttle.attempt(key: key, now: start) }
        #expect(throttle.attempt(key: key, now: start.addingTimeInterval(-3600)) == .limited(retryAfter: 900))
    }

    @Test("memory is bounded: a flood of keys never holds more than the maximum", arguments: [1, 8, 100])
    func bounded(maximumKeys: Int) {
        var throttle = LoginThrottle(maximumKeys: maximumKeys)
        for index in 0..<1_000 {
            _ = throttle.attempt(key: .address("10.0.\(index / 256).\(index % 256)"), now: start.addingTimeInterval(Double(index)))
            #expect(throttle.keyCount <= maximumKeys)
        }
    }

    @Test("expired logs are dropped first, so live limits survive a flood while there is room")
    func evictsExpiredFirst() {
        var throttle = LoginThrottle(maximumKeys: 8)
        for index in 0..<6 { _ = throttle.attempt(key: .account("old\(index)"), now: start) }
        let victim = LoginThrottle.Key.account("victim")
        let later = start.addingTimeInterval(1000)
        for _ in 0..<5 { _ = throttle.attempt(key: victim, now: later) }
        #expect(throttle.keyCount == 7)
        for index in 0..<7 { _ = throttle.attempt(key: .account("new\(index)"), now: later) }
        #expect(throttle.keyCount == 8)
        #expect(throttle.decision(for: victim, now: later) == .limited(retryAfter: 900))
    }

    @Test("an allowed key that leaves its window is forgotten")
    func forgetsIdleKey() {
        var throttle = LoginThrottle()
        let key = LoginThrottle.Key.account("alice")
        _ = throttle.attempt(key: key, now: start)
        #expect(throttle.keyCount == 1)
        #expect(throttle.decision(for: key, now: start.addingTimeInterval(900)) == .allowed)
        #expect(throttle.keyCount == 0)
    }
}
