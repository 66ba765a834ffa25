/// Runs `body` in a child task that ends when `body` returns, and returns its result.
///
/// Why: a Swift task keeps the memory of its deepest chain of async calls for as long as it lives.
/// The runtime's task allocator reuses the slabs it took for those frames, but never frees them
/// before the task ends. A task that lives as long as a connection (a gRPC handler reading an
/// agent's stream, a stream's dispatch loop) and now and then runs a database transaction (an
/// inventory, a result with its audit entry, a dispatch pass) therefore holds that transaction's
/// frames for the connection's whole life. With 1,000 agent streams that was ~75 MB of the
/// coordinator's heap (`heaptrack` on `chom-bench fleet`: `swift::StackAllocator::alloc`).
/// Running each such piece of work in a child task frees its frames when it is done.
///
/// The child inherits the caller's priority and task-locals, and is cancelled with it. The cost is
/// one task creation (a few microseconds), so use it for work that touches the network or the
/// database, not in tight loops.
public func inShortLivedTask<T: Sendable>(
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self, returning: T.self) { group in
        group.addTask { try await body() }
        // One child, added above: `next()` returns its result or rethrows its error.
        return try await group.next()!
    }
}
