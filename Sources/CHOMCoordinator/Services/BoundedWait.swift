import NIOCore
import Synchronization

/// Waits for a database driver's future, but never past a deadline nor past the caller's
/// cancellation.
///
/// postgres-nio 1.33.2 can leave the futures of a connection that PostgreSQL ended (or that
/// closed while a query ran) unfulfilled for good: its close, its `closeFuture`, a query on it.
/// `EventLoopFuture.get()` does not answer cancellation, so awaiting one of those held whatever
/// awaited it (a task group, a service's graceful shutdown, a coordinator's stop) forever: seen
/// as tests that never ended after a leader's lock session was terminated or closed. Here the
/// wait ends at the first of: the future completes, the deadline passes, the task is
/// cancelled. The future itself is left to the driver; no task is left behind.
enum BoundedWait {
    enum Outcome<Value: Sendable>: Sendable {
        case completed(Result<Value, any Error>)
        case timedOut
        case cancelled
    }

    /// `timeout` nil: no deadline, only cancellation. `cancellable` false: the caller's
    /// cancellation does not end the wait (a close that must be given its time), only the deadline.
    static func outcome<Value: Sendable>(
        of future: EventLoopFuture<Value>, within timeout: Duration?, cancellable: Bool = true
    ) async -> Outcome<Value> {
        let race = Race<Value>()
        future.whenComplete { race.finish(.completed($0)) }
        let timer = timeout.map { timeout in
            future.eventLoop.scheduleTask(in: TimeAmount(timeout)) { race.finish(.timedOut) }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { race.wait(with: $0) }
        } onCancel: {
            if cancellable { race.finish(.cancelled) }
        }
    }

    /// The future's value; a timeout or a cancellation is thrown as `BoundedWaitError`.
    static func value<Value: Sendable>(of future: EventLoopFuture<Value>, within timeout: Duration?) async throws -> Value {
        switch await outcome(of: future, within: timeout) {
        case .completed(let result): return try result.get()
        case .timedOut: throw BoundedWaitError.timedOut(timeout ?? .zero)
        case .cancelled: throw CancellationError()
        }
    }

    /// The first outcome wins; the waiter is resumed exactly once, whenever it arrives.
    private final class Race<Value: Sendable>: Sendable {
        private enum State {
            case idle
            case waiting(CheckedContinuation<Outcome<Value>, Never>)
            case decided(Outcome<Value>)
            case done
        }

        private let state = Mutex<State>(.idle)

        func wait(with continuation: CheckedContinuation<Outcome<Value>, Never>) {
            let decided = state.withLock { state -> Outcome<Value>? in
                switch state {
                case .idle:
                    state = .waiting(continuation)
                    return nil
                case .decided(let outcome):
                    state = .done
                    return outcome
                case .waiting, .done:
                    preconditionFailure("a bounded wait is awaited once")
                }
            }
            if let decided { continuation.resume(returning: decided) }
        }

        func finish(_ outcome: Outcome<Value>) {
            let waiter = state.withLock { state -> CheckedContinuation<Outcome<Value>, Never>? in
                switch state {
                case .idle:
                    state = .decided(outcome)
                    return nil
                case .waiting(let continuation):
                    state = .done
                    return continuation
                case .decided, .done:
                    return nil
                }
            }
            waiter?.resume(returning: outcome)
        }
    }
}

struct BoundedWaitError: Error, CustomStringConvertible {
    let timeout: Duration

    static func timedOut(_ timeout: Duration) -> BoundedWaitError { BoundedWaitError(timeout: timeout) }

    var description: String { "no answer within \(timeout)" }
}

/// Runs an async operation under a deadline: its value, or nil when `timeout` passed first (the
/// operation is then cancelled). For network exchanges whose every step must end in bounded time
/// (an SMTP conversation, a Stripe request with its body).
enum Deadline {
    static func value<Value: Sendable>(
        within timeout: Duration, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value? {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
