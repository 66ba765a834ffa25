import Glibc
package import CHOMCore

/// One php-fpm master per php site, started and supervised by the agent in a cgroup of the
/// site's own (``ProcessSupervisor``): the master and every worker it forks — and whatever a
/// php request starts — are inside that cgroup, under its process and memory limits, and are
/// killed whole when the site goes. (One operator php-fpm master for every site would put all
/// sites' workers in one cgroup, where one site's fork bomb starves the rest.)
///
/// Each site's configuration is one file, `<directory>/<site user>.conf` (a `[global]` section
/// with its pid file and log under `directory`, then the site's pool), root's and outside every
/// site tree. A change is written atomically, checked with `php-fpm -t -y <file>` (the previous
/// file back on refusal, php-fpm's own message in the error), then the running master reloads
/// (SIGUSR2) or, when none runs, one is started. One change at a time.
package actor PhpFpmController {
    package struct Configuration: Sendable {
        /// The php-fpm binary; nil looks for `php-fpm8.2`, `php-fpm` and other versions in /usr/sbin.
        package var binary: String?
        /// Root's directory (0700) of the per-site configurations, pid files and master logs.
        package var directory = "/var/lib/chom-agent/php"
        /// Where the pools' sockets go (nginx's workers must be able to reach it). Not the
        /// distribution's `/run/php`: an operator php-fpm that still has an older agent's pool for a
        /// site unlinks that socket path when it reloads without it.
        package var runDirectory = "/run/chom-php"
        /// The cgroup each site's master runs in, and its limits.
        package var cgroups = CgroupConfiguration()
        /// Pool files an older agent left in the operator's php-fpm (`/etc/php/…/pool.d`): removed
        /// as each site converges, then that master reloaded (`legacyPidFile`).
        package var legacyPoolDirectory: String? = "/etc/php/8.2/fpm/pool.d"
        package var legacyPidFile = "/run/php/php8.2-fpm.pid"
        package var commandTimeout: Duration = .seconds(30)

        package init() {}
    }

    package static let notInstalled = "php-fpm is not installed on this agent"

    package nonisolated let configuration: Configuration
    private let runner = CommandRunner()
    private let gate = SerialGate()
    private let masters: ProcessSupervisor

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        masters = ProcessSupervisor(cgroups: configuration.cgroups)
    }

    /// The php-fpm binary, or nil when none is installed.
    package nonisolated var binary: String? {
        if let binary = configuration.binary { return access(binary, X_OK) == 0 ? binary : nil }
        let candidates = ["php-fpm8.2", "php-fpm", "php-fpm8.3", "php-fpm8.4", "php-fpm8.1", "php-fpm8.0", "php-fpm7.4"]
        return candidates.map { "/usr/sbin/" + $0 }.first { access($0, X_OK) == 0 }
    }

    /// A pool made with this controller's run directory.
    package nonisolated func pool(for user: SiteUserName, siteDirectory: String) -> PhpFpmPool {
        PhpFpmPool(user: user, siteDirectory: siteDirectory, runDirectory: configuration.runDirectory)
    }

    /// The site's configuration file.
    package nonisolated func file(for user: SiteUserName) -> String {
        "\(configuration.directory)/\(user.rawValue).conf"
    }

    /// The pid file of the site's master.
    package nonisolated func pidFile(for user: SiteUserName) -> String {
        "\(configuration.directory)/\(user.rawValue).pid"
    }

    /// Writes the site's configuration and reloads its master, or starts one. The site user must
    /// exist (php-fpm checks it). `.reloaded`, `.started`, or `.unchanged` when the running master
    /// already has this configuration.
    package func install(_ pool: PhpFpmPool) async throws(CHOMError) -> ReloadOutcome {
        let binary = try installed()
        let text = try pool.renderMaster(
            pidFile: pidFile(for: pool.user), errorLog: "\(configuration.directory)/\(pool.user.rawValue).log")
        let path = file(for: pool.user)
        return try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            if mkdir(configuration.directory, 0o700) != 0 && errno != EEXIST {  // not a tenant path: the agent's php directory
                throw CHOMError(.internal, "cannot create \(configuration.directory)")
            }
            if mkdir(configuration.runDirectory, 0o755) != 0 && errno != EEXIST {  // not a tenant path: php-fpm's run directory
                throw CHOMError(.internal, "cannot create \(configuration.runDirectory)")
            }
            let previous = try AtomicFile.read(path)
            let running = masters.isSupervising(pool.user.rawValue) ? masterPID(pool.user) : nil
            // php-fpm reloads by re-executing its master, which closes the socket for a moment
            // (nginx answers 502): a configure that changes nothing leaves the master alone.
            if previous == text, running != nil { return .unchanged }
            try AtomicFile.write(text, to: path)  // not a tenant path: the agent's php directory
            try await checkOrRestore(binary, path: path, previous: previous, change: "the pool \(pool.user)")
            if let running, kill(running, SIGUSR2) == 0 { return .reloaded }
            await start(pool.user, binary: binary)
            try await waitForMaster(pool.user)
            return .started
        }
    }

    /// After the site's server block points at its own master: the pool an older agent left in
    /// the operator's php-fpm goes, and that master reloads.
    package func retireLegacyPool(_ user: SiteUserName) async {
        await gate.withGate { await removeLegacyPool(user) }
    }

    /// Stops the site's master (its whole cgroup) and removes its configuration; none is fine.
    package func remove(_ user: SiteUserName) async throws(CHOMError) -> ReloadOutcome {
        try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            let wasRunning = masters.isSupervising(user.rawValue)
            await masters.stop(key: user.rawValue)
            await removeLegacyPool(user)
            let path = file(for: user)
            guard try AtomicFile.read(path) != nil else { return wasRunning ? .stopped : .unchanged }
            try AtomicFile.remove(path)  // not a tenant path: the agent's php directory
            try? AtomicFile.remove(pidFile(for: user))
            return .stopped
        }
    }

    /// At the agent's start: a master for every site configured here (they stop with the agent).
    package func resumeAll() async -> Int {
        await gate.withGate { await resumeAllNow() }
    }

    private func resumeAllNow() async -> Int {
        guard let binary, let directory = opendir(configuration.directory) else { return 0 }  // not a tenant path: the agent's php directory
        var users: [SiteUserName] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".conf"), let user = SiteUserName(rawValue: String(name.dropLast(5))) else { continue }
            users.append(user)
        }
        closedir(directory)
        for user in users { await start(user, binary: binary) }
        return users.count
    }

    package func stopAll() async {
        await masters.stopAll()
    }

    /// Starts the site's master under supervision, in the foreground (`-F`) so the supervisor
    /// sees it exit. A master an agent that died left behind (its pid file names a live php-fpm)
    /// is stopped first: it holds the socket.
    private func start(_ user: SiteUserName, binary: String) async {
        if !masters.isSupervising(user.rawValue) {
            if let orphan = masterPID(user) {
                kill(orphan, SIGQUIT)
                let end = ContinuousClock.now + .seconds(5)
                while masterPID(user) == orphan, ContinuousClock.now < end {
                    try? await Task.sleep(for: .milliseconds(25))
                }
                if masterPID(user) == orphan { kill(orphan, SIGKILL) }
            }
            // A pid file no master of this site holds (after a crash or a reboot) names nothing of ours.
            try? AtomicFile.remove(pidFile(for: user))  // not a tenant path: the agent's php directory
        }
        await masters.supervise(
            key: user.rawValue, kind: "php", owner: user.rawValue,
            command: CommandRunner.Command(
                binary, ["-F", "-y", file(for: user)], environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
                workingDirectory: "/", timeout: .seconds(86_400 * 365), killGrace: .seconds(5)))
    }

    /// The pid of the site's running master: the pid file's process only if it is root's and is
    /// the php-fpm master of this site's configuration (`php-fpm: master process (<file>)`). A
    /// stale pid file (a master killed, a reboot) may name anyone's process: it is never signalled.
    package nonisolated func masterPID(_ user: SiteUserName) -> Int32? {
        guard let pid = PidFile.runningProcess(pidFile(for: user)) else { return nil }
        var st = stat()
        guard stat("/proc/\(pid)", &st) == 0, st.st_uid == 0,  // not a tenant path: /proc
            let title = try? ProcFile.read("/proc/\(pid)/cmdline")
        else { return nil }
        return title.hasPrefix("php-fpm: master process (\(file(for: user)))") ? pid : nil
    }

    /// Waits (at most `commandTimeout`) until the site's new master runs; else stops trying and
    /// says why, with the end of the master's log.
    private func waitForMaster(_ user: SiteUserName) async throws(CHOMError) {
        let end = ContinuousClock.now + configuration.commandTimeout
        var pause: Duration = .milliseconds(5)
        while masterPID(user) == nil {
            guard ContinuousClock.now < end else {
                await masters.stop(key: user.rawValue)
                let log = (try? AtomicFile.read("\(configuration.directory)/\(user.rawValue).log")) ?? nil
                let tail = log.map { String($0.suffix(1024)) } ?? ""
                throw CHOMError(.unavailable, "the php-fpm master of \(user) did not start\(tail.isEmpty ? "" : ": \(tail)")")
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
        }
    }

    private func installed() throws(CHOMError) -> String {
        guard let binary else { throw CHOMError(.unavailable, Self.notInstalled) }
        return binary
    }

    private func checkOrRestore(_ binary: String, path: String, previous: String?, change: String) async throws(CHOMError) {
        let outcome = try await runner.run(
            CommandRunner.Command(binary, ["-t", "-y", path], timeout: configuration.commandTimeout))
        guard !outcome.succeeded else { return }
        if let previous { try AtomicFile.write(previous, to: path) } else { try AtomicFile.remove(path) }  // not a tenant path: the agent's php directory
        let reason = outcome.timedOut ? "php-fpm -t timed out" : outcome.outputText.trimmingTrailingNewlines
        throw CHOMError(.invalidInput, "php-fpm rejected \(change); the previous configuration was kept: \(reason)")
    }

    /// An older agent's pool for `user` in the operator's php-fpm goes (the site's own master
    /// serves it now); that master reloads. Its last pool gone, it stops itself on the reload.
    private func removeLegacyPool(_ user: SiteUserName) async {
        guard let legacy = configuration.legacyPoolDirectory else { return }
        let path = "\(legacy)/\(user.rawValue).conf"
        guard (try? AtomicFile.read(path)) ?? nil != nil else { return }
        try? AtomicFile.remove(path)  // not a tenant path: the operator's php-fpm pool directory
        if let pid = PidFile.runningProcess(configuration.legacyPidFile) { kill(pid, SIGUSR2) }
    }
}
