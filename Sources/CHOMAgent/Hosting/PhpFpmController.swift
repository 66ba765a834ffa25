import Glibc
package import CHOMCore

/// Writes, checks and removes per-site pool files in php-fpm's pool directory, the way
/// ``NginxController`` does for server blocks: atomic write, `php-fpm -t -y <main config>`,
/// the previous file back on refusal (the error holds php-fpm's own message), then a reload of
/// the running master (SIGUSR2 to the pid in `pidFile`). Starting php-fpm is left to the caller;
/// ``ReloadOutcome/notRunning`` says when no master ran. Removing the last pool (php-fpm refuses
/// a configuration without one) stops the master: ``ReloadOutcome/stopped``. One change at a time.
package actor PhpFpmController {
    package struct Configuration: Sendable {
        /// The php-fpm binary; nil looks for `php-fpm8.2`, `php-fpm` and other versions in /usr/sbin.
        package var binary: String?
        /// `-y`.
        package var mainConfig = "/etc/php/8.2/fpm/php-fpm.conf"
        /// The directory the main configuration includes (`include=…/pool.d/*.conf`).
        package var poolDirectory = "/etc/php/8.2/fpm/pool.d"
        /// Where the pools' sockets go.
        package var runDirectory = "/run/php"
        package var pidFile = "/run/php/php8.2-fpm.pid"
        package var commandTimeout: Duration = .seconds(30)

        package init() {}
    }

    package static let notInstalled = "php-fpm is not installed on this agent"

    package let configuration: Configuration
    private let runner = CommandRunner()
    private let gate = SerialGate()

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
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

    package nonisolated func file(for user: SiteUserName) -> String {
        "\(configuration.poolDirectory)/\(user.rawValue).conf"
    }

    /// Writes the pool's file and reloads php-fpm. The site user must exist (php-fpm checks it).
    package func install(_ pool: PhpFpmPool) async throws(CHOMError) -> ReloadOutcome {
        let binary = try installed()
        let text = try pool.render()
        let path = file(for: pool.user)
        return try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            if mkdir(configuration.runDirectory, 0o755) != 0 && errno != EEXIST {  // not a tenant path: php-fpm's configuration and run directories
                throw CHOMError(.internal, "cannot create \(configuration.runDirectory)")
            }
            let previous = try AtomicFile.read(path)
            try AtomicFile.write(text, to: path)  // not a tenant path: php-fpm's configuration and run directories
            try await checkOrRestore(binary, path: path, previous: previous, change: "the pool \(pool.user)")
            return reloadIfRunning()
        }
    }

    /// Removes the site's pool file and reloads; no file is fine.
    package func remove(_ user: SiteUserName) async throws(CHOMError) -> ReloadOutcome {
        let binary = try installed()
        let path = file(for: user)
        return try await gate.withGate { () async throws(CHOMError) -> ReloadOutcome in
            guard let previous = try AtomicFile.read(path) else { return .unchanged }
            try AtomicFile.remove(path)
            do throws(CHOMError) {
                try await checkOrRestore(binary, path: path, previous: previous, change: "the removal of pool \(user)")
            } catch {
                guard error.message.contains("No pool defined") else { throw error }
                // The last pool went: php-fpm cannot run without one. Keep the removal, stop the master.
                try AtomicFile.remove(path)
                return stopIfRunning()
            }
            return reloadIfRunning()
        }
    }

    private func installed() throws(CHOMError) -> String {
        guard let binary else { throw CHOMError(.unavailable, Self.notInstalled) }
        return binary
    }

    private func checkOrRestore(_ binary: String, path: String, previous: String?, change: String) async throws(CHOMError) {
        let outcome = try await runner.run(
            CommandRunner.Command(binary, ["-t", "-y", configuration.mainConfig], timeout: configuration.commandTimeout))
        guard !outcome.succeeded else { return }
        if let previous { try AtomicFile.write(previous, to: path) } else { try AtomicFile.remove(path) }  // not a tenant path: php-fpm's configuration and run directories
        let reason = outcome.timedOut ? "php-fpm -t timed out" : outcome.outputText.trimmingTrailingNewlines
        throw CHOMError(.invalidInput, "php-fpm rejected \(change); the previous configuration was kept: \(reason)")
    }

    /// SIGQUIT: the master lets its workers finish their requests, then exits.
    private func stopIfRunning() -> ReloadOutcome {
        guard let pid = PidFile.runningProcess(configuration.pidFile), kill(pid, SIGQUIT) == 0 else { return .notRunning }
        return .stopped
    }

    /// SIGUSR2: the master re-reads its configuration and replaces its workers gracefully.
    private func reloadIfRunning() -> ReloadOutcome {
        guard let pid = PidFile.runningProcess(configuration.pidFile), kill(pid, SIGUSR2) == 0 else { return .notRunning }
        return .reloaded
    }
}
