import AsyncAlgorithms
import CHOMCore
import CHOMStore
import Foundation
import Logging
import ServiceLifecycle

/// Refreshes the fleet gauges (agents and tasks by state, this replica's agent streams, audit
/// entries not yet chained) and the alerting gauges read from the database (each agent's verdict,
/// the oldest unfinished task, each scheduled site's backup ages). Every
/// replica runs it, leader or not: the figures are read-only, and each replica's `/metrics` stays
/// complete whichever one Prometheus scrapes.
struct FleetGaugesService: Service {
    let store: Store
    let connections: AgentConnections
    let metrics: CoordinatorMetrics
    let interval: Duration
    let logger: Logger

    func run() async {
        await refresh()
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await refresh()
        }
    }

    private func refresh() async {
        do {
            metrics.set(agents: try await store.agents.countByState())
            metrics.set(tasks: try await store.tasks.countByState())
            metrics.set(streams: await connections.count)
            metrics.set(auditPending: try await store.audit.pendingCount())
            let queries = store.alertGauges, now = Date()
            metrics.set(agentVerdicts: try await queries.agentHealth())
            metrics.set(oldestTaskAges: try await queries.oldestTaskAges(now: now))
            metrics.set(siteBackups: try await queries.siteBackups(now: now))
        } catch {
            logger.warning("the fleet gauges could not be refreshed", metadata: [LogKey.error: "\(error)"])
        }
    }
}
