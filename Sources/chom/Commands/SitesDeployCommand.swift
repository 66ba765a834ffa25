import ArgumentParser
import CHOMAPI
import CHOMArchive
import Foundation

extension SitesCommand {
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy a directory (uploaded as a new release) or a git ref.",
            discussion: """
                With --dir, packs the directory as tar.zst and uploads it as a release of the site; \
                with --git and --ref, the agent clones the repository at that branch, tag or commit \
                (and runs the site's build hooks). Then starts the deploy and follows the task, \
                printing each state, step and new line of the agent's log as it happens:
                queued, sent, accepted, step: …, then succeeded: <release path> or failed: <reason>. \
                Exits 0 when the deploy succeeded, 1 when it failed or --timeout passed. \
                With --output json, prints the final task. With --no-follow, returns once the \
                task is queued (follow it later with `chom tasks show ID --wait`).

                Example:
                  chom sites deploy example.com --dir ./public --keep 5
                  chom sites deploy example.com --git https://git.example.com/acme/site.git --ref v1.4.2
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The site's domain or ID.")
        var site: String

        @Option(help: ArgumentHelp("The directory to publish; its contents become the site's root.", valueName: "path"))
        var dir: String?

        @Option(help: ArgumentHelp("A git repository to deploy from (https://, ssh://, user@host:path, file:///).", valueName: "url"))
        var git: String?

        @Option(help: ArgumentHelp("With --git: the branch, tag or commit.", valueName: "ref"))
        var ref: String?

        @Option(help: ArgumentHelp("How many releases to keep on the agent (1 to 50; default 5).", valueName: "n"))
        var keep: Int?

        @Flag(help: "Return once the deploy is queued instead of following it.")
        var noFollow = false

        @OptionGroup var follow: FollowOptions

        func validate() throws {
            switch (dir, git, ref) {
            case (.some, nil, nil), (nil, .some, .some): break
            case (nil, .some, nil): throw ValidationError("--git needs --ref (a branch, tag or commit)")
            case (.some, .some, _): throw ValidationError("give --dir or --git, not both")
            default: throw ValidationError("give --dir DIR, or --git URL --ref REF")
            }
        }

        func run() async throws {
            let client = try await global.client()
            let say: (String) -> Void = global.json ? { _ in } : { Console.out($0) }
            let task: TaskResponse
            if let git, let ref {
                task = try await client.deploy(site: site, git: GitSourceBody(url: git, ref: ref), keepReleases: keep)
                say("deploying \(git) at \(ref) to \(site): task \(task.id)")
            } else {
                task = try await upload(client: client, say: say)
            }
            if noFollow {
                if global.json { try Console.json(task) } else { say("follow it with: chom tasks show \(task.id) --wait") }
                return
            }
            try await follow.follow(task, client: client, global: global)
        }

        private func upload(client: AdminClient, say: (String) -> Void) async throws -> TaskResponse {
            let dir = dir ?? ""
            let directory = try Self.checkedDirectory(dir)

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
            return task
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
