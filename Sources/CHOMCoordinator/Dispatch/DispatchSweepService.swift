import AsyncAlgorithms
import CHOMCore
import CHOMStore
import Logging
import ServiceLifecycle

/// The safety net under the wakes: every `dispatch.pollIntervalSeconds`, one query lists the queued
/// and sent tasks of the agents whose streams this replica holds, and wakes the streams that have
/// one queued, or one sent that they did not send. A wake lost (a `WakeBus` notification sent while
/// this replica's listener reconnected, a task queued by a replica that died before publishing) is
/// found within one interval, and so is a task another replica sent on a stream of the agent that
/// was already dead (half-open, still registered there) while the agent's live stream is here.
///
/// One query per replica and interval, where each stream used to poll on its own: with a thousand
/// agents and the 2 s default, that was 500 queries a second and a thousand timers, for nothing.
struct DispatchSweepService: Service {
    let store: Store
    let connections: AgentConnections
    let interval: Duration
    let logger: Logger

    func run() async {
        var failing = false
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            do {
                try await sweep()
                if failing { logger.info("the dispatch sweep works again") }
                failing = false
            } catch {
                if !failing {
                    logger.warning(
                        "the dispatch sweep failed; it runs again at the next interval",
                        metadata: [LogKey.error: "\(String(reflecting: error))"])
                }
                failing = true
            }
        }
    }

    /// Wakes the streams of the held agents that have work to deliver; returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        let held = await connections.held
        let tasks = try await store.tasks.undelivered(among: Array(held.keys))
        var woken = Set<AgentID>()
        for (agent, task, queued) in tasks where !woken.contains(agent) {
            guard let connection = held[agent], queued || !connection.sent.contains(task) else { continue }
            connection.wake.signal()
            woken.insert(agent)
        }
        return woken.count
    }
}
