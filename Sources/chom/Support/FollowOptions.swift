import ArgumentParser
import CHOMAPI

/// `--timeout` for commands that follow a task, and the shared follow-then-exit logic.
struct FollowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Give up following after this many seconds (exit 1).", valueName: "seconds"))
    var timeout: Int = 300

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    /// Follows `task` to its end: prints progress lines (table output) or the final task (JSON);
    /// exits 1 when the task failed.
    func follow(_ task: TaskResponse, client: AdminClient, global: GlobalOptions) async throws {
        let follower = TaskFollower(
            client: client, clock: ContinuousClock(), timeout: .seconds(timeout),
            emit: global.json ? { _ in } : { Console.out($0) })
        let finished = try await follower.follow(task)
        if global.json { try Console.json(finished) }
        if finished.state != "succeeded" { throw ExitCode.failure }
    }
}
