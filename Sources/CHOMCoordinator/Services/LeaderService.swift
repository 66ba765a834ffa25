import AsyncAlgorithms
import CHOMCore
import CHOMStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// One replica of the fleet leads: it holds `LeadershipRepository.lockKey` on a session of its
/// own (`LeaderLock`), increments the epoch when it takes the lock, and runs the leader loops only
/// while it leads. Replicas that do not lead try the lock every `pollInterval`. The lead ends at
/// once when the lock session closes, when the session stops answering or holding the lock, or
/// when a write is refused for a stale epoch; the replica then closes the session (releasing the
/// lock if it still held it) and goes back to polling. On graceful shutdown it closes the session,
/// so another replica takes over within its poll interval.
struct LeaderService: Service {
    let store: Store
    let database: PostgresClient.Configuration
    let loops: [LeaderLoop]
    let pollInterval: Duration
    let holder: String
    let leadership: Leadership
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger

    private enum Outcome: Sendable {
        case lost(reason: String)
        case shutdown
    }

    func run() async throws {
        var state = LeadershipState()
        var lock: LeaderLock?
        metrics.set(leaderEpoch: nil)
        // The first try is immediate: a lone replica leads as soon as it starts.
        if await step(&state, &lock) {
            for await _ in AsyncTimerSequence(interval: pollInterval, clock: .continuous).cancelOnGracefulShutdown() {
                guard await step(&state, &lock) else { break }
            }
        }
        if state.shutdown() != .none || lock != nil { await lock?.close() }
    }

