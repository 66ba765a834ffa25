import CHOMCore

/// Runs a site's configured build hook (`composer install --no-dev`, `npm run build`) in a
/// release directory, as the site's own unprivileged user and never as root.
///
/// The hook is one command line given to `/bin/sh -c`, started through
/// `setpriv --reuid=UID --regid=GID --clear-groups --no-new-privs`: the site's uid and primary
/// group only, no supplementary groups, no way back up through a setuid binary. Its environment
/// is exactly ``environment(for:)``: nothing of the agent's (no credentials, no `CHOM_*`
/// settings) leaks in. stdin is /dev/null; stdout and stderr are kept as a 16 KiB log tail.
/// Past the timeout the hook's whole process group is killed (SIGTERM, then SIGKILL after a
/// grace), background children included.
package struct HookRunner: Sendable {
    package struct Configuration: Sendable {
        package var setpriv = "/usr/bin/setpriv"
        package var shell = "/bin/sh"
        package var path = "/usr/local/bin:/usr/bin:/bin"
        package var timeout: Duration = .seconds(900)
        /// Between SIGTERM and SIGKILL.
        package var killGrace: Duration = .seconds(5)
        package var logTailBytes = 16 * 1024

        package init() {}
    }

    /// Where and as whom one hook runs.
    package struct Context: Sendable {
        package var account: SiteAccount
        /// The site's domain, `CHOM_SITE`.
        package var site: String
        package var releaseID: String
        package var releaseDirectory: String

        package init(account: SiteAccount, site: String, releaseID: String, releaseDirectory: String) {
            self.account = account
            self.site = site
            self.releaseID = releaseID
            self.releaseDirectory = releaseDirectory
        }
    }

    /// A hook that exited 0.
    package struct Run: Sendable, Equatable {
        package var logTail: String
        package var duration: Duration
    }

    package var configuration: Configuration
    private let runner = CommandRunner()

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The hook's whole environment. `PWD` is the release directory, as the shell would set it.
    package func environment(for context: Context) -> [String: String] {
        [
            "PATH": configuration.path,
            "HOME": context.account.home,
            "LANG": "C.UTF-8",
            "PWD": context.releaseDirectory,
            "CHOM_SITE": context.site,
            "CHOM_RELEASE": context.releaseID,
            "CHOM_RELEASE_DIR": context.releaseDirectory,
        ]
    }

    package func run(_ hook: String, in context: Context) async throws(HookFailure) -> Run {
        guard !hook.allSatisfy(\.isWhitespace) else { throw HookFailure(.refused("the hook is empty")) }
        guard !hook.utf8.contains(0) else { throw HookFailure(.refused("the hook holds a NUL byte")) }
        guard context.account.uid != 0, context.account.gid != 0 else {
            throw HookFailure(.refused("a hook never runs as root"))
        }
        let command = CommandRunner.Command(
            configuration.setpriv,
            [
                "--reuid=\(context.account.uid)", "--regid=\(context.account.gid)", "--clear-groups",
                "--no-new-privs", "--", configuration.shell, "-c", hook,
            ],
            environment: environment(for: context), workingDirectory: context.releaseDirectory,
            timeout: configuration.timeout, killGrace: configuration.killGrace,
            outputLimit: configuration.logTailBytes)
        let outcome: CommandRunner.Outcome
        do {
            outcome = try await runner.run(command)
        } catch {
            throw HookFailure(.notStarted(error.message))
        }
        let tail = outcome.outputText
        if outcome.cancelled { throw HookFailure(.cancelled, logTail: tail) }
        if outcome.timedOut { throw HookFailure(.timedOut(configuration.timeout), logTail: tail) }
        switch outcome.termination {
        case .exited(0): return Run(logTail: tail, duration: outcome.duration)
        case .exited(let code): throw HookFailure(.exited(code), logTail: tail)
        case .signaled(let signal): throw HookFailure(.signaled(signal), logTail: tail)
        }
    }
}
