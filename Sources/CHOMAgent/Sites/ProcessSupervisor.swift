import CHOMCore
import Synchronization

/// Keeps long-running processes of the agent's (app sites' processes, php sites' php-fpm
/// masters) running, one per key: started, restarted after a growing pause (at most 30 s)
/// whenever it exits, stopped when replaced or asked to. Each start runs in a cgroup of its own
/// (``RunCgroups``, with the configured limits) that is killed whole and removed when the process
/// exits or is stopped, so whatever it started — `setsid` and double-forked children included —
/// ends with it. Where no cgroup is usable (the agent says so at start) processes run as before,
/// killed by process group only.
package final class ProcessSupervisor: Sendable {
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let runner: CommandRunner
    private let cgroups: CgroupConfiguration

    package init(runner: CommandRunner = CommandRunner(), cgroups: CgroupConfiguration = CgroupConfiguration()) {
        self.runner = runner
        self.cgroups = cgroups
    }

    /// Replaces whatever ran under `key` with `command`, run in a cgroup named for `kind` and
    /// `owner` (a site user's name) and restarted whenever it exits. The new process starts once
    /// the old one (and its cgroup) is gone; the swap is atomic, so two calls never leave a process
    /// nobody supervises. Where cgroups are usable a start that cannot get one waits and tries
    /// again rather than run uncontained; where none is (the agent said so at start) it runs
    /// killed by process group only.
    package func supervise(key: String, kind: String, owner: String, command: CommandRunner.Command) async {
        let runner = self.runner
        let cgroups = self.cgroups
        running.withLock { running in
            let previous = running[key]
            previous?.cancel()
            // One supervising task per key, kept in `running` and cancelled (and awaited) by stop.
            running[key] = Task {
                await previous?.value
                var pause: Duration = .milliseconds(200)
                while !Task.isCancelled {
                    let started = ContinuousClock.now
                    var run = command
                    run.longLived = true
                    var contained = true
                    if let prepared = try? RunCgroups.prepare(cgroups) {
                        run.cgroup = try? prepared.makeRun(kind: kind, owner: owner)
                        contained = run.cgroup != nil
                    }
                    if contained {
                        _ = try? await runner.run(run)
                        try? await run.cgroup?.remove(timeout: cgroups.killTimeout)
                    }
                    if Task.isCancelled { break }
                    pause = ContinuousClock.now - started > .seconds(60) ? .milliseconds(200) : min(pause * 2, .seconds(30))
                    try? await Task.sleep(for: pause)
                }
            }
        }
    }

    /// Whether something is supervised under `key`.
    package func isSupervising(_ key: String) -> Bool {
        running.withLock { $0[key] != nil }
    }

    /// Stops the process under `key` (the run is cancelled, which kills its process group, then
    /// its whole cgroup) and waits until it is gone.
    package func stop(key: String) async {
        let task = running.withLock { $0.removeValue(forKey: key) }
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
