import CHOMCore

/// Runs a site's configured build hook (`composer install --no-dev`, `npm run build`) in a
/// release directory, as the site's own unprivileged user and never as root.
///
/// The hook is one command line given to `/bin/sh -c`, started through
/// `setpriv --reuid=UID --regid=GID --clear-groups --no-new-privs`: the site's uid and primary
/// group only, no supplementary groups, no way back up through a setuid binary. Its environment
/// is exactly ``environment(for:)``: nothing of the agent's (no credentials, no `CHOM_*`
/// settings) leaks in. stdin is /dev/null; stdout and stderr are kept as a 16 KiB log tail.
///
/// Each run gets a cgroup of its own (``RunCgroups``), with a process limit and a memory limit
/// where the host has the controllers. The process joins it as root before it drops privileges
/// and execs, so nothing the hook starts is ever outside. When the hook ends, or past its
/// timeout (SIGTERM to its process group, then after a grace SIGKILL to the whole cgroup), the
/// cgroup is killed (`cgroup.kill`: `setsid` and double-forked children included), emptied and
/// removed. Without a usable cgroup hierarchy the hook is refused rather than run uncontained.
package struct HookRunner: Sendable {
    package struct Configuration: Sendable {
        package var setpriv = "/usr/bin/setpriv"
        package var shell = "/bin/sh"
        package var path = "/usr/local/bin:/usr/bin:/bin"
        package var timeout: Duration = .seconds(900)
        /// Between SIGTERM and SIGKILL.
        package var killGrace: Duration = .seconds(5)
        package var logTailBytes = 16 * 1024
        /// Where each run's cgroup goes and its limits.
        package var cgroups = CgroupConfiguration()

        package init() {}
    }

    /// Where and as whom one hook runs.
    package struct Context: Sendable {
        package var account: SiteAccount
        /// The site's domain, `CHOM_SITE`.
        package var site: String
        package var releaseID: String
        package var releaseDirectory: String
        /// The site's private temporary directory (owned by the site user, 0700): `TMPDIR`,
        /// `TMP` and `TEMP` when set.
        package var temporaryDirectory: String?

        package init(
            account: SiteAccount, site: String, releaseID: String, releaseDirectory: String,
            temporaryDirectory: String? = nil
        ) {
            self.account = account
            self.site = site
            self.releaseID = releaseID
            self.releaseDirectory = releaseDirectory
            self.temporaryDirectory = temporaryDirectory
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
        var environment = [
            "PATH": configuration.path,
            "HOME": context.account.home,
            "LANG": "C.UTF-8",
            "PWD": context.releaseDirectory,
            "CHOM_SITE": context.site,
            "CHOM_RELEASE": context.releaseID,
            "CHOM_RELEASE_DIR": context.releaseDirectory,
        ]
        if let temporary = context.temporaryDirectory {
            for name in ["TMPDIR", "TMP", "TEMP"] { environment[name] = temporary }
        }
        return environment
    }

    package func run(_ hook: String, in context: Context) async throws(HookFailure) -> Run {
        guard !hook.allSatisfy(\.isWhitespace) else { throw HookFailure(.refused("the hook is empty")) }
        guard !hook.utf8.contains(0) else { throw HookFailure(.refused("the hook holds a NUL byte")) }
        guard context.account.uid != 0, context.account.gid != 0 else {
            throw HookFailure(.refused("a hook never runs as root"))
        }
        let cgroups: RunCgroups
        do {
            cgroups = try RunCgroups.prepare(configuration.cgroups)
        } catch {
            throw HookFailure(.refused("its processes cannot be contained, no cgroup is usable (\(error.message))"))
        }
        let cgroup: RunCgroup
        do {
            cgroup = try cgroups.makeRun(kind: "hook", owner: context.account.name)
        } catch {
            throw HookFailure(.notStarted(error.message))
        }
        let command = CommandRunner.Command(
            configuration.setpriv,
            [
                "--reuid=\(context.account.uid)", "--regid=\(context.account.gid)", "--clear-groups",
                "--no-new-privs", "--", configuration.shell, "-c", hook,
            ],
            environment: environment(for: context), workingDirectory: context.releaseDirectory,
            timeout: configuration.timeout, killGrace: configuration.killGrace,
            outputLimit: configuration.logTailBytes, cgroup: cgroup)
        let outcome: CommandRunner.Outcome
        do {
            outcome = try await runner.run(command)
        } catch {
            try? await cgroup.remove(timeout: configuration.cgroups.killTimeout)
            throw HookFailure(.notStarted(error.message))
        }
        let hits = cgroup.limitHits
        do {
            try await cgroup.remove(timeout: configuration.cgroups.killTimeout)
        } catch {
            throw HookFailure(.notCleanedUp(error.message), logTail: outcome.outputText)
        }
        return try verdict(outcome, hits: hits)
    }

    /// How the run went. A run that was refused a process or lost one to the memory limit fails
    /// even when its shell exited 0: what it built is not to be trusted.
    private func verdict(_ outcome: CommandRunner.Outcome, hits: (processes: Int, outOfMemory: Int)) throws(HookFailure) -> Run {
        let tail = outcome.outputText
        if outcome.cancelled { throw HookFailure(.cancelled, logTail: tail) }
        if hits.processes > 0, let limit = configuration.cgroups.pidsMax { throw HookFailure(.processLimit(limit), logTail: tail) }
        if hits.outOfMemory > 0, let limit = configuration.cgroups.memoryMax {
            throw HookFailure(.memoryLimit(limit), logTail: tail)
        }
        if outcome.timedOut { throw HookFailure(.timedOut(configuration.timeout), logTail: tail) }
        switch outcome.termination {
        case .exited(0): return Run(logTail: tail, duration: outcome.duration)
        case .exited(let code): throw HookFailure(.exited(code), logTail: tail)
        case .signaled(let signal): throw HookFailure(.signaled(signal), logTail: tail)
        }
    }
}
