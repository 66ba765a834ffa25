import CHOMCoordinator
import Foundation
import Testing

@Suite("Enrollment throttle (per source address, on a manual clock)")
struct EnrollmentThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let limit = EnrollmentThrottle.Limit(failures: 3, window: 600)

    @Test("after N failures within the window the address is refused until the oldest leaves it; others are not")
    func refusesAfterFailures() {
        var throttle = EnrollmentThrottle(limit: limit)
        for second in 0..<3 {
            #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(Double(second))) == .allowed)
        }
        #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(100))
            == .limited(retryAfter: 500, firstRefusal: true))
        // Only the first refusal of a run is reported (one audit entry, not one per call).
        #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(200))
            == .limited(retryAfter: 400, firstRefusal: false))
        #expect(throttle.attempt(address: "203.0.113.8", now: start.addingTimeInterval(200)) == .allowed)
        // The oldest failure leaves the window at 600 s: one more attempt, then refused again (reported anew).
        #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(599.5))
            == .limited(retryAfter: 0.5, firstRefusal: false))
        #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(600)) == .allowed)
        #expect(throttle.attempt(address: "203.0.113.7", now: start.addingTimeInterval(600.5))
            == .limited(retryAfter: 0.5, firstRefusal: true))
    }

    @Test("a successful enrollment takes its attempt back: only failures count")
    func successesDoNotCount() {
        var throttle = EnrollmentThrottle(limit: limit)
        for second in 0..<10 {
            let now = start.addingTimeInterval(Double(second))
            #expect(throttle.attempt(address: "198.51.100.1", now: now) == .allowed)
            throttle.succeeded(address: "198.51.100.1", attemptedAt: now)
        }
        #expect(throttle.addressCount == 0)
        for second in 10..<13 { _ = throttle.attempt(address: "198.51.100.1", now: start.addingTimeInterval(Double(second))) }
        #expect(throttle.attempt(address: "198.51.100.1", now: start.addingTimeInterval(20)) != .allowed)
    }

    @Test("attempts in flight count at once, so parallel guesses cannot slip past the limit")
    func inFlightCount() {
        var throttle = EnrollmentThrottle(limit: limit)
        let decisions = (0..<10).map { _ in throttle.attempt(address: "192.0.2.1", now: start) }
        #expect(decisions.filter { $0 == .allowed }.count == 3)
    }

    @Test("the table of addresses is bounded: expired entries go first, then the longest idle")
    func bounded() {
        var throttle = EnrollmentThrottle(limit: limit, maximumAddresses: 64)
        for index in 0..<10_000 {
            _ = throttle.attempt(address: "10.0.\(index / 256).\(index % 256)", now: start.addingTimeInterval(Double(index) / 100))
            #expect(throttle.addressCount <= 64)
        }
        // A limited address that keeps failing is not pushed out by a flood of old ones...
        var fresh = EnrollmentThrottle(limit: limit, maximumAddresses: 8)
        for second in 0..<3 { _ = fresh.attempt(address: "192.0.2.99", now: start.addingTimeInterval(Double(700 + second))) }
        for index in 0..<7 { _ = fresh.attempt(address: "10.1.0.\(index)", now: start.addingTimeInterval(Double(index))) }
        // ...when the table is full, the expired (older than the window) entries are dropped first.
        #expect(fresh.attempt(address: "10.2.0.1", now: start.addingTimeInterval(800)) == .allowed)
        #expect(fresh.addressCount == 2)
        #expect(fresh.attempt(address: "192.0.2.99", now: start.addingTimeInterval(801)) != .allowed)
    }

    @Test("the key is the peer's host, without the port", arguments: [
        ("ipv4:203.0.113.7:53211", "203.0.113.7"), ("ipv6:[2001:db8::1]:443", "2001:db8::1"),
        ("unix:/run/chom.sock", "unix:/run/chom.sock"),
    ])
    func sourceAddress(peer: String, address: String) {
        #expect(EnrollmentThrottle.sourceAddress(ofPeer: peer) == address)
    }
}
