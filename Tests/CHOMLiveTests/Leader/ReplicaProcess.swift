import CHOMCore
import CHOMTesting
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `chom-coordinator serve` process, a replica of a `LeaderReplicas` fleet (its database and
/// keys), on ports of its own that stay the same across restarts, so that agents dialing it find
/// it again. It can be killed with SIGKILL (no shutdown of any kind) and started again.
final class ReplicaProcess: Sendable {
    let name: String
    let api: Int
    let agents: Int
    let enroll: Int
    private let arguments: [String]
    private let directory: URL
    private let pid = Mutex<pid_t?>(nil)
    private let starts = Mutex(0)

    init(name: String, fleet: LeaderReplicas, configuration: String, databaseURL: String? = nil) throws {
        self.name = name
        api = try FreePort.next()
        agents = try FreePort.next()
        enroll = try FreePort.next()
        directory = fleet.directory
        let file = fleet.directory.appendingPathComponent("\(name).json")
        try Data(configuration.utf8).write(to: file)
        arguments = [
            "serve", "--config", file.path, "--data-dir", fleet.directory.appendingPathComponent("keys").path,
            "--database-url", databaseURL ?? fleet.databaseURL, "--api-host", "127.0.0.1", "--api-port", "\(api)",
            "--grpc-host", "127.0.0.1", "--grpc-port", "\(agents)", "--grpc-enroll-port", "\(enroll)",
            "--log-level", ProcessInfo.processInfo.environment["CHOM_REPLICA_LOG_LEVEL"] ?? "warning",
        ]
    }

    var apiURL: URL { URL(string: "http://127.0.0.1:\(api)")! }

    /// Starts the process and waits until its admin API answers.
    func start() async throws {
        let count = starts.withLock { value -> Int in
            value += 1
            return value
        }
        let log = directory.appendingPathComponent("\(name)-\(count).log").path
        let started = try BackgroundServer.spawn(
            try BuiltBinary.path("chom-coordinator", variable: "CHOM_COORDINATOR_BINARY"), arguments, log: log)
        pid.withLock { $0 = started }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let reply = try? await TestHTTP.request("GET", apiURL.appendingPathComponent("v1/health")), reply.status == 200 {
                return
            }
            var status: Int32 = 0
            if waitpid(started, &status, WNOHANG) == started {
                pid.withLock { $0 = nil }
                throw CHOMError(.unavailable, "replica \(name) exited at start: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CHOMError(.unavailable, "replica \(name) did not answer within 60 s: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
    }

    /// SIGKILL to the process (and its group), and reaps it.
    func kill9() {
        guard let running = pid.withLock({ value -> pid_t? in
            defer { value = nil }
            return value
        }) else { return }
        kill(-running, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(running, &status, 0)
    }

    /// `/metrics` as this replica serves it.
    func metrics() async -> String? {
        guard let reply = try? await TestHTTP.request("GET", apiURL.appendingPathComponent("metrics")), reply.status == 200
        else { return nil }
        return reply.text
    }

    /// A gauge without labels from `/metrics`; nil while the replica does not answer.
    func gauge(_ name: String) async -> Double? {
        guard let text = await metrics() else { return nil }
        return LeaderReplicas.Replica.gauge(name, in: text)
    }
}
