import CHOMCore
import Foundation

#if canImport(Glibc)
    package import Glibc
#endif

/// A server a test runs as a child process (moto, LocalStack): found where its install script
/// puts it, started as the leader of a process group of its own with its output in a log file,
/// and stopped by group, so nothing it started outlives the test.
package enum BackgroundServer {
    /// `<serverVariable>`, else `$<venvVariable>/bin/<binary>`, else `<repository>/.build-tools/<venv>/bin/<binary>`;
    /// an `.unavailable` error naming `installScript` when it is not there (the test fails, it does not skip).
    static func locate(
        binary: String, serverVariable: String, venvVariable: String, venv: String, installScript: String
    ) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path =
            environment[serverVariable]
            ?? (environment[venvVariable] ?? repository.appendingPathComponent(".build-tools/\(venv)").path)
            + "/bin/\(binary)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CHOMError(
                .unavailable,
                "\(binary) not found at \(path): run \(installScript) (it prints the command's path), "
                    + "or set \(serverVariable) to that command")
        }
        return path
    }

    /// Starts `executable` as the leader of a new process group, stdin from /dev/null, stdout and
    /// stderr to `log`.
    package static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        try SpawnedDescriptors.closeAllButStandard(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        SpawnedSignals.reset(&attributes, flags: POSIX_SPAWN_SETPGROUP)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw CHOMError(.unavailable, "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// SIGTERM to the group, SIGKILL to the group after `grace` (or as soon as the leader is gone);
    /// waits without holding a cooperative-pool thread.
    package static func stop(_ pid: pid_t, grace: Duration) async {
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) != 0 {
                kill(-pid, SIGKILL)
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }
}
