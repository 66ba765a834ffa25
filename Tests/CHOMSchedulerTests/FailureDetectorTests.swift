import CHOMScheduler
import Testing

@Suite("Failure detector: online → suspect → offline, and back")
struct FailureDetectorTests {
    /// TTL 15 s, grace 30 s: suspect after 15 s of silence, offline after 45 s (fleets up to 750).
    static let detector = FailureDetector(.init(heartbeatTTL: 15, offlineGrace: 30, maxHeartbeatsPerSecond: 50))

    enum Silence: CaseIterable, Sendable {
        case fresh, pastTTL, pastGrace

        var seconds: Double {
            switch self {
            case .fresh: 3
            case .pastTTL: 20
            case .pastGrace: 60
            }
        }
    }

    /// The whole table: every health × every kind of observation.
    static let table: [(AgentHealth, Silence, AgentHealth, [FailureDetector.Action])] = [
        (.online, .fresh, .online, []),
        (.online, .pastTTL, .suspect, [.record(from: .online, to: .suspect)]),
        // Never straight to offline: a leader that just took over sees old heartbeats first.
        (.online, .pastGrace, .suspect, [.record(from: .online, to: .suspect)]),
        (.suspect, .fresh, .online, [.record(from: .suspect, to: .online), .recovered]),
        (.suspect, .pastTTL, .suspect, []),
        (.suspect, .pastGrace, .offline, [.record(from: .suspect, to: .offline), .declareFailed(detectionDelay: 60)]),
        (.offline, .fresh, .online, [.record(from: .offline, to: .online), .recovered]),
        (.offline, .pastTTL, .offline, []),
        (.offline, .pastGrace, .offline, []),
    ]

    @Test("every health × observation does what the table says", arguments: 0..<9)
    func everyPair(row: Int) {
        let (from, silence, to, actions) = Self.table[row]
        let next = Self.detector.next(from, .observed(silence: silence.seconds, fleetSize: 10))
        #expect(next.health == to, "\(from) × \(silence)")
        #expect(next.actions == actions, "\(from) × \(silence)")
    }

    @Test("the table covers every health and every kind of silence once")
    func tableIsComplete() {
        let pairs = Set(Self.table.map { "\($0.0)/\($0.1)" })
        #expect(pairs.count == AgentHealth.allCases.count * Silence.allCases.count)
        #expect(Self.table.count == pairs.count)
    }

    @Test("thresholds are inclusive of the TTL and exclusive past TTL + grace")
    func boundaries() {
        let detector = Self.detector
        #expect(detector.verdict(.observed(silence: 15, fleetSize: 1)) == .online)
        #expect(detector.verdict(.observed(silence: 15.001, fleetSize: 1)) == .suspect)
        #expect(detector.verdict(.observed(silence: 45, fleetSize: 1)) == .suspect)
        #expect(detector.verdict(.observed(silence: 45.001, fleetSize: 1)) == .offline)
    }

    @Test("the TTL grows with the fleet so that heartbeats stay under the rate: 1,000 agents at 50/s give 20 s")
    func ttlScales() {
        let detector = Self.detector
        #expect(detector.ttl(fleetSize: 10) == 15)
        #expect(detector.ttl(fleetSize: 750) == 15)
        #expect(detector.ttl(fleetSize: 1_000) == 20)
        #expect(detector.ttl(fleetSize: 10_000) == 200)
        #expect(detector.offlineAfter(fleetSize: 10_000) == 230)
        // 30 s of silence: suspect in a small fleet, still online in a fleet of 2,000.
        #expect(detector.verdict(.observed(silence: 30, fleetSize: 10)) == .suspect)
        #expect(detector.verdict(.observed(silence: 30, fleetSize: 2_000)) == .online)
        // Nonsense settings do not divide by zero or shrink the TTL.
        let odd = FailureDetector(.init(heartbeatTTL: 5, offlineGrace: -3, maxHeartbeatsPerSecond: 0))
        #expect(odd.ttl(fleetSize: 100) == 5)
        #expect(odd.offlineAfter(fleetSize: 100) == 5)
    }

    /// Observations every `step` seconds of an agent silent for `blip` seconds, then heard again.
    static func walk(blip: Double, step: Double = 1) -> (worst: AgentHealth, failed: Int, end: AgentHealth) {
        var health = AgentHealth.online
        var worst = AgentHealth.online
        var failed = 0
        var time = 0.0
        while time <= blip + step {
            let silence = time <= blip ? time : 0.5
            let next = detector.next(health, .observed(silence: silence, fleetSize: 10))
            health = next.health
            failed += next.actions.filter { if case .declareFailed = $0 { true } else { false } }.count
            if health == .offline || (health == .suspect && worst == .online) { worst = health }
            time += step
        }
        return (worst, failed, health)
    }

    @Test("a blip shorter than TTL + grace makes the agent suspect at most, never failed; a longer one fails it once")
    func blips() {
        let short = Self.walk(blip: 10)
        #expect(short.worst == .online && short.failed == 0 && short.end == .online)
        let medium = Self.walk(blip: 44)
        #expect(medium.worst == .suspect && medium.failed == 0 && medium.end == .online)
        let long = Self.walk(blip: 120)
        #expect(long.worst == .offline && long.failed == 1 && long.end == .online)
    }

    @Test("after a coordinator outage every agent is silent past TTL + grace at once: each still gets the grace from when it became suspect")
    func graceFromSuspicion() {
        let detector = Self.detector
        // First observation after the outage: suspect, however long the silence.
        #expect(detector.next(.online, .observed(silence: 600, fleetSize: 10, suspectFor: 0)).health == .suspect)
        // Suspect for 10 s of the 30 s grace: still suspect, nothing declared.
        let early = detector.next(.suspect, .observed(silence: 610, fleetSize: 10, suspectFor: 10))
        #expect(early.health == .suspect && early.actions.isEmpty)
        // Suspect for the whole grace and still silent: failed.
        let late = detector.next(.suspect, .observed(silence: 630, fleetSize: 10, suspectFor: 30))
        #expect(late.health == .offline)
        #expect(late.actions == [.record(from: .suspect, to: .offline), .declareFailed(detectionDelay: 630)])
        // Heard from during the grace: online, never failed.
        #expect(detector.next(.suspect, .observed(silence: 1, fleetSize: 10, suspectFor: 12)).health == .online)
    }
}
