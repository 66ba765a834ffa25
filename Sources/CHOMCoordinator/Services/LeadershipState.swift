/// Whether this replica leads the fleet, as a value whose events return what to do (the habit of
/// postgres-nio's pool state machine): `LeaderService` performs the actions, this type decides
/// them, and both the lock session and the loops follow from it.
///
/// following ─tick→ acquiring ─lockAcquired→ leading ─lockLost→ following; any ─shutdown→ stopped.
package struct LeadershipState: Sendable, Equatable {
    package enum Phase: Sendable, Equatable {
        case following
        /// A `pg_try_advisory_lock` (and the epoch increment after it) is under way.
        case acquiring
        case leading(epoch: Int64)
        case stopped
    }

    package enum Action: Sendable, Equatable {
        case none
        /// Open the lock session if needed and try the lock; report `lockAcquired` or `lockBusy`.
        case tryLock
        /// Check that the lock session is alive and renew the epoch; report `lockLost` if not.
        case checkLock(epoch: Int64)
        /// Start the leader loops with this epoch (gauge 1, log).
        case startLeading(epoch: Int64)
        /// Stop the leader loops and close the lock session, which releases the lock (gauge 0, log).
        case stopLeading(epoch: Int64)
        /// Close the lock session: a lock taken while this replica no longer wants it.
        case releaseLock
    }

    package private(set) var phase: Phase = .following

    package init() {}

    /// The epoch this replica leads with, nil when it does not lead.
    package var epoch: Int64? {
        if case .leading(let epoch) = phase { return epoch }
        return nil
    }

    /// A timer tick: followers try the lock, the leader checks its session.
    package mutating func tick() -> Action {
        switch phase {
        case .following:
            phase = .acquiring
            return .tryLock
        case .acquiring, .stopped:
            return .none
        case .leading(let epoch):
            return .checkLock(epoch: epoch)
        }
    }

    /// The lock was taken and the epoch incremented to `epoch`.
    package mutating func lockAcquired(epoch: Int64) -> Action {
        switch phase {
        case .acquiring:
            phase = .leading(epoch: epoch)
            return .startLeading(epoch: epoch)
        case .following, .stopped:
            return .releaseLock
        case .leading:
            return .none
        }
    }

    /// Another replica holds the lock, or trying it failed.
    package mutating func lockBusy() -> Action {
        if phase == .acquiring { phase = .following }
        return .none
    }

    /// The lock session died, or another replica's epoch superseded this one.
    package mutating func lockLost() -> Action {
        switch phase {
        case .leading(let epoch):
            phase = .following
            return .stopLeading(epoch: epoch)
        case .acquiring:
            phase = .following
            return .releaseLock
        case .following, .stopped:
            return .none
        }
    }

    /// Graceful shutdown or cancellation: lead no more, and let another replica take over.
    package mutating func shutdown() -> Action {
        let previous = phase
        phase = .stopped
        switch previous {
        case .leading(let epoch): return .stopLeading(epoch: epoch)
        case .acquiring: return .releaseLock
        case .following, .stopped: return .none
        }
    }
}
