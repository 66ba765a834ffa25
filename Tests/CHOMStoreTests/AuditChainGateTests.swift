import CHOMStore
import Foundation
import Synchronization
import Testing

/// The audit chain's group commit: concurrent writers share chaining runs, none returns before a
/// run that started after its commit has finished, and a failing chain never holds a writer.
@Suite("AuditChainGate: one chaining run at a time, every writer covered by a run that began after it")
struct AuditChainGateTests {
    /// The log as the gate's runs see it: entries committed, entries a run has chained, runs.
    final class Log: Sendable {
        let committed = Atomic<Int>(0)
        let chained = Atomic<Int>(0)
        let runs = Atomic<Int>(0)
        let concurrent = Atomic<Int>(0)
        let overlapped = Atomic<Bool>(false)
        let inFirstRun = Atomic<Bool>(false)

        /// A run: takes everything committed when it starts; `fails` runs chain nothing.
        func run(fails: Bool = false, hold: () async -> Void = {}) async -> Bool {
            if concurrent.add(1, ordering: .sequentiallyConsistent).newValue > 1 {
                overlapped.store(true, ordering: .sequentiallyConsistent)
            }
            let upTo = committed.load(ordering: .sequentiallyConsistent)
            await hold()
            if !fails { _ = chained.max(upTo, ordering: .sequentiallyConsistent) }
            _ = runs.add(1, ordering: .sequentiallyConsistent)
            _ = concurrent.subtract(1, ordering: .sequentiallyConsistent)
            return !fails
        }

        func commit() -> Int { committed.add(1, ordering: .sequentiallyConsistent).newValue }
        var runCount: Int { runs.load(ordering: .sequentiallyConsistent) }
        var chainedThrough: Int { chained.load(ordering: .sequentiallyConsistent) }
    }

