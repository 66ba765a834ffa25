import Synchronization

/// Shared between the session's loops: whether a shutdown (or, in tests, a dropped connection)
/// was asked for, and whether a task is running (both let it finish first).
package final class SessionControl: Sendable {
    private struct State {
        var shuttingDown = false
        var busy = false
        /// How many times a connection drop was asked for.
        var drops: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Asks the session to stop: no new task starts, the running one finishes, the stream closes.
    package func beginShutdown() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.shuttingDown = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Asks the current connection to close (the session then reconnects). For tests.
    package func dropConnection() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.drops += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The number of drops asked for so far.
    package var drops: UInt64 { state.withLock { $0.drops } }

    /// Returns once a shutdown was asked for, or when the calling task is cancelled.
    package func waitForShutdown() async {
        await wait { $0.shuttingDown }
    }

    /// Returns once a shutdown or a drop after `seen` drops was asked for, or on cancellation.
    package func waitForShutdownOrDrop(after seen: UInt64) async {
        await wait { $0.shuttingDown || $0.drops > seen }
    }

    /// Returns once `condition` holds (checked under the lock, so no request is missed between
    /// the check and the wait), or when the calling task is cancelled.
    private func wait(until condition: (State) -> Bool) async {
        while !Task.isCancelled {
            let id = state.withLock { state -> UInt64 in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if condition(state) || Task.isCancelled { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume()
            }
            if state.withLock({ condition($0) }) { return }
        }
    }

    /// Marks a task as running; false (and nothing marked) when shutting down.
    package func beginWork() -> Bool {
        state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.busy = true
            return true
        }
    }

    package func endWork() {
        state.withLock { $0.busy = false }
    }

    /// Waits until no task is running.
    package func waitUntilIdle() async throws {
        while state.withLock({ $0.busy }) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
