import CHOMStore
import Synchronization
import Testing

/// The audit chain's group commit: concurrent writers share chaining runs, and none returns
/// before a run that started after its commit has finished.
@Suite("AuditChainGate: one chaining run at a time, every writer covered by a run that began after it")
struct AuditChainGateTests {
    /// The log as the gate's runs see it: entries committed, entries a run has chained, runs.
    final class Log: Sendable {
        let committed = Atomic<Int>(0)
        let chained = Atomic<Int>(0)
        let runs = Atomic<Int>(0)
        let concurrent = Atomic<Int>(0)
        let overlapped = Atomic<Bool>(false)

        /// A run: takes everything committed when it starts.
        func run(hold: () async -> Void) async {
            if concurrent.add(1, ordering: .sequentiallyConsistent).newValue > 1 {
                overlapped.store(true, ordering: .sequentiallyConsistent)
            }
            let upTo = committed.load(ordering: .sequentiallyConsistent)
            await hold()
            _ = chained.max(upTo, ordering: .sequentiallyConsistent)
            _ = runs.add(1, ordering: .sequentiallyConsistent)
            _ = concurrent.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    @Test("100 writers committing while the first run is held: two runs in all, and each writer's entry is chained when it returns")
    func coalesces() async throws {
        let gate = AuditChainGate()
        let log = Log()
        let writers = 100
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    let mine = log.committed.add(1, ordering: .sequentiallyConsistent).newValue
                    await gate.chain {
                        await log.run {
                            // The first run holds until every other writer waits: they committed
                            // after it began, so it must not count as theirs.
                            guard log.runs.load(ordering: .sequentiallyConsistent) == 0 else { return }
                            let deadline = ContinuousClock.now + .seconds(30)
                            while gate.waitingCount < writers - 1, ContinuousClock.now < deadline {
                                try? await Task.sleep(for: .milliseconds(1))
                            }
                        }
                    }
                    let chained = log.chained.load(ordering: .sequentiallyConsistent)
                    #expect(chained >= mine, "writer \(index) returned before its entry was chained")
                }
            }
            try await group.waitForAll()
        }
        let runs = log.runs.load(ordering: .sequentiallyConsistent)
        #expect(runs == 2, "the first writer's run, then one run for the 99 that came during it")
        let overlapped = log.overlapped.load(ordering: .sequentiallyConsistent)
        #expect(!overlapped, "never two runs at once")
        #expect(gate.waitingCount == 0)

        // Idle again: the next writer runs at once, alone.
        let mine = log.committed.add(1, ordering: .sequentiallyConsistent).newValue
        await gate.chain { await log.run {} }
        let (after, chained) = (log.runs.load(ordering: .sequentiallyConsistent), log.chained.load(ordering: .sequentiallyConsistent))
        #expect(after == 3 && chained == mine)
    }
}
