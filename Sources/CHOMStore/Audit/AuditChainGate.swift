import Synchronization

/// One chaining run at a time in this process (group commit for the audit chain).
///
/// Every write chains its staged entries right after its commit. Without the gate, 64 concurrent
/// writes run 64 chaining transactions that queue on the append lock, each holding a pooled
/// connection while it waits, and all but a few find nothing left to chain. With it, a write that
/// commits while a run is under way waits for the next run, which starts after its commit and
/// so takes its entries with everyone else's that waited meanwhile: two runs at most are
/// outstanding, whatever the number of writers.
///
/// Across processes (replicas) the append lock still orders runs; the gate only spares this
/// process's needless ones. A run hands the next one to a waiting writer rather than looping:
/// no write waits on other writers' runs for longer than one run of its own.
package final class AuditChainGate: Sendable {
    private enum Turn {
        /// A run that started after this writer's commit has chained everything staged.
        case done
        /// Such a run failed (the database, or the leading writer's task cancelled).
        case failed
        /// This writer runs next, for itself and whoever waits.
        case lead
    }

    private struct State {
        var running = false
        var waiting: [CheckedContinuation<Turn, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// How many writers wait for a run (for tests).
    package var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `chain` (which must take everything staged when it starts, handle its own errors and
    /// say whether it succeeded) until every staged entry committed before this call is chained: by
    /// this caller's run or by one that started after this call. A writer whose run failed tries
    /// once more (another writer may lead it); after a second failure it returns, its entry
    /// staged and durable for the next write, reader or the leader's housekeeping. A chain that
    /// keeps failing never holds writers.
    package func chain(_ chain: () async -> Bool) async {
        if await once(chain) { return }
        _ = await once(chain)
    }

    private func once(_ chain: () async -> Bool) async -> Bool {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { state -> Bool in
                if state.running {
                    state.waiting.append(continuation)
                    return false
                }
                state.running = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done: return true
        case .failed: return false
        case .lead: break
        }
        // Everyone waiting now committed before this run starts: this run covers them.
        let covered = state.withLock { state in
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        let succeeded = await chain()
        for waiter in covered { waiter.resume(returning: succeeded ? .done : .failed) }
        // Writers that came during the run: the first leads the next run for all of them.
        let next = state.withLock { state -> CheckedContinuation<Turn, Never>? in
            guard !state.waiting.isEmpty else {
                state.running = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: .lead)
        return succeeded
    }
}
