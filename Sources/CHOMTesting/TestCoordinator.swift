import CHOMAPI
package import CHOMCoordinator
package import CHOMCore
package import Foundation
package import Logging

/// A coordinator running in this process with an embedded PostgreSQL under a temporary
/// data directory and every listener on 127.0.0.1 port 0.
package struct TestCoordinator: Sendable {
    package let coordinator: Coordinator
    package let ports: Coordinator.BoundPorts
    /// A session token of the bootstrap platform operator, from a real login.
    package let operatorToken: String
    package let dataDirectory: URL

    package var apiURL: URL { URL(string: "http://127.0.0.1:\(ports.api)")! }
    package var caSHA256: String { coordinator.caSHA256 ?? "" }

    package static let operatorEmail = "operator@chom.test"
    package static let operatorPassword = "test-operator-password-0123"

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
        defer { if dataDirectory == nil { TemporaryDirectory.remove(directory) } }
        var configuration = Self.configuration(directory: directory)
        configure(&configuration)
        // A restarted coordinator on fixed ports may find them not yet released: retry binding
        // (up to about a minute: under a loaded suite a previous listener can take that long).
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await run(configuration, directory: directory, clock: clock, logger: logger, body)
            } catch let error as CHOMError where error.code == .unavailable && error.message.contains("bind")
                && attempt < 60
            {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The configuration `with` starts from: the data under `directory`, every listener on
    /// 127.0.0.1 port 0, the test operator, fast heartbeats and dispatch polls.
    package static func configuration(directory: URL) -> CoordinatorConfiguration {
        var configuration = CoordinatorConfiguration()
        configuration.dataDirectory = directory.path
        configuration.auth.bootstrapOperatorEmail = operatorEmail
        configuration.auth.bcryptCost = 4
        configuration.api.host = "127.0.0.1"
        configuration.api.port = 0
        configuration.grpc.host = "127.0.0.1"
        configuration.grpc.port = 0
        configuration.grpc.enrollPort = 0
        configuration.agents.heartbeatIntervalSeconds = 1
        configuration.agents.offlineGraceSeconds = 5
        // Agents here are on loopback: their sites are reached at 127.0.0.1.
        configuration.agents.allowInternalAddresses = true
        configuration.dispatch.pollIntervalSeconds = 0.5
        // Off unless a test is about failover: an agent a test stops must not have its sites
        // restored elsewhere behind the test's back (and with it off, agents hold no site lease).
        configuration.fleet.failoverEnabled = false
        return configuration
    }

    private static func run<Result: Sendable>(
        _ configuration: CoordinatorConfiguration, directory: URL, clock: any WallClock, logger: Logger,
        _ body: (TestCoordinator) async throws -> Result
    ) async throws -> Result {
        var logger = logger
        logger[metadataKey: "test.dir"] = "\(directory.lastPathComponent)"
        let coordinator = Coordinator(
            configuration: configuration, logger: logger, clock: clock, bootstrapOperatorPassword: operatorPassword)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await coordinator.run() }
            defer { group.cancelAll() }
            let ports = try await coordinator.boundPorts()
            let api = URL(string: "http://127.0.0.1:\(ports.api)")!
            let login = try await AdminClient(baseURL: api, token: nil).login(email: operatorEmail, password: operatorPassword)
            guard let token = login.token else { throw CHOMError(.internal, "the test operator could not sign in") }
            let handle = TestCoordinator(
                coordinator: coordinator, ports: ports, operatorToken: token, dataDirectory: directory)
            let result = try await body(handle)
            // Stop as SIGTERM does (the pool last); an error above cancels everything instead.
            await coordinator.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        }
    }
}

package enum TestLogging {
    /// Quiet unless CHOM_TEST_LOG is set (to a level, e.g. debug).
    package static func logger(_ label: String) -> Logger {
        let level = ProcessInfo.processInfo.environment["CHOM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        return Logger(label: label) { DeferredMetadataLogHandler(label: $0, level: level ?? .critical) }
    }
}