    /// One poll: try the lock and, with it, lead until the lead is lost (true: poll again) or the
    /// service stops (false).
    private func step(_ state: inout LeadershipState, _ lock: inout LeaderLock?) async -> Bool {
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return false }
        guard state.tick() == .tryLock else { return true }
        guard let epoch = await tryLead(&lock), let session = lock else {
            _ = state.lockBusy()
            return true
        }
        guard case .startLeading = state.lockAcquired(epoch: epoch) else { return true }
        switch await lead(session, epoch: epoch) {
        case .lost(let reason):
            _ = state.lockLost()
            await stopLeading(session, epoch: epoch, lost: reason)
            lock = nil
            return true
        case .shutdown:
            _ = state.shutdown()
            await stopLeading(session, epoch: epoch, lost: nil)
            lock = nil
            return false
        }
    }

    /// Opens the lock session if needed and tries the lock; with it, records a new epoch.
    private func tryLead(_ lock: inout LeaderLock?) async -> Int64? {
        do {
            let session: LeaderLock
            if let lock {
                session = lock
            } else {
                session = try await LeaderLock.open(database, idleTimeout: Self.idleTimeout(pollInterval), logger: logger)
                lock = session
            }
            guard try await session.tryLock() else { return nil }
        } catch {
            logger.debug("the leader lock could not be tried", metadata: [LogKey.error: "\(error)"])
            await lock?.close()
            lock = nil
            return nil
        }
        do {
            guard let session = lock else { return nil }
            return try await session.acquire(holder: holder, now: clock.now(), within: Self.acquireTimeout)
        } catch {
            // Without a recorded epoch there is no lead: give the lock back by closing the session.
            logger.warning("the leadership epoch could not be recorded", metadata: [LogKey.error: "\(error)"])
            await lock?.close()
            lock = nil
            return nil
        }
    }

    /// Runs the loops until the lead is lost or the service stops.
    private func lead(_ lock: LeaderLock, epoch: Int64) async -> Outcome {
        leadership.set(epoch)
        metrics.set(leaderEpoch: epoch)
        logger.info("this replica leads the fleet", metadata: [LogKey.epoch: "\(epoch)", LogKey.holder: "\(holder)"])
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                await lock.closed()
                return .lost(reason: "the lock session closed")
            }
            group.addTask { await watch(lock, epoch: epoch) }
            group.addTask { await renew(epoch: epoch) }
            group.addTask {
                try? await gracefulShutdown()
                return .shutdown
            }
            for loop in loops {
                group.addTask { await run(loop, epoch: epoch) }
            }
            while let next = await group.next() {
                if let outcome = next {
                    // The lead ends now, before the loops have returned: one in a pool query that
                    // the driver never answers (postgres-nio 1.33.2 after a server restart) must
                    // not keep this replica saying it leads.
                    leadership.set(nil)
                    metrics.set(leaderEpoch: nil)
                    // Then the lock goes, and the children waiting on the session end.
                    await lock.close()
                    group.cancelAll()
                    return outcome
                }
            }
            await lock.close()
            return .shutdown
        }
    }

    /// How long a replica that took the lock waits to record its epoch: the upsert waits for leader
    /// writes in flight, at most `leader.idleTransactionTimeoutSeconds` (30 s) for one whose replica
    /// was cut off in the middle of it.
    static let acquireTimeout: Duration = .seconds(90)

    /// How long the leader waits for its lock session to answer a check before it gives up the lead.
    static func checkTimeout(_ pollInterval: Duration) -> Duration { max(pollInterval * 2, .seconds(1)) }

    /// How long PostgreSQL lets a lock session sit idle before it ends it and frees the lock
    /// (`LeaderLock.open`). A leader that stops hearing from the database gives up at most a poll
    /// interval and a check timeout after its last answered check; PostgreSQL frees the lock a
    /// margin later, so the old leader has stopped before another replica can take the lock.
    /// Defaults (poll 2 s): 2 + 4 + 2 = 8 s, and another replica leads within about 10 s.
    static func idleTimeout(_ pollInterval: Duration) -> Duration {
        pollInterval + checkTimeout(pollInterval) + max(pollInterval, .seconds(1))
    }

    /// Every poll interval, on the lock session and within `checkTimeout`: it must answer, hold
    /// the lock, and the fleet's epoch must still be this one. Nothing here goes through the pool,
    /// whose queries can hang when the database is out of reach.
    private func watch(_ lock: LeaderLock, epoch: Int64) async -> Outcome? {
        let timeout = Self.checkTimeout(pollInterval)
        for await _ in AsyncTimerSequence(interval: pollInterval, clock: .continuous) {
            switch await lock.check(epoch: epoch, within: timeout) {
            case .held: continue
            case .lost(let reason): return Task.isCancelled ? nil : .lost(reason: reason)
            case .superseded(let error): return .lost(reason: error.description)
            }
        }
        return nil
    }

    /// Every poll interval, through the pool: `renewed_at` shows when the leader last wrote. Apart
    /// from `watch`, since the update waits for leader writes in flight (they share-lock the row).
    private func renew(epoch: Int64) async -> Outcome? {
        for await _ in AsyncTimerSequence(interval: pollInterval, clock: .continuous) {
            do {
                try await store.leadership.renew(epoch, now: clock.now())
            } catch let error as LeadershipError {
                return .lost(reason: error.description)
            } catch {
                if Task.isCancelled { return nil }
                logger.warning("the leadership could not be renewed", metadata: [LogKey.error: "\(error)"])
            }
        }
        return nil
    }

    /// One loop: a pass now, then one per tick, until cancelled or refused for its epoch.
    private func run(_ loop: LeaderLoop, epoch: Int64) async -> Outcome? {
        var ticks = AsyncTimerSequence(interval: loop.interval, clock: .continuous).makeAsyncIterator()
        repeat {
            do {
                try await loop.run(epoch)
            } catch let error as LeadershipError {
                return .lost(reason: error.description)
            } catch {
                if Task.isCancelled { return nil }
                logger.warning(
                    "a leader loop pass failed", metadata: [LogKey.loop: "\(loop.name)", LogKey.error: "\(error)"])
            }
        } while await ticks.next() != nil
        return nil
    }

    private func stopLeading(_ lock: LeaderLock, epoch: Int64, lost reason: String?) async {
        await lock.close()
        leadership.set(nil)
        metrics.set(leaderEpoch: nil)
        if let reason {
            logger.warning(
                "this replica lost the fleet leadership",
                metadata: [LogKey.epoch: "\(epoch)", LogKey.holder: "\(holder)", LogKey.error: "\(reason)"])
        } else {
            logger.info("this replica stopped leading the fleet", metadata: [LogKey.epoch: "\(epoch)"])
        }
    }
}
