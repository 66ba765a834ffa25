import ArgumentParser
import CHOMAPI
import CHOMArchive
import Foundation

extension SitesCommand {
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a directory as a new release and deploy it.",
            discussion: """
                Packs the directory as tar.zst, uploads it as a release of the site, starts the deploy \
                and follows the task, printing each state and step as it happens:
                queued, sent, accepted, step: …, then succeeded: <release path> or failed: <reason>. \
                Exits 0 when the deploy succeeded, 1 when it failed or --timeout passed. \
                With --output json, prints the final task. With --no-follow, returns once the \
                task is queued (follow it later with `chom tasks show ID --wait`).

                Example:
                  chom sites deploy example.com --dir ./public --keep 5
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The site's domain or ID.")
        var site: String

        @Option(help: ArgumentHelp("The directory to publish; its contents become the site's root.", valueName: "path"))
        var dir: String

        @Option(help: ArgumentHelp("How many releases to keep on the agent (1 to 50; default 5).", valueName: "n"))
        var keep: Int?

        @Flag(help: "Return once the deploy is queued instead of following it.")
        var noFollow = false

        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let directory = try Self.checkedDirectory(dir)
            let client = try await global.client()
            let say: (String) -> Void = global.json ? { _ in } : { Console.out($0) }

            let archive: Data
            do {
                archive = try TarZst.pack(directory: directory)
            } catch {
                throw CLIError("cannot pack \(dir): \(error)")
            }
            say("packed \(dir) (\(Format.bytes(archive.count)) tar.zst)")
            let release = try await client.uploadRelease(site: site, archive: archive)
            say("uploaded release \(release.id) (sha256 \(release.sha256.prefix(16))…)")
            let task = try await client.deploy(site: site, releaseID: release.id, keepReleases: keep)
            say("deploying to \(site): task \(task.id)")

            if noFollow {
                if global.json { try Console.json(task) } else { say("follow it with: chom tasks show \(task.id) --wait") }
                return
            }
            try await follow.follow(task, client: client, global: global)
        }

        /// The directory as a file URL; a missing path or a file is refused.
        static func checkedDirectory(_ path: String) throws -> URL {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIError("\(path) does not exist; --dir must name the directory to publish")
            }
            guard isDirectory.boolValue else { throw CLIError("\(path) is not a directory; --dir must name a directory") }
            return URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        }
    }
}
