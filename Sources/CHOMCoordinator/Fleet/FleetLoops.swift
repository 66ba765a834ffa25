import AsyncHTTPClient
import CHOMCore
import CHOMDNS
import CHOMStore
import Foundation
import Logging
import Synchronization

/// The fleet's leader loops: the migration runner (with the drains and failovers) and DNS upkeep. Every write
/// they make checks the leader's epoch in its own transaction.
struct FleetLoops: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration
    let tasks: SiteTaskBuilder
    let connections: AgentConnections
    let dns: SiteDNSUpdater?
    let metrics: CoordinatorMetrics
    let failoverReports = FailoverReports()
    let clock: any WallClock
    let logger: Logger

    /// The DNS updater `dns` configures, or nil with DNS off; throws on unusable settings.
    static func dnsUpdater(store: Store, configuration: CoordinatorConfiguration, logger: Logger) throws -> SiteDNSUpdater? {
        guard let publisher = try configuration.dns.makePublisher(logger: logger) else { return nil }
        return SiteDNSUpdater(store: store, publisher: publisher, logger: logger)
    }

    var loops: [LeaderLoop] {
        var loops = [
            LeaderLoop(name: "fleet.migrations", interval: .milliseconds(Int64(configuration.fleet.tickSeconds * 1000))) {
                [self] epoch in
                try await runner(epoch: epoch).tick()
            }
        ]
        if let dns {
            let prepared = Mutex(false)
            loops.append(
                LeaderLoop(name: "fleet.dns", interval: .milliseconds(Int64(configuration.fleet.dnsUpkeepSeconds * 1000))) {
                    [configuration, clock] _ in
                    if !prepared.withLock({ $0 }) {
                        try await configuration.dns.prepareZones(provider: dns.publisher.provider)
                        prepared.withLock { $0 = true }
                    }
                    try await dns.upkeep(now: clock.now())
                })
        }
        return loops
    }

    func runner(epoch: Int64) -> MigrationRunner {
        MigrationRunner(
            store: store, configuration: configuration, tasks: tasks, connections: connections,
            probe: SiteHealthProbe(client: HTTPClient.shared), dns: dns, metrics: metrics,
            failoverReports: failoverReports, clock: clock, logger: logger,
            guardWrite: { [store] transaction in try await store.leadership.checkEpoch(epoch, in: transaction) })
    }
}
