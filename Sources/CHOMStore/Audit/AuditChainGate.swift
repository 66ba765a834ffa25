import Synchronization

/// One chaining run at a time in this process (group commit for the audit chain), with a bound on
/// how long any writer waits for one.
///
/// Every write chains its staged entries right after its commit. Without the gate, 64 concurrent
/// writes run 64 chaining transactions that queue on the append lock, each holding a pooled
/// connection while it waits, and all but a few find nothing left to chain. With it, a write that
/// commits while a run is under way waits for the next run, which starts after its commit and so
/// takes its entries with everyone else's that waited meanwhile.
///
/// **A run that never finishes.** postgres-nio (1.33.2) can leave a query that was in flight when
/// PostgreSQL restarted unanswered for good. A first version of this gate had no bound: one such
/// run held every later writer of the process, and the replica chaos suite's API replica stopped
/// answering. Now a writer waits at most `patience`: if the run it waits for (or the one covering
/// it) has gone on that long, that run is abandoned and this writer leads a new one for everyone
/// still waiting; the stuck run's end, if it ever comes, changes nothing. A writer whose wait ran
/// out while the run in progress is younger than `patience` chains on its own, as without a gate.
///
/// Across processes (replicas) the append lock still orders runs; the gate only spares this
/// process's needless ones.
package final class AuditChainGate: Sendable {
    private enum Turn {
        /// A run that started after this writer's commit has chained everything staged.
        case done
        /// Such a run failed (the database, or the leading writer's task cancelled).
        case failed
        /// This writer leads run `number`, for itself and whoever waits.
        case lead(UInt64)
        /// The wait ran out and the run in progress is young: chain alone.
        case alone
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        /// The run in progress, if any: its number and when it started.
        var run: (number: UInt64, started: ContinuousClock.Instant)?
        var runs: UInt64 = 0
        var nextWaiter: UInt64 = 0
        /// Writers that committed while the run in progress went on: the next run covers them.
        var waiting: [Waiter] = []
        /// Writers the run in progress covers (they committed before it started).
        var covered: [Waiter] = []
        /// Writers whose wait ran out before they were registered (their two tasks ran out of order).
        var timedOut: Set<UInt64> = []
    }

    private let state = Mutex(State())
    let patience: Duration

    package init(patience: Duration = .seconds(5)) {
        self.patience = patience
    }

    /// How many writers wait for a run, or for the run in progress to finish (for tests).
    package var waitingCount: Int { state.withLock { $0.waiting.count + $0.covered.count } }

    private let abandoned = Atomic<Int>(0)
    /// How many runs were abandoned as stuck (for tests).
    package var abandonedRuns: Int { abandoned.load(ordering: .relaxed) }

    /// Runs `chain` (which must take everything staged when it starts, handle its own errors and
    /// say whether it succeeded) until every staged entry committed before this call is chained: by
    /// this caller's run or by one that started after this call. A writer whose run failed tries
    /// once more (another writer may lead it); after a second failure it returns, its entry
    /// staged and durable for the next write, reader or the leader's housekeeping. A chain that
    /// keeps failing, or hangs, never holds writers for long.
    package func chain(_ chain: () async -> Bool) async {
        if await once(chain) { return }
        _ = await once(chain)
    }

    private func once(_ chain: () async -> Bool) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let turn = await withTaskGroup(of: Turn?.self) { group -> Turn in
            group.addTask { await self.enter(id) }
            group.addTask {
                // A turn given first cancels this, and `runOut` then finds nothing to do. A caller
                // already cancelled gets here at once: it must not wait unbounded either.
                try? await Task.sleep(for: self.patience)
                self.runOut(id)
                return nil
            }
            var turn: Turn = .alone
            while let next = await group.next() {
                if let next {
                    turn = next
                    group.cancelAll()
                }
            }
            return turn
        }
        state.withLock { _ = $0.timedOut.remove(id) }
        let number: UInt64
        switch turn {
        case .done: return true
        case .failed: return false
        case .alone: return await chain()
        case .lead(let given): number = given
        }
        // Everyone waiting now committed before this run starts: this run covers them. Unless the
        // run was abandoned before it began (this writer was held off that long): then another
        // writer leads, and this one chains alone, covering nobody.
        let current = state.withLock { state -> Bool in
            guard state.run?.number == number else { return false }
            state.covered = state.waiting
            state.waiting.removeAll()
            return true
        }
        guard current else { return await chain() }
        let succeeded = await chain()
        // Writers that came during the run: the first leads the next run for all of them. Nothing,
        // if this run was abandoned meanwhile (another writer leads now, with these writers covered).
        let (covered, next) = state.withLock { state -> ([Waiter], (Waiter, UInt64)?) in
            guard state.run?.number == number else { return ([], nil) }
            let covered = state.covered
            state.covered.removeAll()
            guard !state.waiting.isEmpty else {
                state.run = nil
                return (covered, nil)
            }
            let next = state.waiting.removeFirst()
            return (covered, (next, start(&state)))
        }
        for waiter in covered { waiter.continuation.resume(returning: succeeded ? .done : .failed) }
        if let (waiter, run) = next { waiter.continuation.resume(returning: .lead(run)) }
        return succeeded
    }

    /// Leads at once when no run is in progress; otherwise waits for a turn.
    private func enter(_ id: UInt64) async -> Turn {
        await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let turn = state.withLock { state -> Turn? in
                if state.timedOut.remove(id) != nil, state.run != nil {
                    // Its wait ran out before it got here: what `runOut` would have done.
                    return outOfPatience(&state)
                }
                if state.run != nil {
                    state.waiting.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                return .lead(start(&state))
            }
            if let turn { continuation.resume(returning: turn) }
        }
    }

    /// Writer `id` has waited `patience`. If it still waits: out of patience. If it is not
    /// registered yet, `enter` acts for it.
    private func runOut(_ id: UInt64) {
        let (waiter, turn) = state.withLock { state -> (Waiter?, Turn) in
            let waiter: Waiter
            if let index = state.waiting.firstIndex(where: { $0.id == id }) {
                waiter = state.waiting.remove(at: index)
            } else if let index = state.covered.firstIndex(where: { $0.id == id }) {
                waiter = state.covered.remove(at: index)
            } else {
                // Its turn was given meanwhile (nothing to do), or it is not registered yet.
                state.timedOut.insert(id)
                return (nil, .alone)
            }
            return (waiter, outOfPatience(&state))
        }
        waiter?.continuation.resume(returning: turn)
    }

    /// A run in progress for `patience` or longer is abandoned, and the writer out of patience leads
    /// a new one, covering everyone still waiting or covered by the abandoned run (they all
    /// committed before it starts). A younger run is left alone and the writer chains alone.
    private func outOfPatience(_ state: inout State) -> Turn {
        guard let run = state.run, run.started.duration(to: .now) >= patience else { return .alone }
        state.waiting = state.covered + state.waiting
        state.covered.removeAll()
        _ = abandoned.add(1, ordering: .relaxed)
        return .lead(start(&state))
    }

    /// Starts the next run; its number.
    private func start(_ state: inout State) -> UInt64 {
        state.runs += 1
        state.run = (state.runs, .now)
        return state.runs
    }
}
