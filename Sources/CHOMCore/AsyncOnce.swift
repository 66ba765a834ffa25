import Synchronization

/// A value set once and awaited by any number of tasks (a bound port, for one); `close()` without
/// a value wakes them with nil. No polling: waiters are resumed by `set` or `close`.
package final class AsyncOnce<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var closed = false
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The value, if set yet.
    package var current: Value? { state.withLock { $0.value } }

    /// Sets the value (the first one wins) and wakes every waiter with it.
    package func set(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard !state.closed, state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// No value will come (if none came yet): waiters, present and future, get nil.
    package func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The value once set; nil when closed without one, or when the waiting task is cancelled.
    package func value() async -> Value? {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let ready: Value?? = state.withLock { state in
                    if let value = state.value { return .some(value) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
