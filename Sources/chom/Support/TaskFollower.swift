import CHOMAPI

/// Polls a task until it finishes, printing each new state and progress step as it is seen.
struct TaskFollower<C: Clock<Duration>> {
    let client: AdminClient
    let clock: C
    var interval: Duration = .milliseconds(200)
    var timeout: Duration
    /// Where progress lines go (stdout for tables; nowhere for JSON).
    var emit: (String) -> Void

    /// Returns the finished task; throws `CLIError` on timeout.
    func follow(_ first: TaskResponse) async throws -> TaskResponse {
        var progress = TaskProgress()
        let deadline = clock.now.advanced(by: timeout)
        var task = first
        while true {
            for line in progress.lines(for: task) { emit(line) }
            if task.isFinal { return task }
            if clock.now >= deadline {
                throw CLIError(
                    "timed out after \(Self.seconds(timeout)) waiting for task \(task.id) (last state: \(task.state))")
            }
            try await clock.sleep(for: interval)
            task = try await client.task(id: task.id)
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds) s" : "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}
