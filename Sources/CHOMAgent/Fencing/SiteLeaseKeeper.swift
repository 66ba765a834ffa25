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
        /// The fence file's mode as last written (or found at start).
        var mode: SiteFence.Mode
        /// The last second the lease tokens were written through (nil: none written by this run).
        var tokensThrough: Int64?
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
        let mode = ((try? fence.mode()) ?? nil) ?? .open
        var record = Self.readRecord(recordPath, logger: logger)
        if record == nil, mode == .leased {
            // A lease was held (the file says so), and its record is lost: it counts as run out.
            logger.warning("the fence file says a lease was held but no lease record is left; fencing until the coordinator answers")
            record = LeaseRecord(leaseSeconds: 1, renewedAt: .distantPast)
        }
        state = Mutex(Inner(
            lease: SiteLease(record: record, fenced: mode == .fenced, now: .now, wallNow: clock.now()), persisted: record,
            mode: mode, tokensThrough: nil))
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics?.setFenced(mode == .fenced)
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

    /// One step of the loop: fences or unfences when the lease says so, and while the lease holds
    /// keeps nginx's lease tokens written ahead through its end (for tests, too).
    package func applyDue() async {
        let now = ContinuousClock.now
        let (action, remaining, fenced, mode) = state.withLock {
            ($0.lease.due(at: now), $0.lease.remaining(at: now), $0.lease.fenced, $0.mode)
        }
        metrics?.setLeaseRemaining(remaining)
        guard let action else {
            if !fenced { await keepTokens(remaining: remaining, mode: mode) }
            return
        }
        do {
            if action == .fence {
                try await fence.set(.fenced)
                state.withLock { $0.mode = .fenced }
                fence.dropTokens()
                state.withLock { $0.tokensThrough = nil }
            } else {
                // The tokens before the mode that reads them.
                if let remaining { try renewTokens(remaining: remaining) }
                let mode: SiteFence.Mode = remaining == nil ? .open : .leased
                try await fence.set(mode)
                state.withLock { $0.mode = mode }
            }
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

    /// While the lease holds: the tokens through its end, and the fence file reading them. With no
    /// lease (failover off): the file open, and no tokens.
    private func keepTokens(remaining: Double?, mode: SiteFence.Mode) async {
        do {
            if let remaining {
                try renewTokens(remaining: remaining)
                if mode != .leased {
                    try await fence.set(.leased)
                    state.withLock { $0.mode = .leased }
                }
            } else if mode == .leased {
                try await fence.set(.open)
                state.withLock { $0.mode = .open }
                fence.dropTokens()
                state.withLock { $0.tokensThrough = nil }
            }
        } catch {
            logger.error("the site lease tokens could not be kept", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Writes the tokens through the lease's end when it moved (every answer moves it).
    private func renewTokens(remaining: Double) throws(CHOMError) {
        let now = Date()
        let deadline = now.addingTimeInterval(remaining)
        let through = SiteFence.tokenSeconds(now: now, deadline: deadline)?.upperBound
        if let through, state.withLock({ $0.tokensThrough }) == through { return }
        try fence.renewTokens(until: deadline, now: now)
        state.withLock { $0.tokensThrough = through }
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
