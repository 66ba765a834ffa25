#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import CHOMCore

/// A measured child process (or pipeline): wall time from the first spawn to the last reap, and
/// each process's peak resident set size (`ru_maxrss`, KiB on Linux).
///
/// The peak comes from `/usr/bin/time -f %M` wrapped around each command, not from our own
/// `wait4`: Linux records the peak RSS of the address space a process had before `exec` into the
/// new program's `ru_maxrss`, and `posix_spawn` runs the child on the parent's address space
/// until `exec`, so every child would report at least this process's own peak (~30 MB; `tar`
/// showed 30 MB instead of 3). `time` forks from its own small address space (~1 MB floor).
struct ChildRun {
    var wall: Duration
    var peakRSSKiB: [Int]

    /// The largest peak among the processes (for a pipeline, the hungriest side).
    var maxRSSKiB: Int { peakRSSKiB.max() ?? 0 }
}

struct ChildFailure: Error, CustomStringConvertible {
    var description: String
}

/// One command of a run: argv (looked up on PATH), extra environment, where its output goes.
struct Command {
    var argv: [String]
    var environment: [String: String] = [:]
    /// Appended to (stdout and stderr both); /dev/null when nil.
    var log: String?
    /// Output goes where this process's goes (`log` is then ignored), for `chom-bench all`'s children.
    var inheritOutput = false

    var display: String { argv.joined(separator: " ") }
}

enum ChildProcess {
    /// Runs one command, or several connected stdout → stdin as a pipeline, and waits for all.
    /// Throws when any exits non-zero or dies from a signal (the log names the reason).
    static func run(_ commands: [Command]) throws -> ChildRun {
        precondition(!commands.isEmpty)
        let rssFiles = commands.map { _ in
            FileManager.default.temporaryDirectory.appendingPathComponent("chom-bench-rss-\(UUID().uuidString)").path
        }
        defer { rssFiles.forEach { unlink($0) } }
        var pids: [pid_t] = []
        var previousRead: Int32 = -1
        let start = ContinuousClock.now
        for (index, command) in commands.enumerated() {
            var pipeFDs: [Int32] = [-1, -1]
            let isLast = index == commands.count - 1
            if !isLast {
                // Close-on-exec, so only the dup2'd ends reach the children (else the reader never
                // sees end of file). pipe2 is not imported; nothing else spawns meanwhile.
                guard pipe(&pipeFDs) == 0 else { throw ChildFailure(description: "pipe: errno \(errno)") }
                for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            }
            var measured = command
            measured.argv = [timeProgram, "-f", "%M", "-o", rssFiles[index]] + command.argv
            let pid = try spawn(measured, stdin: previousRead, stdout: isLast ? -1 : pipeFDs[1])
            pids.append(pid)
            if previousRead >= 0 { close(previousRead) }
            if !isLast { close(pipeFDs[1]) }
            previousRead = isLast ? -1 : pipeFDs[0]
        }
        var peaks: [Int] = []
        var failures: [String] = []
        for (index, (pid, command)) in zip(pids, commands).enumerated() {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw ChildFailure(description: "waitpid: errno \(errno)") }
            }
            // time writes "Command exited with non-zero status N" first when it did; %M is last.
            let report = (try? String(contentsOfFile: rssFiles[index], encoding: .utf8)) ?? ""
            peaks.append(report.split(whereSeparator: \.isNewline).last.flatMap { Int($0) } ?? 0)
            let signal = status & 0x7f
            let code = (status >> 8) & 0xff
            if signal != 0 {
                failures.append("\(command.display): killed by signal \(signal)")
            } else if code != 0 {
                failures.append("\(command.display): exit status \(code)" + (command.log.map { " (see \($0))" } ?? ""))
            }
        }
        let wall = ContinuousClock.now - start
        guard failures.isEmpty else { throw ChildFailure(description: failures.joined(separator: "; ")) }
        return ChildRun(wall: wall, peakRSSKiB: peaks)
    }

    private static func spawn(_ command: Command, stdin: Int32, stdout: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let log = command.log ?? "/dev/null"
        if stdin >= 0 {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if stdout >= 0 {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        } else if !command.inheritOutput {
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        if !command.inheritOutput {
            posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        do {
            try SpawnedDescriptors.closeAllButStandard(&actions)
        } catch {
            throw ChildFailure(description: "\(error)")
        }

        var environment = ProcessInfo.processInfo.environment
        for (key, value) in command.environment { environment[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = command.argv.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        SpawnedSignals.reset(&attributes)
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, command.argv[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw ChildFailure(description: "cannot start \(command.argv[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// GNU time (Debian's `time` package), which reports the peak RSS of the command it runs.
    static let timeProgram = "/usr/bin/time"

    /// The absolute path of a program on PATH, or nil.
    static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// This executable, for running the hidden worker subcommand.
    static func selfExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
