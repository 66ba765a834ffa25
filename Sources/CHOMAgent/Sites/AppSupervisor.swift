import CHOMCore
package import Foundation
import Synchronization

/// Keeps each app site's process running as the site's user in its current release: started on
/// activation, restarted (after a growing pause, at most 30 s) whenever it exits, stopped (its
/// whole process group) when the site is activated again, suspended or removed. The agent is the
/// supervisor rather than a systemd unit per site, so an agent on a host without systemd, or
/// many agents on one host in the tests and the demo, behave the same; the price is that apps
/// stop with the agent (systemd restarts the agent, which restarts them).
///
/// Each start of an app runs in a cgroup of its own (``RunCgroups``, with the configured
/// limits), killed whole and removed when the process exits or is stopped: whatever the app
/// started, `setsid` and double-forked children included, ends with it. Where no cgroup is
/// usable (the agent says so at start) apps run as before, killed by process group only.
package final class AppSupervisor: Sendable {
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let runner: CommandRunner
    private let cgroups: CgroupConfiguration

    package init(runner: CommandRunner = CommandRunner(), cgroups: CgroupConfiguration = CgroupConfiguration()) {
        self.runner = runner
        self.cgroups = cgroups
    }

    /// Replaces whatever ran for `site` with `command` (via /bin/sh, as `account`) in `directory`.
    package func restart(
        site: String, command: String, account: SiteAccount, directory: URL, environment: [String: String]
    ) async {
        await stop(site: site)
        let runner = self.runner
        let cgroups = self.cgroups
        let task = Task {
            var pause: Duration = .milliseconds(200)
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let cgroup = try? RunCgroups.prepare(cgroups).makeRun(kind: "app", owner: account.name)
                _ = try? await runner.run(CommandRunner.Command(
                    "/usr/bin/setpriv",
                    ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--",
                     "/bin/sh", "-c", command],
                    environment: environment, workingDirectory: directory.path, timeout: .seconds(86_400 * 365),
                    killGrace: .seconds(5), cgroup: cgroup))
                try? await cgroup?.remove(timeout: cgroups.killTimeout)
                if Task.isCancelled { break }
                pause = ContinuousClock.now - started > .seconds(60) ? .milliseconds(200) : min(pause * 2, .seconds(30))
                try? await Task.sleep(for: pause)
            }
        }
        running.withLock { $0[site] = task }
    }

    /// Stops the site's process (the run is cancelled, which kills its process group, then its
    /// whole cgroup).
    package func stop(site: String) async {
        let task = running.withLock { $0.removeValue(forKey: site) }
        task?.cancel()
        await task?.value
    }

    package func stopAll() async {
        let tasks = running.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
