import Dispatch
import Foundation
import Glibc
package import CHOMCore
import Synchronization

/// Runs one program (no shell) to completion, off the cooperative pool, with a defined
/// environment, stdin from /dev/null, stdout and stderr captured together into a bounded tail,
/// and a timeout.
///
/// The child leads its own process group. On timeout (or cancellation of the calling task) the
/// whole group gets SIGTERM, then SIGKILL after `killGrace`. When the program exits on its own,
/// whatever it left running in its group (`sleep 100 &`) is killed too, unless
/// `killLeftovers` is off. A process that leaves the group (`setsid`, a daemon) escapes both;
/// its hold on the output pipe is waited for at most `killGrace`. Unless the command has a
/// `cgroup`: the program joins it before it execs, and every SIGKILL above (timeout,
/// cancellation, leftovers) is also a `cgroup.kill`, which no session or double fork escapes.
package struct CommandRunner: Sendable {
    package struct Command: Sendable {
        /// An absolute path: nothing is looked up on PATH.
        package var executable: String
        package var arguments: [String]
        /// The child's whole environment; nothing of the agent's is inherited.
        package var environment: [String: String]
        package var workingDirectory: String?
        package var timeout: Duration
        package var killGrace: Duration
        /// Bytes of output kept (the last ones).
        package var outputLimit: Int
        package var killLeftovers: Bool
        /// The cgroup the program joins (through `/bin/sh`, as the spawning user) before it execs.
        package var cgroup: RunCgroup?
        /// Supervised on a thread of its own rather than one of the shared pool's: for programs
        /// that run for the agent's lifetime (app processes, php-fpm masters), which would
        /// otherwise hold a pool thread each and starve short commands.
        package var longLived = false

        package init(
            _ executable: String, _ arguments: [String] = [],
            environment: [String: String] = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"],
            workingDirectory: String? = nil, timeout: Duration = .seconds(60), killGrace: Duration = .seconds(5),
            outputLimit: Int = 16 * 1024, killLeftovers: Bool = true, cgroup: RunCgroup? = nil
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.timeout = timeout
            self.killGrace = killGrace
            self.outputLimit = outputLimit
            self.killLeftovers = killLeftovers
            self.cgroup = cgroup
        }
    }

    package struct Outcome: Sendable, Equatable {
        package enum Termination: Sendable, Equatable {
            case exited(Int32)
            case signaled(Int32)
        }

        package var termination: Termination
        /// The deadline passed and the group was killed.
        package var timedOut: Bool
        /// The calling task was cancelled and the group was killed.
        package var cancelled: Bool
        /// The last `outputLimit` bytes of stdout and stderr, interleaved as written.
        package var output: [UInt8]
        /// Bytes of output that did not fit in the tail.
        package var droppedBytes: Int
        package var duration: Duration

        package var succeeded: Bool { termination == .exited(0) && !timedOut && !cancelled }
        package var outputText: String { String(decoding: output, as: UTF8.self) }
    }

    package init() {}

    /// Throws only when the program cannot be started; how it ended is in the outcome.
    package func run(_ command: Command) async throws(CHOMError) -> Outcome {
        let child = try Spawn.start(command)
        let stop = StopFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                if command.longLived {
                    let thread = Thread { continuation.resume(returning: Supervisor.supervise(child, command, stop: stop)) }
                    thread.stackSize = 256 * 1024
                    thread.start()
                } else {
                    DispatchQueue.global().async {
                        continuation.resume(returning: Supervisor.supervise(child, command, stop: stop))
                    }
                }
            }
        } onCancel: {
            stop.value.store(true, ordering: .relaxed)
        }
    }
}

/// Set from the cancellation handler, read by the supervising thread.
private final class StopFlag: Sendable {
    let value = Atomic(false)
}

/// The blocking side: one thread per running command polls the pipe, reaps the child and
/// enforces the deadline. Never on the cooperative pool.
private enum Supervisor {
    static func supervise(_ child: Spawn.Child, _ command: CommandRunner.Command, stop: StopFlag) -> CommandRunner.Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + command.timeout
        var tail = OutputTail(limit: command.outputLimit)
        var status: Int32?
        var exitedAt: ContinuousClock.Instant?
        var endOfOutput = false
        var timedOut = false
        var cancelled = false
        var terminatedAt: ContinuousClock.Instant?
        var killed = false
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var exitPause: useconds_t = 100

        while !(endOfOutput && status != nil) {
            if !endOfOutput {
                var poller = pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 50) > 0 {
                    let n = chunk.withUnsafeMutableBytes { Glibc.read(child.output, $0.baseAddress, $0.count) }
                    if n > 0 {
                        chunk.withUnsafeBytes { tail.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        endOfOutput = true
                    }
                }
            } else {
                // Output closed: the child is exiting. Reap it as soon as it has (from 0.1 ms,
                // doubling up to 10 ms), so a short command costs its own time, not a fixed tick.
                usleep(exitPause)
                exitPause = min(exitPause * 2, 10_000)
            }
            let now = clock.now
            if status == nil {
                var raw: Int32 = 0
                if waitpid(child.pid, &raw, WNOHANG) == child.pid {
                    status = raw
                    exitedAt = now
                    // The group outlives its leader while members remain, so the id is still ours.
                    if command.killLeftovers {
                        kill(-child.pid, SIGKILL)
                        command.cgroup?.kill()
                    }
                    continue
                }
                if terminatedAt == nil {
                    if now >= deadline { timedOut = true }
                    if stop.value.load(ordering: .relaxed) { cancelled = true }
                    if timedOut || cancelled {
                        kill(-child.pid, SIGTERM)
                        terminatedAt = now
                    }
                } else if !killed, let terminatedAt, now >= terminatedAt + command.killGrace {
                    kill(-child.pid, SIGKILL)
                    command.cgroup?.kill()
                    killed = true
                }
            } else if let exitedAt, now >= exitedAt + command.killGrace {
                break  // something outside the group still holds the pipe
            }
        }
        close(child.output)
        let raw = status ?? 0
        let termination: CommandRunner.Outcome.Termination =
            (raw & 0x7f) == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
        let output = tail.finish()
        return CommandRunner.Outcome(
            termination: termination, timedOut: timedOut, cancelled: cancelled, output: output,
            droppedBytes: tail.dropped, duration: clock.now - start)
    }
}
