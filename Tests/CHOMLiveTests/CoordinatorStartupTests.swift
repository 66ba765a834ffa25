import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Logging
import Testing

/// What a coordinator does when it cannot start: it stops, with an error that names the cause,
/// and never hangs (before the fix, one listener failing to bind could leave start-up waiting
/// forever on the other listener's address).
@Suite("Coordinator start-up failures")
struct CoordinatorStartupTests {
    enum Taken: String, CaseIterable, Sendable {
        case agents, enroll, api
    }

    @Test(
        "a coordinator whose agent, enrollment or API port is taken stops with an error naming the bind, every time",
        .timeLimit(.minutes(5)), arguments: Taken.allCases)
    func portTaken(_ taken: Taken) async throws {
        let held = try HeldPort()
        defer { held.close() }
        let directory = try TemporaryDirectory.make(prefix: "chom-bind")
        defer { TemporaryDirectory.remove(directory) }
        var configuration = TestCoordinator.configuration(directory: directory)
        switch taken {
        case .agents: configuration.grpc.port = held.port
        case .enroll: configuration.grpc.enrollPort = held.port
        case .api: configuration.api.port = held.port
        }
        // Several rounds: which listener's service starts first is up to the scheduler.
        for round in 1...4 {
            var logger = TestLogging.logger("chom.test.startup")
            logger[metadataKey: "test.round"] = "\(taken)/\(round)"
            let coordinator = Coordinator(
                configuration: configuration, logger: logger,
                clock: SystemWallClock(), bootstrapOperatorPassword: TestCoordinator.operatorPassword)
            let outcome: Result<Void, any Error>
            do {
                try await coordinator.run()
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            guard case .failure(let error) = outcome else {
                Issue.record("round \(round): the coordinator ran without its port")
                return
            }
            let chom = try #require(error as? CHOMError, "round \(round): \(error)")
            #expect(chom.code == .unavailable, "round \(round): \(chom)")
            #expect(chom.message.contains("could not bind"), "round \(round): \(chom.message)")
            let port = taken == .api ? configuration.api.port : held.port
            #expect(chom.message.contains("\(port)"), "round \(round): \(chom.message)")
            // Whoever waited for the ports hears the failure too.
            await #expect(throws: (any Error).self) { try await coordinator.boundPorts() }
        }
    }
}
