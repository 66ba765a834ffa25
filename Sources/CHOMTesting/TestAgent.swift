package import CHOMAgent
import CHOMCoordinator
package import CHOMCore
package import Foundation
package import Logging

/// An agent running in this process with its own state directory and sites root, enrolled
/// against a `TestCoordinator` with a fresh join token, metrics on 127.0.0.1 port 0.
package struct TestAgent: Sendable {
    package let runtime: AgentRuntime
    package let agentID: AgentID
    package let stateDirectory: URL
    package var sitesRoot: URL { runtime.configuration.sitesRoot }

    /// Enrolls (unless `stateDirectory` already holds an identity) and runs the agent while `body` runs.
    package static func with<Result: Sendable>(
        coordinator: TestCoordinator,
        name: String = "test-agent",
        stateDirectory: URL? = nil,
        clock: any WallClock = SystemWallClock(),
        logger: Logger = TestLogging.logger("chom.test.agent"),
        configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: (TestAgent) async throws -> Result
    ) async throws -> Result {
        let directory = try stateDirectory ?? TemporaryDirectory.make(prefix: "chom-agent")
        defer { if stateDirectory == nil { TemporaryDirectory.remove(directory) } }
        var configuration = AgentConfiguration(
            stateDirectory: directory, sitesRoot: directory.appendingPathComponent("sites"))
        configuration.metricsPort = 0
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.reconnect.minimumDelay = .milliseconds(50)
        configuration.reconnect.maximumDelay = .milliseconds(500)
        configure(&configuration)
        let runtime = AgentRuntime(configuration: configuration, logger: logger, clock: clock)
        if !runtime.isEnrolled {
            let token = try await coordinator.createJoinToken()
            try await AgentRuntime.enroll(
                configuration: configuration, host: "127.0.0.1", port: coordinator.ports.enroll, token: token,
                caSHA256: coordinator.caSHA256, name: name, logger: logger, clock: clock)
        }
        let agentID = try AgentIdentityStore(directory: configuration.identityDirectory).load()?.agentID
        guard let agentID else { throw CHOMError(.internal, "enrollment stored no identity") }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runtime.run() }
            defer { group.cancelAll() }
            let agent = TestAgent(runtime: runtime, agentID: agentID, stateDirectory: directory)
            let result = try await body(agent)
            group.cancelAll()
            try? await group.waitForAll()
            return result
        }
    }
}
