import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation
import Logging
import Synchronization

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
    let term = LeaderTerm()

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
        // Silence counts from this leader's first pass at most: a replica that just took over
        // (or a fleet back from a coordinator outage) gives every agent a full TTL and grace.
        let termStart = term.start(epoch: epoch, now: now)
        var decisions: [(agent: AgentHealthRow, current: AgentHealth, silence: Double, next: (health: AgentHealth, actions: [FailureDetector.Action]))] = []
        for agent in agents {
            let current = AgentHealth(rawValue: agent.health) ?? .online
            let silence = max(0, now.timeIntervalSince(max(agent.lastHeardAt, termStart)))
            let suspectFor = current == .suspect ? max(0, now.timeIntervalSince(agent.healthChangedAt ?? now)) : 0
            let next = detector.next(current, .observed(silence: silence, fleetSize: agents.count, suspectFor: suspectFor))
            decisions.append((agent, current, silence, next))
        }
        // A brake: more than half of a fleet of three or more failing at once is likelier the
        // coordinators' own trouble (their network, their clock) than the agents'; none is
        // declared failed on such a pass, and the detector says why.
        let failing = decisions.filter { $0.next.health == .offline && $0.current != .offline }.count
        let braked = agents.count >= 3 && failing * 2 > agents.count
        if braked {
            logger.error(
                "more than half of the fleet fell silent at once; no agent is declared failed on this pass",
                metadata: ["chom.agents": "\(agents.count)", "chom.failing": "\(failing)"])
        }
        var counts: [String: Int] = [:]
        for (agent, current, silence, decision) in decisions {
            var health = current
            if braked, decision.health == .offline, current != .offline {
                counts[health.rawValue, default: 0] += 1
                continue
            }
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

/// When this replica's current lead began (its first pass under an epoch).
final class LeaderTerm: Sendable {
    private let state = Mutex<(epoch: Int64, start: Date)?>(nil)

    func start(epoch: Int64, now: Date) -> Date {
        state.withLock { current in
            if let current, current.epoch == epoch { return current.start }
            current = (epoch, now)
            return now
        }
    }
}
