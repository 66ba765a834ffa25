package import Foundation

/// The last lease answer a run of the agent kept on disk (`<state>/lease.json`), so that a
/// restarted agent knows how much of its lease is left and a lease that ran out while it was
/// down fences at once.
package struct LeaseRecord: Sendable, Codable, Equatable {
    /// 0: no lease.
    package var leaseSeconds: Int
    /// When the answer arrived, by the wall clock (the only clock that survives a restart).
    package var renewedAt: Date

    package init(leaseSeconds: Int, renewedAt: Date) {
        self.leaseSeconds = leaseSeconds
        self.renewedAt = renewedAt
    }
}

/// The agent's side of fencing, as a value: every heartbeat answer renews the site lease for the
/// seconds it names; once the lease has run out the sites must be fenced (503) until an answer
/// comes. The rule that makes this safe is in Protocol/README.md (`L·(1 + ρ) + d < T + G`).
///
/// Level-triggered: ``due(at:)`` compares what the lease wants with what the fence on disk is,
/// and the I/O reports back with ``carriedOut(_:)``, so a fence that failed to apply is tried again.
package struct SiteLease: Sendable, Equatable {
    package enum Term: Sendable, Equatable {
        /// No lease: never told of one, or told 0 (failover is off, nothing else serves the sites).
        case unlimited
        /// Held until this instant of the monotonic clock.
        case until(ContinuousClock.Instant)
    }

    package enum Action: Sendable, Equatable {
        case fence
        case unfence
    }

    package private(set) var term: Term
    /// The fence as it is on disk (the last action carried out).
    package private(set) var fenced: Bool

    /// At start: `record` is what a previous run kept (nil: none), `fenced` what the fence file
    /// says. A fence left on disk holds until an answer lifts it, whatever the record says (it went
    /// up because the lease ran out); a lease that ran out while the agent was down fences at once.
    package init(record: LeaseRecord?, fenced: Bool, now: ContinuousClock.Instant, wallNow: Date) {
        self.fenced = fenced
        if fenced {
            term = .until(now)
            return
        }
        guard let record, record.leaseSeconds > 0 else {
            term = .unlimited
            return
        }
        // A wall clock behind the record (it went back) cannot tell how long the agent was down:
        // the lease counts as run out.
        let left = wallNow < record.renewedAt
            ? 0 : max(0, record.renewedAt.timeIntervalSince(wallNow) + Double(record.leaseSeconds))
        term = .until(now + .milliseconds(Int64(left * 1000)))
    }

    /// A heartbeat answer arrived at `now`, naming `leaseSeconds` (0: no lease).
    package mutating func answered(leaseSeconds: Int, at now: ContinuousClock.Instant) {
        term = leaseSeconds > 0 ? .until(now + .seconds(leaseSeconds)) : .unlimited
    }

    /// Whether the lease is held at `now`.
    package func holds(at now: ContinuousClock.Instant) -> Bool {
        switch term {
        case .unlimited: true
        case .until(let end): now < end
        }
    }

    /// Seconds left at `now`; nil with no lease.
    package func remaining(at now: ContinuousClock.Instant) -> Double? {
        guard case .until(let end) = term else { return nil }
        let left = now.duration(to: end)
        return Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
    }

    /// What the fence must do now, if anything.
    package func due(at now: ContinuousClock.Instant) -> Action? {
        let wanted = !holds(at: now)
        if wanted, !fenced { return .fence }
        if !wanted, fenced { return .unfence }
        return nil
    }

    /// The fence now is as `action` left it.
    package mutating func carriedOut(_ action: Action) {
        fenced = action == .fence
    }
}
