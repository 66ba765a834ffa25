import CHOMCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A short command run to completion for a test (sqlite3, dig), its stdout and stderr together.
/// Started through `BackgroundServer.spawn` and waited for without blocking a cooperative thread.
package enum TestCommand {
    package struct Result: Sendable {
        /// The exit status, or 128 + the signal when it was killed.
        package var status: Int32
        package var output: String
    }

    /// Runs `executable` with `arguments`; killed (and `.unavailable`) after `timeout`.
    package static func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws -> Result {
        let directory = try TemporaryDirectory.make(prefix: "chom-cmd")
        defer { TemporaryDirectory.remove(directory) }
        let log = directory.appendingPathComponent("output").path
        let pid = try BackgroundServer.spawn(executable, arguments, log: log)
        let end = ContinuousClock.now + timeout
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < end else {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw CHOMError(.unavailable, "\(executable) did not finish within \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let signal = status & 0x7f
        return Result(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, output: output)
    }
}
