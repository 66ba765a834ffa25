import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `chom-bench fleet-agents --count N --enroll HOST:PORT --tokens FILE --ca-sha256 HEX --dir DIR`:
/// the worker of `chom-bench fleet`, in a process of its own so that the coordinator's memory and
/// CPU are measured apart: N agents, each the agent's own session code (`AgentSession`: mutual TLS,
/// the Connect stream, heartbeats, envelopes opened, journaled and answered) with no hosting, so a
/// task does nothing but its ping. Enrolls them (the tokens file holds one join token per line, each
/// good for up to 1,000), prints `enrolled N`, then runs them until it is stopped.
enum FleetAgents {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let count = Int(try options.value("--count")) ?? 0
        let enroll = try options.value("--enroll")
        let tokens = try String(contentsOfFile: try options.value("--tokens"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let caSHA256 = try options.value("--ca-sha256")
        let directory = URL(fileURLWithPath: try options.value("--dir"))
        try options.finish()
        guard count >= 1, let colon = enroll.lastIndex(of: ":"), let port = Int(enroll[enroll.index(after: colon)...]),
            !tokens.isEmpty
        else { throw ChildFailure(description: "fleet-agents: bad --count, --enroll or --tokens") }
        let host = String(enroll[..<colon])
        let logger = {
            var logger = Logger(label: "chom-bench.agents")
            logger.logLevel = .error
            return logger
        }()

        let configurations = (0..<count).map { index -> AgentConfiguration in
            let state = directory.appendingPathComponent("agent-\(index)")
            var configuration = AgentConfiguration(stateDirectory: state, sitesRoot: state.appendingPathComponent("sites"))
            configuration.metricsPort = 0
            configuration.heartbeatInterval = .seconds(10)
            configuration.inventoryInterval = .seconds(3600)
            return configuration
        }
        // Enrolled eight at a time.
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, configuration) in configurations.enumerated() {
                if index >= 8 { try await group.next() }
                group.addTask {
                    try await AgentRuntime.enroll(
                        configuration: configuration, host: host, port: port, token: tokens[index / 1000 % tokens.count],
                        caSHA256: caSHA256, name: "bench-\(index)", logger: logger)
                }
            }
            try await group.waitForAll()
        }
        FileHandle.standardOutput.write(Data("enrolled \(count) in \(started.duration(to: .now))\n".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for configuration in configurations {
                let session = AgentSession(
                    configuration: configuration, store: AgentIdentityStore(directory: configuration.identityDirectory),
                    journal: try Journal(directory: configuration.journalDirectory), metrics: AgentMetrics(),
                    ledger: ExecutionLedger(), clock: SystemWallClock(), logger: logger)
                group.addTask { try await session.run() }
            }
            try await group.waitForAll()
        }
    }
}

extension FleetAgents {
    /// Join tokens for `count` agents and this worker, started in a process of its own (stop it with
    /// `BackgroundServer.stop`); its log is `<work>/agents.log`.
    static func launch(_ count: Int, for coordinator: TestCoordinator, work: URL) async throws -> pid_t {
        var tokens: [String] = []
        for first in stride(from: 0, to: count, by: 1000) {
            tokens.append(try await coordinator.client.createJoinToken(
                CreateJoinTokenRequest(description: "bench", maxUses: min(1000, count - first))).token)
        }
        let tokenFile = work.appendingPathComponent("tokens")
        try Data(tokens.joined(separator: "\n").utf8).write(to: tokenFile)
        chmod(tokenFile.path, 0o600)
        return try BackgroundServer.spawn(
            ChildProcess.selfExecutable(),
            [
                "fleet-agents", "--count", "\(count)", "--enroll", "127.0.0.1:\(coordinator.ports.enroll)",
                "--tokens", tokenFile.path, "--ca-sha256", coordinator.caSHA256, "--dir",
                work.appendingPathComponent("agents").path,
            ],
            log: work.appendingPathComponent("agents.log").path)
    }

    /// Waits until `count` agents are online; their ids.
    static func online(_ count: Int, data: URL, timeout: Duration, log: URL) async throws -> [String] {
        let start = ContinuousClock.now
        while try await TestDatabase.count("SELECT count(*)::int8 FROM agents WHERE state = 'online'", dataDirectory: data) < count {
            if start.duration(to: .now) > timeout {
                throw ChildFailure(description: "the agents did not all come online; see \(log.path): \((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await TestDatabase.withClient(dataDirectory: data) { client in
            var ids: [String] = []
            for try await id in try await client.query("SELECT id::text FROM agents WHERE state = 'online' ORDER BY id").decode(String.self) {
                ids.append(id)
            }
            return ids
        }
    }
}
