import CHOMCore
package import Foundation

/// Keeps each app site's process running as the site's user in its current release: started on
/// activation, restarted whenever it exits, stopped (its whole cgroup) when the site is
/// activated again, suspended or removed (``ProcessSupervisor``). The agent is the supervisor
/// rather than a systemd unit per site, so an agent on a host without systemd, or many agents on
/// one host in the tests and the demo, behave the same; the price is that apps stop with the
/// agent and start again with the site's next activation.
package final class AppSupervisor: Sendable {
    private let processes: ProcessSupervisor

    package init(runner: CommandRunner = CommandRunner(), cgroups: CgroupConfiguration = CgroupConfiguration()) {
        processes = ProcessSupervisor(runner: runner, cgroups: cgroups)
    }

    /// Replaces whatever ran for `site` with `command` (via /bin/sh, as `account`) in `directory`.
    package func restart(
        site: String, command: String, account: SiteAccount, directory: URL, environment: [String: String]
    ) async {
        await processes.supervise(key: site, kind: "app", owner: account.name, command: CommandRunner.Command(
            "/usr/bin/setpriv",
            ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--",
             "/bin/sh", "-c", command],
            environment: environment, workingDirectory: directory.path, timeout: .seconds(86_400 * 365),
            killGrace: .seconds(5)))
    }

    /// Stops the site's process (its process group, then its whole cgroup).
    package func stop(site: String) async {
        await processes.stop(key: site)
    }

    package func stopAll() async {
        await processes.stopAll()
    }
}
