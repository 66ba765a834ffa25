package import CHOMCore

/// Installs and removes one `<domain>.conf` per site in the directory the main nginx
/// configuration includes, and only ever leaves a configuration nginx accepts.
///
/// Each change is: write the file atomically, `nginx -t`; when nginx refuses it, put the
/// previous file back (or remove the new one) and throw with nginx's own words
/// (`nginx: [emerg] unknown directive …`); when it accepts, `nginx -s reload`.
///
/// Starting nginx is left to the caller (systemd on a host): when no master runs, the change
/// is still checked and kept, and ``ReloadOutcome/notRunning`` says nothing was reloaded.
/// One change at a time: the actor's gate holds across the awaits of `nginx -t` and the reload.
package actor NginxController {
    package struct Configuration: Sendable {
        package var binary = "/usr/sbin/nginx"
        /// `-c`.
        package var mainConfig = "/etc/nginx/nginx.conf"
        /// Where `<domain>.conf` files go; the main configuration includes `<this>/*.conf`.
        package var sitesDirectory = "/etc/nginx/chom-sites"
        /// `-p`, when set.
        package var prefix: String?
        /// `-e`: where nginx logs before it has read its configuration, when set.
        package var startupErrorLog: String?
        /// The `pid` of the main configuration: how a running master is found.
        package var pidFile = "/run/nginx.pid"
        package var commandTimeout: Duration = .seconds(30)
        /// How long a reload may take to replace the accepting workers before the change is
        /// reported anyway (a master that is busy or gone).
        package var reloadSettleTimeout: Duration = .seconds(5)

        package init() {}
    }

    package let configuration: Configuration
    private let runner = CommandRunner()
    private let gate = SerialGate()

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The file a domain's server blocks live in. Refuses anything but a lowercase DNS name.
    package nonisolated func file(for domain: String) throws(CHOMError) -> String {
        guard DomainName.isValid(domain) else { throw CHOMError(.invalidInput, "not a lowercase DNS name") }
        return "\(configuration.sitesDirectory)/\(domain).conf"
    }

    /// Replaces (or creates) the domain's file with `config` (as ``NginxSiteConfig`` renders it).
    package func install(domain: String, config: String) async throws(CHOMError) -> ReloadOutcome {
        let path = try file(for: domain)
        return try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            let previous = try AtomicFile.read(path)
            try AtomicFile.write(config, to: path)  // not a tenant path: nginx's configuration directory
            try await checkOrRestore(path: path, previous: previous, change: "the configuration of \(domain)")
            return try await reloadIfRunning()
        }
    }

    /// Removes the domain's file; no file is fine.
    package func remove(domain: String) async throws(CHOMError) -> ReloadOutcome {
        let path = try file(for: domain)
        return try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            guard let previous = try AtomicFile.read(path) else { return .unchanged }
            try AtomicFile.remove(path)
            try await checkOrRestore(path: path, previous: previous, change: "the removal of \(domain)")
            return try await reloadIfRunning()
        }
    }

    /// Replaces a host-wide file that site configurations include (`path`, root's, outside every
    /// site tree), checked and reloaded as a site's change is; unchanged text reloads nothing.
    /// `reloadUnchanged`: reload even when the file already holds `text` (a retry after a reload
    /// that failed: the file was written, nginx may still run the old configuration).
    package func installShared(
        path: String, text: String, change: String, reloadUnchanged: Bool = false
    ) async throws(CHOMError) -> ReloadOutcome {
        try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            let previous = try AtomicFile.read(path)
            if previous == text { return reloadUnchanged ? try await reloadIfRunning() : .unchanged }
            try AtomicFile.write(text, to: path)  // not a tenant path: nginx's configuration directory
            try await checkOrRestore(path: path, previous: previous, change: change)
            return try await reloadIfRunning()
        }
    }

    /// `nginx -t` on the whole configuration as it is on disk.
    package func check() async throws(CHOMError) {
        try await gate.withGate { () async throws(CHOMError) in try await test() }
    }

    /// Has nginx open its log files afresh after ``SiteLogRotator`` renamed some: `nginx -s reload`,
    /// whose master (root) opens every log path again, creating those that are gone (root's), and
    /// hands them to new workers. Not `-s reopen` (USR1): there each worker reopens the files
    /// itself, as `www-data`, which cannot enter the root-only `<logs>/<domain>/` directory, so
    /// the workers would keep writing to the renamed file. Nothing to do when no master runs.
    package func reopenLogs() async throws(CHOMError) -> ReloadOutcome {
        try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in try await reloadIfRunning() }
    }

    private func checkOrRestore(path: String, previous: String?, change: String) async throws(CHOMError) {
        do {
            try await test()
        } catch {
            if let previous { try AtomicFile.write(previous, to: path) } else { try AtomicFile.remove(path) }  // not a tenant path: nginx's configuration directory
            throw CHOMError(
                error.code, "nginx rejected \(change); the previous configuration was kept: \(error.message)",
                underlying: error)
        }
    }

    private func test() async throws(CHOMError) {
        let outcome = try await run(["-t"])
        guard outcome.succeeded else {
            let reason = outcome.timedOut ? "nginx -t timed out" : outcome.outputText.trimmingTrailingNewlines
            throw CHOMError(.invalidInput, reason)
        }
    }

    /// `nginx -s reload`, then waits (at most `reloadSettleTimeout`) until the workers that were
    /// accepting before it have stopped accepting and a new one runs: `-s reload` only sends the
    /// signal, and until the master has acted on it the old workers keep taking connections with
    /// the old configuration (a site just restored or moved here would answer 404 to them).
    private func reloadIfRunning() async throws(CHOMError) -> ReloadOutcome {
        guard let master = PidFile.runningProcess(configuration.pidFile) else { return .notRunning }
        let previous = Set(NginxProcesses.children(of: master).filter { !$0.isShuttingDown }.map(\.pid))
        let outcome = try await run(["-s", "reload"])
        guard outcome.succeeded else {
            throw CHOMError(.unavailable, "nginx -s reload failed: \(outcome.outputText.trimmingTrailingNewlines)")
        }
        let deadline = ContinuousClock.now + configuration.reloadSettleTimeout
        while !NginxProcesses.reloaded(NginxProcesses.children(of: master), previous: previous),
            ContinuousClock.now < deadline
        {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return .reloaded
    }

    private func run(_ arguments: [String]) async throws(CHOMError) -> CommandRunner.Outcome {
        var all = arguments + ["-c", configuration.mainConfig]
        if let prefix = configuration.prefix { all += ["-p", prefix.hasSuffix("/") ? prefix : prefix + "/"] }
        if let log = configuration.startupErrorLog { all += ["-e", log] }
        return try await runner.run(CommandRunner.Command(configuration.binary, all, timeout: configuration.commandTimeout))
    }
}