    /// Polls `condition` for up to 30 s.
    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// One writer's run is held until `others` writers wait on the gate (they committed after it
    /// began); `failing` names runs (1-based) that fail. Returns when every writer has returned.
    func contend(_ gate: AuditChainGate, _ log: Log, others: Int, failing: Set<Int> = []) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            func writer(_ index: Int) {
                group.addTask {
                    let mine = log.commit()
                    await gate.chain {
                        let number = log.runCount + 1
                        return await log.run(fails: failing.contains(number)) {
                            guard number == 1 else { return }
                            log.inFirstRun.store(true, ordering: .sequentiallyConsistent)
                            try? await Self.until { gate.waitingCount == others }
                        }
                    }
                    // A single failed run is retried: every writer is chained when it returns.
                    let chained = log.chainedThrough
                    #expect(chained >= mine, "writer \(index) returned before its entry was chained")
                }
            }
            writer(0)
            try await Self.until { log.inFirstRun.load(ordering: .sequentiallyConsistent) }
            for index in 1...others { writer(index) }
            try await group.waitForAll()
        }
    }

    @Test("100 writers committing while the first run is held: two runs in all, and each writer's entry is chained when it returns")
    func coalesces() async throws {
        let gate = AuditChainGate()
        let log = Log()
        try await contend(gate, log, others: 99)
        let runs = log.runCount
        #expect(runs == 2, "the first writer's run, then one run for the 99 that came during it")
        let overlapped = log.overlapped.load(ordering: .sequentiallyConsistent)
        #expect(!overlapped, "never two runs at once")
        #expect(gate.waitingCount == 0)

        // Idle again: the next writer runs at once, alone.
        let mine = log.commit()
        await gate.chain { await log.run() }
        let (after, chained) = (log.runCount, log.chainedThrough)
        #expect(after == 3 && chained == mine)
    }

    @Test("a failed run is tried once more by the writers it covered, in one shared run")
    func retriesOnce() async throws {
        let gate = AuditChainGate()
        let log = Log()
        // Run 2 (for the 99 writers) fails: they try once more, together.
        try await contend(gate, log, others: 99, failing: [2])
        let runs = log.runCount
        // Retries that arrive while the first retry runs need one more run.
        #expect(runs >= 3, "the first writer's run, the failed one, and the retries")
        let chained = log.chainedThrough
        #expect(chained == 100, "every entry chained by the retry")
        #expect(gate.waitingCount == 0)
    }

    @Test("a chain that keeps failing never holds a writer: each returns after two tries")
    func failingChainReleasesWriters() async throws {
        let gate = AuditChainGate()
        let log = Log()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    _ = log.commit()
                    await gate.chain { await log.run(fails: true) }
                }
            }
            try await group.waitForAll()
        }
        let (runs, chained) = (log.runCount, log.chainedThrough)
        #expect(runs >= 2 && runs <= 40 && chained == 0)
        #expect(gate.waitingCount == 0)
        let overlapped = log.overlapped.load(ordering: .sequentiallyConsistent)
        #expect(!overlapped)
    }

    @Test("a run that never finishes (a query lost in a PostgreSQL restart) holds no writer longer than the gate's patience: a waiter leads a new run for everyone, and the stuck run's end changes nothing")
    func stuckRunIsAbandoned() async throws {
        let gate = AuditChainGate(patience: .milliseconds(300))
        let log = Log()
        let release = WakeFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The stuck writer: its run holds until released (long after the others are done).
            group.addTask {
                _ = log.commit()
                await gate.chain {
                    await log.run {
                        log.inFirstRun.store(true, ordering: .sequentiallyConsistent)
                        try? await Self.until { release.isSet }
                    }
                }
            }
            try await Self.until { log.inFirstRun.load(ordering: .sequentiallyConsistent) }
            // Twenty writers commit during the stuck run: none waits for it for good, and each
            // one's entry is chained when it returns.
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { writers in
                for index in 0..<20 {
                    writers.addTask {
                        let mine = log.commit()
                        await gate.chain { await log.run() }
                        let chained = log.chainedThrough
                        #expect(chained >= mine, "writer \(index) returned before its entry was chained")
                    }
                }
                try await writers.waitForAll()
            }
            let waited = start.duration(to: .now)
            #expect(waited < .seconds(10), "the writers waited \(waited) behind a stuck run")
            #expect(gate.abandonedRuns >= 1)
            #expect(gate.waitingCount == 0)
            // The stuck run ends at last: nothing is handed on, and the gate is idle and works.
            release.set()
            try await group.waitForAll()
        }
        #expect(gate.waitingCount == 0)
        let mine = log.commit()
        await gate.chain { await log.run() }
        #expect(log.chainedThrough >= mine)
    }

    @Test("a writer whose wait runs out while the run in progress is young chains on its own")
    func youngRunLetsAWriterChainAlone() async throws {
        // Runs longer than the patience: waits run out all the time, some while the run in progress
        // is young (the writer chains alone), some after (the run is abandoned). Every writer's entry
        // is chained when it returns, and none is left waiting.
        let gate = AuditChainGate(patience: .milliseconds(50))
        let log = Log()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<30 {
                group.addTask {
                    let mine = log.commit()
                    await gate.chain { await log.run { try? await Task.sleep(for: .milliseconds(20)) } }
                    #expect(log.chainedThrough >= mine)
                }
            }
            try await group.waitForAll()
        }
        #expect(gate.waitingCount == 0)
    }
}

extension AuditChainGateTests {
    @Test("a writer whose task is cancelled while a run is stuck returns at once, chained alone, instead of waiting out the patience")
    func cancelledWriterDoesNotWait() async throws {
        let gate = AuditChainGate(patience: .seconds(60))
        let log = Log()
        let release = WakeFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = log.commit()
                await gate.chain {
                    await log.run {
                        log.inFirstRun.store(true, ordering: .sequentiallyConsistent)
                        while !release.isSet { await Task.yield() }
                    }
                }
            }
            try await Self.until { log.inFirstRun.load(ordering: .sequentiallyConsistent) }
            let start = ContinuousClock.now
            let mine = log.commit()
            await withTaskGroup(of: Void.self) { writers in
                writers.addTask { await gate.chain { await log.run() } }
                try? await Self.until { gate.waitingCount == 1 }
                writers.cancelAll()
            }
            let waited = start.duration(to: .now)
            #expect(waited < .seconds(20), "a cancelled writer waited \(waited)")
            #expect(log.chainedThrough >= mine, "it chained alone")
            release.set()
            try await group.waitForAll()
        }
        #expect(gate.waitingCount == 0)
    }
}

/// A flag a test sets once.
final class WakeFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
}
