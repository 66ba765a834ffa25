/// A build hook that did not succeed. `description` says how it ended, never what it printed;
/// the output's last bytes are in `logTail` for the deploy log.
package struct HookFailure: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    package enum Reason: Sendable, Equatable {
        /// Refused before anything ran (an empty hook, a root account, no cgroup to contain it).
        case refused(String)
        /// The program could not be started.
        case notStarted(String)
        case exited(Int32)
        case signaled(Int32)
        case timedOut(Duration)
        case cancelled
        /// The run was refused a new process by its limit (a fork bomb, or too parallel a build).
        case processLimit(Int)
        /// The kernel killed a process of the run for going past its memory limit (bytes).
        case memoryLimit(Int)
        /// The run's processes could not all be killed, or its cgroup not removed.
        case notCleanedUp(String)
    }

    package var reason: Reason
    package var logTail: String

    package init(_ reason: Reason, logTail: String = "") {
        self.reason = reason
        self.logTail = logTail
    }

    package var description: String {
        switch reason {
        case .refused(let why): "build hook refused: \(why)"
        case .notStarted(let why): "build hook could not start: \(why)"
        case .exited(let code): "build hook failed with exit code \(code)"
        case .signaled(let signal): "build hook was killed by signal \(signal)"
        case .timedOut(let limit): "build hook timed out after \(limit.secondsText) and was killed"
        case .cancelled: "build hook was cancelled and killed"
        case .processLimit(let limit): "build hook reached its limit of \(limit) processes and was killed"
        case .memoryLimit(let bytes): "build hook went past its memory limit of \(bytes >> 20) MiB and was killed"
        case .notCleanedUp(let why): "build hook's processes could not be cleaned up: \(why)"
        }
    }

    package var debugDescription: String { logTail.isEmpty ? description : "\(description); log tail:\n\(logTail)" }
}
