package import CHOMCore
package import CHOMProtocol
import CHOMTransport
package import Foundation
package import Logging
import ServiceLifecycle
import Synchronization
import AsyncAlgorithms

/// Billing's meters on the agent (`UsageAccumulator`), kept in `<state>/usage.json` (atomic, 0600)
/// after every tick and acknowledgement, so neither a restart nor a lost stream loses usage or
/// reuses a sequence. The session sends what is pending after hello and after each tick, and
/// forgets what the coordinator acknowledges.
package final class UsageMeter: Sendable {
    private let file: URL
    private let sites: SiteMetrics
    private let records: SiteRecordStore
    private let clock: any WallClock
    private let logger: Logger
    private let state: Mutex<UsageAccumulator>
    /// A longer gap between ticks is downtime (see `UsageAccumulator.tick`).
    private let maxGap: TimeInterval

    /// Samples per report: a backlog goes out in several.
    package static let maxSamplesPerReport = 5_000

    package init(
        stateDirectory: URL, sites: SiteMetrics, records: SiteRecordStore, clock: any WallClock, logger: Logger,
        interval: Duration = .seconds(60)
    ) {
        file = stateDirectory.appendingPathComponent("usage.json")
        maxGap = max(300, 5 * Double(interval.components.seconds))
        self.sites = sites
        self.records = records
        self.clock = clock
        self.logger = logger
        if let data = try? PrivateFile.read(file), let stored = try? JSONDecoder().decode(UsageAccumulator.self, from: data) {
            state = Mutex(stored)
        } else {
            // No state (first start, or lost): sequences start above anything sent before, as the
            // inventory's do, so no earlier sample's key is reused.
            state = Mutex(UsageAccumulator(lastSequence: UInt64(max(0, clock.now().unixMilliseconds)) * 1_000))
        }
    }

    /// Adds what the sites used since the last tick; returns how many samples the hours that ended made.
    @discardableResult
    package func tick() -> Int {
        let now = clock.now()
        let bandwidth = sites.takeBandwidth()
        let known = records.byDomain()
        var seen: [String: UsageAccumulator.Site] = [:]
        for (domain, disk) in sites.diskUsage() {
            seen[domain] = UsageAccumulator.Site(siteID: known[domain]?.siteID, diskBytes: disk)
        }
        return mutate { $0.tick(now: now, sites: seen, bandwidth: bandwidth, maxGap: maxGap).count }
    }

    /// The pending samples as one report (the oldest `maxSamplesPerReport`), nil when none is pending.
    package func report() -> Chom_Agent_V1_AgentMessage? {
        let pending = state.withLock { Array($0.pending.prefix(Self.maxSamplesPerReport)) }
        guard !pending.isEmpty else { return nil }
        var message = Chom_Agent_V1_AgentMessage()
        message.usage.samples = pending.map { sample in
            var proto = Chom_Agent_V1_UsageSample()
            proto.sequence = sample.sequence
            proto.siteID = sample.siteID
            proto.hourStart = Int64(sample.hour.timeIntervalSince1970)
            proto.quantity = sample.quantity
            switch sample.meter {
            case .siteHours: proto.meter = .siteHours
            case .storageByteHours: proto.meter = .storageByteHours
            case .bandwidthBytes: proto.meter = .bandwidthBytes
            case .backupByteHours: proto.meter = .unspecified  // Metered by the coordinator, never here.
            }
            return proto
        }
        return message
    }

    package func acknowledge(_ sequences: [UInt64]) {
        mutate { $0.acknowledge(sequences) }
    }

    package var pendingCount: Int { state.withLock { $0.pending.count } }

    private func mutate<Result>(_ body: (inout UsageAccumulator) -> Result) -> Result {
        state.withLock { accumulator in
            let result = body(&accumulator)
            do {
                try PrivateFile.write(try JSONEncoder().encode(accumulator), to: file)
            } catch {
                logger.error("usage state not saved", metadata: [LogKey.error: "\(error)"])
            }
            return result
        }
    }
}

/// Ticks the usage meter every `interval` (a minute by default) until shutdown.
package struct UsageMeterService: Service {
    let meter: UsageMeter
    let interval: Duration

    package init(meter: UsageMeter, interval: Duration) {
        self.meter = meter
        self.interval = interval
    }

    package func run() async throws {
        meter.tick()
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            meter.tick()
        }
        meter.tick()
    }
}
