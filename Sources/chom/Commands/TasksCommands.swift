import ArgumentParser
import CHOMAPI
import Foundation

struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Inspect and follow the tasks the coordinator sends to agents.",
        discussion: """
            A task (a deploy, for now) goes queued → sent → accepted → succeeded | failed.

            Example:
              chom tasks show 7c9e6679-7425-40de-944b-e07fc1f90ae7 --wait
            """,
        subcommands: [Show.self],
        aliases: ["task"]
    )
}

extension TasksCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task, or follow it to its end with --wait.",
            discussion: """
                Without --wait, prints the task with its latest progress log and exits 0. \
                With --wait, prints each new state and step as it happens (like `chom sites deploy`) \
                and exits 0 if the task succeeded, 1 if it failed or --timeout passed.

                Example:
                  chom tasks show 7c9e6679-7425-40de-944b-e07fc1f90ae7 --wait --timeout 60
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The task's full ID, as `chom sites deploy` prints it.")
        var id: String

        @Flag(help: "Follow the task until it succeeds or fails.")
        var wait = false

        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            let task = try await client.task(id: id)
            if wait { return try await follow.follow(task, client: client, global: global) }
            if global.json { return try Console.json(task) }
            let now = Date()
            Console.table(
                .keyValue([
                    ("ID", task.id), ("Kind", task.kind), ("State", task.state), ("Agent", task.agentId),
                    ("Site", Format.orDash(task.siteId)), ("Release", Format.orDash(task.releaseId)),
                    ("Attempts", "\(task.attempts)"), ("Step", Format.orDash(task.progressStep)),
                    ("Message", Format.orDash(task.message)), ("Release path", Format.orDash(task.releasePath)),
                    ("Created", Format.timestamp(task.createdAt, now: now)),
                    ("Sent", Format.timestamp(task.sentAt, now: now)),
                    ("Accepted", Format.timestamp(task.acceptedAt, now: now)),
                    ("Finished", Format.timestamp(task.finishedAt, now: now)),
                ]))
            if let log = task.progressLog?.trimmingCharacters(in: .newlines), !log.isEmpty {
                Console.out("")
                Console.out("Progress log:")
                for line in log.split(separator: "\n", omittingEmptySubsequences: false) { Console.out("  \(line)") }
            }
        }
    }
}
