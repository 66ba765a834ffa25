import Synchronization

/// What a replica knows of its own leadership, for the API, metrics and tests: the epoch while it
/// leads, and a stream of changes. Owned by the `Coordinator` (so it exists before `run`), written
/// by `LeaderService` only.
package final class Leadership: Sendable {
    private struct State {
        var epoch: Int64?
        var watchers: [Int: AsyncStream<Int64?>.Continuation] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The epoch this replica leads with; nil while it does not lead.
    package var epoch: Int64? { state.withLock { $0.epoch } }

    package var isLeader: Bool { epoch != nil }

    /// The current value first, then every change (nil: not leading), until the stream is dropped.
    package func changes() -> AsyncStream<Int64?> {
        let (stream, continuation) = AsyncStream<Int64?>.makeStream(bufferingPolicy: .unbounded)
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = continuation
            continuation.yield(state.epoch)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    func set(_ epoch: Int64?) {
        state.withLock { state in
            guard state.epoch != epoch else { return }
            state.epoch = epoch
            for watcher in state.watchers.values { watcher.yield(epoch) }
        }
    }
}
