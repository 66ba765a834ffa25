package import CHOMCoordinator
package import CHOMCore
package import Foundation
package import Logging

/// A coordinator running in this process with an embedded PostgreSQL under a temporary
/// data directory and every listener on 127.0.0.1 port 0.
package struct TestCoordinator: Sendable {
    package let coordinator: Coordinator
    package let ports: Coordinator.BoundPorts
    package let bootstrapToken: String
    package let dataDirectory: URL

    package var apiURL: URL { URL(string: "http://127.0.0.1:\(ports.api)")! }
    package var caSHA256: String { coordinator.caSHA256 ?? "" }

    package static let defaultToken = "test-bootstrap-token-0123456789abcdef"

    /// Runs `body` against a started coordinator and stops it afterwards (PostgreSQL too).
    /// Pass the same `dataDirectory` twice to restart a coordinator on its own state.
    package static func with<Result: Sendable>(
        dataDirectory: URL? = nil,
        clock: any WallClock = SystemWallClock(),
        logger: Logger = TestLogging.logger("chom.test.coordinator"),
        configure: (inout CoordinatorConfiguration) -> Void = { _ in },
        _ body: (TestCoordinator) async throws -> Result
    ) async throws -> Result {
        let directory = try dataDirectory ?? TemporaryDirectory.make(prefix: "chom-coord")
        var configuration = CoordinatorConfiguration()
        configuration.dataDirectory = directory.path
        configuration.bootstrapToken = defaultToken
        configuration.bootstrapTokenFile = nil
        configuration.api.host = "127.0.0.1"
        configuration.api.port = 0
        configuration.grpc.host = "127.0.0.1"
        configuration.grpc.port = 0
        configuration.grpc.enrollPort = 0
        configuration.agents.heartbeatIntervalSeconds = 1
        configuration.agents.offlineGraceSeconds = 5
        configuration.dispatch.pollIntervalSeconds = 0.5
        configure(&configuration)
        // A restarted coordinator on fixed ports may find them not yet released: retry binding briefly.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await run(configuration, directory: directory, clock: clock, logger: logger, body)
            } catch let error as CHOMError where error.code == .unavailable && error.message.contains("bind")
                && attempt < 25
            {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private static func run<Result: Sendable>(
        _ configuration: CoordinatorConfiguration, directory: URL, clock: any WallClock, logger: Logger,
        _ body: (TestCoordinator) async throws -> Result
    ) async throws -> Result {
        let coordinator = Coordinator(configuration: configuration, logger: logger, clock: clock)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await coordinator.run() }
            defer { group.cancelAll() }
            let ports = try await coordinator.boundPorts()
            let handle = TestCoordinator(
                coordinator: coordinator, ports: ports, bootstrapToken: configuration.bootstrapToken ?? "",
                dataDirectory: directory)
            let result = try await body(handle)
            group.cancelAll()
            try await group.waitForAll()
            return result
        }
    }
}

package enum TestLogging {
    /// Quiet unless CHOM_TEST_LOG is set (to a level, e.g. debug).
    package static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["CHOM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }
}
