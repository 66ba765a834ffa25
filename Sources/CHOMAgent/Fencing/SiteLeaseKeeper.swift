import AsyncAlgorithms
package import CHOMCore
package import Foundation
package import Logging
import ServiceLifecycle
import Synchronization

/// Carries out ``SiteLease``: the session reports each heartbeat answer, and a loop (every
/// `tick`, and at once after an answer) fences or unfences the sites through ``SiteFence`` when
/// the lease says so. The last answer is kept in `<state>/lease.json` for the next run.
package final class SiteLeaseKeeper: Service, Sendable {
    private struct Inner {
        var lease: SiteLease
        var persisted: LeaseRecord?
    }

    package let fence: SiteFence
    private let recordPath: String
    private let state: Mutex<Inner>
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let tick: Duration
    private let metrics: AgentMetrics?
    private let clock: any WallClock
    private let logger: Logger

    /// Reads the record a previous run kept and the fence as it is on disk.
    package init(
        fence: SiteFence, stateDirectory: URL, tick: Duration = .milliseconds(500), metrics: AgentMetrics? = nil,
        clock: any WallClock, logger: Logger
    ) {
        self.fence = fence
        recordPath = stateDirectory.appendingPathComponent("lease.json").path
        self.tick = tick
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        let record = Self.readRecord(recordPath, logger: logger)
        let fenced = (try? fence.isFenced()) ?? false
        state = Mutex(Inner(
            lease: SiteLease(record: record, fenced: fenced ?? false, now: .now, wallNow: clock.now()), persisted: record))
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics?.setFenced(fenced ?? false)
    }

    /// The lease as it stands.
    package var lease: SiteLease { state.withLock { $0.lease } }

    /// A heartbeat answer arrived.
    package func answered(leaseSeconds: Int) {
        let now = ContinuousClock.now
        let wallNow = clock.now()
        let record: LeaseRecord? = state.withLock { inner in
            inner.lease.answered(leaseSeconds: leaseSeconds, at: now)
            // Written when the lease changes, and often enough that a restart loses little of it.
            let refresh = Double(max(1, leaseSeconds)) / 4
            if let kept = inner.persisted, kept.leaseSeconds == leaseSeconds,
                wallNow.timeIntervalSince(kept.renewedAt) < refresh, wallNow >= kept.renewedAt
            {
                return nil
            }
            let record = LeaseRecord(leaseSeconds: leaseSeconds, renewedAt: wallNow)
            inner.persisted = record
            return record
        }
        if let record { persist(record) }
        wake.yield()
    }

    /// Applies the lease until a graceful shutdown or cancellation (the agent's group stops it
    /// after the session, so the fence keeps up with the stream's last answers).
    package func run() async {
        let ticks = AsyncTimerSequence(interval: tick, clock: .continuous).map { _ in () }
        for await _ in merge(ticks, wakes).cancelOnGracefulShutdown() {
            await applyDue()
        }
    }

    /// One step of the loop: fences or unfences when the lease says so (for tests, too).
    package func applyDue() async {
        let now = ContinuousClock.now
        let (action, remaining) = state.withLock { ($0.lease.due(at: now), $0.lease.remaining(at: now)) }
        metrics?.setLeaseRemaining(remaining)
        guard let action else { return }
        do {
            try await fence.set(fenced: action == .fence)
        } catch {
            logger.error(
                action == .fence ? "the site fence could not be put up" : "the site fence could not be lifted",
                metadata: [LogKey.error: "\(error)"])
            return
        }
        state.withLock { $0.lease.carriedOut(action) }
        metrics?.setFenced(action == .fence)
        switch action {
        case .fence:
            logger.warning("site lease ran out: every site answers 503 until the coordinator answers again")
        case .unfence:
            logger.notice("site lease renewed: sites are served again")
        }
    }

    private func persist(_ record: LeaseRecord) {
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .millisecondsSince1970
            try AtomicFile.write(String(decoding: try encoder.encode(record), as: UTF8.self), to: recordPath, mode: 0o600)  // not a tenant path: the agent's state directory
        } catch {
            logger.error("the site lease could not be recorded", metadata: [LogKey.error: "\(error)"])
        }
    }

    private static func readRecord(_ path: String, logger: Logger) -> LeaseRecord? {
        guard let text = try? AtomicFile.read(path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        guard let record = try? decoder.decode(LeaseRecord.self, from: Data(text.utf8)) else {
            // An unreadable record is treated as a lease that ran out: fence until an answer.
            logger.warning("the site lease record is unreadable; fencing until the coordinator answers")
            return LeaseRecord(leaseSeconds: 1, renewedAt: .distantPast)
        }
        return record
    }
}
