import Synchronization

/// How many times this process started executing each task id. Exactly-once means every
/// count is at most 1; tests read it to prove a duplicate was answered, not run.
package final class ExecutionLedger: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    package init() {}

    package func record(_ taskID: String) {
        counts.withLock { $0[taskID, default: 0] += 1 }
    }

    package func executions(of taskID: String) -> Int {
        counts.withLock { $0[taskID] ?? 0 }
    }
}
