import ArgumentParser
import CHOMAPI
import Foundation

/// `chom sites rollback | suspend | resume | remove`: each queues a task and follows it.
extension SitesCommand {
    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point a site back at an earlier release.",
            discussion: """
                Without --release, the release before the current one. Follows the task.

                Example:
                  chom sites rollback example.com
                  chom sites rollback example.com --release 3f2a…
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Option(help: ArgumentHelp("The release to go back to (its full ID).", valueName: "id")) var release: String?
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            try await follow.follow(try await client.rollback(site: site, releaseID: release), client: client, global: global)
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a maintenance page (503) instead of the site (admins).",
            discussion: """
                The site shows as suspended once its agent has applied it. `chom sites resume` undoes it.

                Example:
                  chom sites suspend example.com
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            try await follow.follow(try await client.suspend(site: site), client: client, global: global)
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a suspended site again (admins).",
            discussion: """
                Example:
                  chom sites resume example.com
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            try await follow.follow(try await client.resume(site: site), client: client, global: global)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a site from its agent, after a last backup (admins).",
            discussion: """
                Takes a backup first (listed by `chom sites backups`), then removes the site's files, \
                server block, PHP pool or app process and its user. With --force, no backup is taken. \
                The site stays listed as removed; `chom sites restore` brings it back.

                Example:
                  chom sites remove old.example.com
                  chom sites remove old.example.com --force
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Flag(help: "Remove without taking a backup first.") var force = false
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            try await follow.follow(try await client.removeSite(site, force: force), client: client, global: global)
        }
    }
}
