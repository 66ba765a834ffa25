/// Work that must run once per fleet, however many replicas run: the leader runs each loop once
/// when it takes the lead, then every `interval`, and stops it the moment it loses the lead.
/// `run` receives the leadership epoch, which every write it makes must check in its own
/// transaction (`Store.leaderWrite`, `Store.leaderTransaction`, `LeadershipRepository.checkEpoch`).
/// A pass that throws is logged and tried again at the next tick; one refused with
/// `LeadershipError` ends the leadership at once.
package struct LeaderLoop: Sendable {
    package var name: String
    package var interval: Duration
    package var run: @Sendable (_ epoch: Int64) async throws -> Void

    package init(name: String, interval: Duration, run: @escaping @Sendable (_ epoch: Int64) async throws -> Void) {
        self.name = name
        self.interval = interval
        self.run = run
    }
}
