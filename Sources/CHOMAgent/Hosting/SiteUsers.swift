package import CHOMCore

/// Creates and removes the Linux user (and its own group) each site runs as.
///
/// A site user is a system account named by ``SiteUserName`` (`chom_3f2a9c41b7d0`), with a group
/// of the same name, no login shell (`/usr/sbin/nologin`), no password and the site directory as
/// home (not created by useradd: ``SiteTree`` owns the directory). It is never a member of the
/// web server's group or of another site's group, which is what keeps sites apart (see
/// ``SiteTree``).
///
/// Both operations are idempotent: an existing user is reused with the uid and gid it has, so a
/// retried task or a re-run after a crash is harmless; removing a missing user is not an error.
/// useradd and userdel lock /etc/passwd and fail at once when someone else holds the lock (apt,
/// another site): those failures are retried.
package struct SiteUsers: Sendable {
    package struct Configuration: Sendable {
        package var useradd = "/usr/sbin/useradd"
        package var userdel = "/usr/sbin/userdel"
        package var groupdel = "/usr/sbin/groupdel"
        package var shell = "/usr/sbin/nologin"
        package var commandTimeout: Duration = .seconds(30)
        /// Attempts while /etc/passwd or /etc/group is locked by someone else.
        package var lockAttempts = 20
        /// How long a userdel that finds the user busy (a killed process not reaped yet) is retried.
        package var busyRetry: Duration = .seconds(5)
        package var groupadd = "/usr/sbin/groupadd"
        /// Where new users' ids come from: never one given before (``SiteUIDs``). Nil leaves the
        /// choice to `useradd --system` (tests that make throwaway users).
        package var uids: SiteUIDs?

        package init() {}
    }

    package var configuration: Configuration
    private let runner = CommandRunner()

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The site's account, created when missing.
    package func ensure(_ name: SiteUserName, home: String) async throws(CHOMError) -> SiteAccount {
        if let existing = SiteAccount.lookup(name.rawValue) { return existing }
        try SiteSpec.checkPath(home, .root, as: "home")
        let common = [
            "--system", "--no-create-home", "--home-dir", home, "--shell", configuration.shell, "--comment", "CHOM site",
        ]
        var result: CommandRunner.Outcome?
        if let uids = configuration.uids {
            // A fresh id for the user and, the same number, for its group; another agent on this
            // host may take one at the same moment (exit 4: id in use): take the next.
            var attempt = 0
            repeat {
                attempt += 1
                let id = try uids.take()
                if SiteAccount.groupID(name.rawValue) == nil {
                    let group = try await runLocked(configuration.groupadd, ["--system", "--gid", String(id), name.rawValue])
                    if group.termination == .exited(4) { continue }
                    guard group.succeeded || group.termination == .exited(9) else {
                        throw CHOMError(.internal, "groupadd \(name) failed: \(Self.text(group))")
                    }
                }
                let added = try await runLocked(
                    configuration.useradd, common + ["--uid", String(id), "--gid", name.rawValue, name.rawValue])
                result = added
                if added.termination != .exited(4) { break }
            } while attempt < 8
        } else {
            result = try await runLocked(configuration.useradd, common + ["--user-group", name.rawValue])
        }
        guard let outcome = result else {
            throw CHOMError(.internal, "groupadd \(name): every id tried was taken meanwhile")
        }
        // 9: the name was taken meanwhile, by a concurrent ensure of the same site.
        guard outcome.succeeded || outcome.termination == .exited(9) else {
            throw CHOMError(.internal, "useradd \(name) failed: \(Self.text(outcome))")
        }
        guard let account = SiteAccount.lookup(name.rawValue) else {
            throw CHOMError(.internal, "useradd \(name) succeeded but the user cannot be looked up")
        }
        return account
    }

    /// Removes the user and its group; the home directory is left to the caller. Fails when a
    /// process still runs as the user (stop the site's php-fpm pool or app first).
    package func remove(_ name: SiteUserName) async throws(CHOMError) {
        if SiteAccount.lookup(name.rawValue) != nil {
            // userdel counts a killed process that its parent has not reaped yet (a zombie) as one
            // still running as the user: on a busy host that lasts a moment, so a busy answer is
            // asked again for up to `busyRetry` before it is an error.
            let deadline = ContinuousClock.now + configuration.busyRetry
            while true {
                let outcome = try await runLocked(configuration.userdel, [name.rawValue])
                switch outcome.termination {
                case .exited(0), .exited(6): break  // 6: no such user (removed meanwhile)
                case .exited(8):
                    guard ContinuousClock.now < deadline else {
                        throw CHOMError(.conflict, "userdel \(name): processes still run as the user")
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                default: throw CHOMError(.internal, "userdel \(name) failed: \(Self.text(outcome))")
                }
                break
            }
        }
        // userdel drops the user's own group when USERGROUPS_ENAB is on (Debian's default).
        if SiteAccount.groupID(name.rawValue) != nil {
            let outcome = try await runLocked(configuration.groupdel, [name.rawValue])
            guard outcome.succeeded || outcome.termination == .exited(6) else {
                throw CHOMError(.internal, "groupdel \(name) failed: \(Self.text(outcome))")
            }
        }
    }

    /// Runs a shadow-utils command, again while it reports a locked password or group file.
    private func runLocked(_ executable: String, _ arguments: [String]) async throws(CHOMError) -> CommandRunner.Outcome {
        var attempt = 0
        while true {
            attempt += 1
            let outcome = try await runner.run(
                CommandRunner.Command(executable, arguments, timeout: configuration.commandTimeout))
            let locked = outcome.outputText.contains("cannot lock") || outcome.outputText.contains("try again later")
            guard !outcome.succeeded, locked, attempt < configuration.lockAttempts else { return outcome }
            try? await Task.sleep(for: .milliseconds(50 * min(attempt, 10)))
        }
    }

    private static func text(_ outcome: CommandRunner.Outcome) -> String {
        let output = outcome.outputText.trimmingTrailingNewlines
        let status =
            switch outcome.termination {
            case .exited(let code): "exit code \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        return output.isEmpty ? status : "\(status): \(output)"
    }
}
