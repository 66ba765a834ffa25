package import CHOMAgent
package import Foundation
import Glibc

/// A php-fpm master for live tests, with its own main configuration, pool directory, run
/// directory and pid file under /tmp. php-fpm will not start without a pool, so install one
/// (``PhpFpmController/install(_:)``) before ``startMaster()``; always ``stop()``.
package final class TestPhpFpm: Sendable {
    package static var binary: String? { PhpFpmController().binary }

    package let directory: URL
    package var mainConfig: URL { directory.appendingPathComponent("php-fpm.conf") }
    package var poolDirectory: URL { directory.appendingPathComponent("pool.d", isDirectory: true) }
    /// Short, so socket paths stay under 108 bytes.
    package var runDirectory: URL { directory.appendingPathComponent("run", isDirectory: true) }
    package var pidFile: URL { directory.appendingPathComponent("php-fpm.pid") }
    package var log: URL { directory.appendingPathComponent("php-fpm.log") }

    package init() throws {
        directory = try TemporaryDirectory.make(prefix: "h-fpm")
        try FileManager.default.createDirectory(at: poolDirectory, withIntermediateDirectories: true)
        let text = """
            [global]
            pid = \(pidFile.path)
            error_log = \(log.path)
            daemonize = yes
            include = \(poolDirectory.path)/*.conf

            """
        try Data(text.utf8).write(to: mainConfig)
    }

    package var controllerConfiguration: PhpFpmController.Configuration {
        var configuration = PhpFpmController.Configuration()
        configuration.mainConfig = mainConfig.path
        configuration.poolDirectory = poolDirectory.path
        configuration.runDirectory = runDirectory.path
        configuration.pidFile = pidFile.path
        return configuration
    }

    /// Starts the master (it daemonizes once its pools are up).
    package func startMaster() async throws {
        guard let binary = Self.binary else { throw ManagedNginxError(message: PhpFpmController.notInstalled) }
        let outcome = try await CommandRunner().run(
            CommandRunner.Command(binary, ["-y", mainConfig.path], timeout: .seconds(20), killLeftovers: false))
        guard outcome.succeeded, PidFile.runningProcess(pidFile.path) != nil else {
            let log = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw ManagedNginxError(message: "php-fpm did not start: \(outcome.outputText)\(log)")
        }
    }

    /// SIGQUIT (graceful), waits for the pid file to go, deletes the directory.
    package func stop() async {
        if let pid = PidFile.runningProcess(pidFile.path) {
            kill(pid, SIGQUIT)
            for _ in 0..<200 where FileManager.default.fileExists(atPath: pidFile.path) {
                try? await Task.sleep(for: .milliseconds(25))
            }
            if FileManager.default.fileExists(atPath: pidFile.path) { kill(pid, SIGKILL) }
        }
        TemporaryDirectory.remove(directory)
    }
}
