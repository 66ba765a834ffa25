package import Foundation
import Synchronization

/// Runs a program (not a shell) with a given environment and a timeout, stdin from /dev/null,
/// stdout and stderr captured together, and waits without blocking the cooperative pool.
package enum ProcessRun {
    package struct Result: Sendable {
        package var status: Int32
        package var timedOut: Bool
        package var output: String
        /// The last 4 KiB of the output, for messages.
        package var outputTail: String { String(output.suffix(4096)) }
    }

    package static func run(
        _ executable: String, arguments: [String], environment: [String: String], directory: URL? = nil,
        timeout: Duration
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let collected = Mutex(Data())
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            guard !chunk.isEmpty else { return }
            collected.withLock { data in
                data.append(chunk)
                if data.count > 1 << 20 { data.removeFirst(data.count - (1 << 20)) }
            }
        }
        let timedOut = Mutex(false)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let pid = process.processIdentifier
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                guard process.isRunning else { return }
                timedOut.withLock { $0 = true }
                kill(pid, SIGKILL)
            }
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = (try? pipe.fileHandleForReading.readToEnd()) ?? nil
        let data = collected.withLock { data in
            if let rest { data.append(rest) }
            return data
        }
        return Result(status: status, timedOut: timedOut.withLock { $0 }, output: String(decoding: data, as: UTF8.self))
    }
}
