import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation
import Logging

/// The leader's failure detection pass: every agent's silence through `FailureDetector`, the
/// verdicts it changes stored (conditionally, under the leader's epoch; becoming or leaving
/// offline is audited), counted in the metrics, and the detection delay of each failure observed.
/// Failover acts on the `offline` verdicts (a later step); the scheduler already places nothing
/// on a suspect or offline agent.
struct FailureDetection {
    let store: Store
    let detector: FailureDetector
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger

    init(store: Store, agents: CoordinatorConfiguration.Agents, metrics: CoordinatorMetrics, clock: any WallClock, logger: Logger) {
        self.store = store
        self.detector = FailureDetector(.init(
            heartbeatTTL: agents.heartbeatTTLSeconds, offlineGrace: agents.failureGraceSeconds,
            maxHeartbeatsPerSecond: agents.maxHeartbeatsPerSecond))
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    func pass(epoch: Int64) async throws {
        let agents = try await store.agentHealth()
        let now = clock.now()
        var counts: [String: Int] = [:]
        for agent in agents {
            let current = AgentHealth(rawValue: agent.health) ?? .online
            let silence = max(0, now.timeIntervalSince(agent.lastHeardAt))
            let decision = detector.next(current, .observed(silence: silence, fleetSize: agents.count))
            var health = current
            actions: for action in decision.actions {
                switch action {
                case .record(let from, let to):
                    let changed = try await store.recordAgentHealth(
                        agent.id, from: from.rawValue, to: to.rawValue, silenceSeconds: silence, now: now, epoch: epoch)
                    // Another leader moved it first: its verdict stands, and so do its actions.
                    guard changed else { break actions }
                    health = to
                    metrics.agentHealthChanged(from: from.rawValue, to: to.rawValue)
                case .declareFailed(let delay):
                    metrics.agentFailureDetected(after: delay)
                    logger.warning(
                        "agent declared failed", metadata: [
                            LogKey.agentID: "\(agent.id)", "chom.agent_name": "\(agent.name)",
                            "chom.silence_seconds": "\(Int(delay))",
                        ])
                case .recovered:
                    logger.info("agent heard from again", metadata: [LogKey.agentID: "\(agent.id)", "chom.from": "\(current)"])
                }
            }
            counts[health.rawValue, default: 0] += 1
        }
        metrics.set(agentHealth: counts)
    }
}
