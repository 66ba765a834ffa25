@testable import CHOMCoordinator
import NIOCore
import NIOPosix
import Testing

/// A driver future that is never fulfilled must not hold its waiter: the wait ends at the
/// deadline or on cancellation, and a future that completes gives its value or error.
@Suite("Bounded waits on driver futures", .timeLimit(.minutes(1)))
struct BoundedWaitTests {
    private struct Refused: Error, Equatable {}

    private let loop = MultiThreadedEventLoopGroup.singleton.any()

    @Test("a future that completes gives its value, or its error")
    func completed() async throws {
        let promise = loop.makePromise(of: Int.self)
        loop.execute { promise.succeed(42) }
        #expect(try await BoundedWait.value(of: promise.futureResult, within: .seconds(30)) == 42)
        let failing = loop.makePromise(of: Int.self)
        failing.fail(Refused())
        await #expect(throws: Refused.self) { try await BoundedWait.value(of: failing.futureResult, within: .seconds(30)) }
    }

    @Test("a future never fulfilled ends the wait at the deadline")
    func deadline() async throws {
        let promise = loop.makePromise(of: Int.self)
        defer { promise.succeed(0) }
        let started = ContinuousClock.now
        guard case .timedOut = await BoundedWait.outcome(of: promise.futureResult, within: .milliseconds(100)) else {
            Issue.record("the wait did not time out")
            return
        }
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        await #expect(throws: BoundedWaitError.self) {
            try await BoundedWait.value(of: promise.futureResult, within: .milliseconds(50))
        }
    }

    @Test("a future never fulfilled ends the wait when the waiter is cancelled, with or without a deadline")
    func cancellation() async throws {
        let promise = loop.makePromise(of: Int.self)
        defer { promise.succeed(0) }
        for timeout in [nil, Duration.seconds(3600)] {
            let waiter = Task { await BoundedWait.outcome(of: promise.futureResult, within: timeout) }
            waiter.cancel()
            guard case .cancelled = await waiter.value else {
                Issue.record("the wait did not end on cancellation (timeout \(String(describing: timeout)))")
                continue
            }
        }
        // Cancelled before the wait starts: it ends at once.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await BoundedWait.outcome(of: promise.futureResult, within: nil)
        }
        guard case .cancelled = await early.value else {
            Issue.record("a wait started cancelled did not end")
            return
        }
    }

    @Test("a wait that is not cancellable (a close given its time) ends at its deadline or completion, not on cancellation")
    func notCancellable() async throws {
        let promise = loop.makePromise(of: Int.self)
        let waiter = Task { await BoundedWait.outcome(of: promise.futureResult, within: .milliseconds(200), cancellable: false) }
        waiter.cancel()
        guard case .timedOut = await waiter.value else {
            Issue.record("a wait that is not cancellable ended otherwise than at its deadline")
            return
        }
        let completing = loop.makePromise(of: Int.self)
        let second = Task { await BoundedWait.outcome(of: completing.futureResult, within: .seconds(30), cancellable: false) }
        second.cancel()
        loop.scheduleTask(in: .milliseconds(50)) { completing.succeed(5) }
        guard case .completed(.success(5)) = await second.value else {
            Issue.record("a wait that is not cancellable did not give the future's value")
            return
        }
        promise.succeed(0)
    }

    @Test("the first outcome stands: a completion after the deadline changes nothing")
    func firstOutcomeStands() async throws {
        let promise = loop.makePromise(of: Int.self)
        guard case .timedOut = await BoundedWait.outcome(of: promise.futureResult, within: .milliseconds(20)) else {
            Issue.record("the wait did not time out")
            return
        }
        promise.succeed(1)
        #expect(try await BoundedWait.value(of: promise.futureResult, within: .seconds(30)) == 1)
    }
}
