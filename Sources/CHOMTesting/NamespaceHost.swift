package import CHOMAgent
import CHOMCoordinator
package import CHOMCore
package import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One "host" of a ``NamespaceHarness``: a network namespace with its own address, where a real
/// `chom-agent` process runs with its own state directory, sites root and managed nginx on port 80.
/// The agent is started with ``BackgroundServer`` (its own process group, output in ``agentLog``)
/// through `nsenter --net`, so that it, its nginx and everything they start live in the namespace.
///
/// The failure tests stop, kill, restart and partition hosts through it.
package final class NamespaceHost: Sendable {
    package let index: Int
    /// The namespace's name (`chomh-<run>-<index>`); also the agent's name at the coordinator.
    package let name: String
    /// Its address on the bridge (198.18.K.1x); its nginx listens on port 80 there.
    package let address: String
    /// Under /tmp, named after the namespace; removed when the harness ends.
    package let directory: URL
    let network: NamespaceNetwork
    /// Appended to every `chom-agent run` of this host (e.g. `--heartbeat-interval 1`).
    let runArguments: [String]
    private let agent = Mutex<AgentState>(AgentState())

    private struct AgentState {
        var pid: pid_t?
        var agentID: AgentID?
        var starts = 0
    }

    init(slot: NamespaceNetwork.Slot, network: NamespaceNetwork, runArguments: [String] = []) throws {
        self.runArguments = runArguments
        index = slot.index
        name = slot.namespace
        address = slot.address
        self.network = network
        directory = try TemporaryDirectory.make(prefix: slot.namespace)
        // The hosts share one kernel, so one process table: a uid one host gives a site user must
        // not be one another host gives, or removing a site on one would end the other's php-fpm
        // (`UserProcesses` acts on every process of the uid). Each host's ids start in a range of
        // its own (`SiteUIDs` never goes below the recorded next id).
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        chmod(stateDirectory.path, 0o700)
        try Data("\(SiteUIDs.defaultRange.lowerBound + UInt32(slot.index) * 1_000_000)\n".utf8)
            .write(to: stateDirectory.appendingPathComponent("site-uids.next"))
    }

    package var stateDirectory: URL { directory.appendingPathComponent("state", isDirectory: true) }
    package var sitesRoot: URL { directory.appendingPathComponent("sites", isDirectory: true) }
    /// The agent's stdout and stderr, of its latest start (earlier ones: `agent.log.1`, `.2`, …):
    /// read it when a test fails.
    package var agentLog: URL { directory.appendingPathComponent("agent.log") }
    /// The error log of the agent's nginx.
    package var nginxErrorLog: URL { stateDirectory.appendingPathComponent("nginx/logs/error.log") }
    /// `http://<address>/`.
    package var baseURL: URL { URL(string: "http://\(address)/")! }

    /// Known once the agent has enrolled.
    package var agentID: AgentID? { agent.withLock { $0.agentID } }
    /// The agent process's id while it runs (it leads its process group).
    package var agentPID: pid_t? { agent.withLock { $0.pid } }

    /// Enrolls the agent with `coordinator` (listening on the gateway) with a fresh join token.
    func enroll(coordinator: TestCoordinator) async throws -> AgentID {
        let token = try await coordinator.createJoinToken()
        let outcome = try await run(
            [
                try Self.agentBinary(), "enroll", "--coordinator", "\(network.gateway):\(coordinator.ports.enroll)",
                "--ca-sha256", coordinator.caSHA256, "--name", name,
            ] + directoryArguments,
            environment: ["CHOM_JOIN_TOKEN": token], timeout: .seconds(60))
        guard outcome.succeeded else {
            throw CHOMError(.unavailable, "chom-agent enroll failed in \(name): \(outcome.outputText)")
        }
        guard let id = try AgentIdentityStore(directory: stateDirectory.appendingPathComponent("identity")).load()?.agentID
        else { throw CHOMError(.internal, "chom-agent enroll stored no identity in \(stateDirectory.path)") }
        agent.withLock { $0.agentID = id }
        return id
    }

    /// Starts `chom-agent run` in the namespace (enrolled before). Throws when it already runs.
    package func startAgent() throws {
        let binary = try Self.agentBinary()
        let log = agentLog.path
        try agent.withLock { state in
            guard state.pid == nil else { throw CHOMError(.conflict, "the agent of \(name) runs already") }
            // BackgroundServer truncates its log: an earlier run's is kept as agent.log.<n>.
            if state.starts > 0 { try? FileManager.default.moveItem(atPath: log, toPath: "\(log).\(state.starts)") }
            state.starts += 1
            state.pid = try BackgroundServer.spawn(
                Self.nsenterBinary,
                namespaceOptions + ["--", binary, "run"] + directoryArguments + [
                    "--metrics-host", "0.0.0.0", "--hosting", "managed", "--http-port", "80", "--https-port", "443",
                    // Where its sites are reached: DNS records and a migration's proxy point here.
                    "--public-address", address,
                    // Reconciliation acts within seconds, as the in-process tests' agents do.
                    "--inventory-interval", "2",
                ] + runArguments,
                log: log)
        }
    }

    /// SIGTERM to the agent's group and waits (a running task finishes first); SIGKILL after `grace`.
    /// The agent stops its nginx itself.
    package func stopAgent(grace: Duration = .seconds(15)) async {
        guard let pid = takePID() else { return }
        await BackgroundServer.stop(pid, grace: grace)
    }

    /// The agent process alone dies (SIGKILL to its process group), as in an OOM kill or a crash of
    /// the agent only: its nginx, a daemon in a session of its own, goes on serving.
    package func killAgent() async {
        guard let pid = takePID() else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// The host crashes: SIGKILL to every process in its namespace (agent, nginx, php-fpm, apps).
    /// Its state and sites stay on disk, as on a VPS that lost power; ``restartAgent()`` boots it.
    package func kill() async throws {
        try await network.killProcesses(index)
        if let pid = takePID() {
            await BackgroundServer.stop(pid, grace: .seconds(5))
        }
    }

    /// The agent's pid, forgotten here: the caller stops and reaps the process.
    private func takePID() -> pid_t? {
        agent.withLock { state in
            let pid = state.pid
            state.pid = nil
            return pid
        }
    }

    /// Stops the agent (gracefully) and starts it again on the same state.
    package func restartAgent() async throws {
        await stopAgent()
        try startAgent()
    }

    /// Cuts the host off the bridge: a partition, not a crash (processes keep running).
    package func disconnect() async throws { try await network.disconnect(index) }

    package func reconnect() async throws { try await network.reconnect(index) }

    /// Cuts only the host's way to the coordinator's agent listener: inside its namespace, TCP to
    /// `port` on the gateway is routed into a blackhole (policy routing on the destination port),
    /// while visitors on the bridge still reach its nginx and get its answers.
    package func cutCoordinator(port: Int) async throws {
        for arguments in [
            ["ip", "route", "replace", "blackhole", "\(network.gateway)/32", "table", "100"],
            ["ip", "rule", "add", "priority", "100", "to", "\(network.gateway)/32", "ipproto", "tcp", "dport", "\(port)",
                "lookup", "100"],
        ] {
            let outcome = try await run(arguments)
            guard outcome.succeeded else { throw CHOMError(.unavailable, "\(arguments): \(outcome.outputText)") }
        }
    }

    /// Undoes ``cutCoordinator(port:)``.
    package func restoreCoordinator() async throws {
        let outcome = try await run(["ip", "rule", "del", "priority", "100"])
        guard outcome.succeeded else { throw CHOMError(.unavailable, "ip rule del: \(outcome.outputText)") }
    }

    /// Runs a program in the namespace (no shell; `arguments[0]` an absolute path or a name on PATH).
    package func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)
    ) async throws -> CommandRunner.Outcome {
        var variables = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
        variables.merge(environment) { $1 }
        return try await CommandRunner().run(
            CommandRunner.Command(
                Self.nsenterBinary, namespaceOptions + ["--"] + arguments, environment: variables, timeout: timeout,
                outputLimit: 1 << 20))
    }

    /// Removes the host's directory. The agent must be stopped. Its site users live in the host's
    /// own /etc, which `scripts/netns-harness.sh down` removes with the run.
    func removeLeftovers() async {
        TemporaryDirectory.remove(directory)
        // The agent's lease tokens, on /run (`chom-agent run`).
        TemporaryDirectory.remove(HostingConfiguration.runtimeLeaseDirectory(stateDirectory: stateDirectory).deletingLastPathComponent())
    }

    /// Enters the host's network namespace and its mount namespace, whose /etc is the host's own
    /// copy (its users and groups; `scripts/netns-harness.sh`). Not `ip netns exec`, which also
    /// remounts /sys and hides /sys/fs/cgroup: the agent's hook, app and php-fpm cgroups would fail.
    private var namespaceOptions: [String] {
        ["--net=/run/netns/\(name)", "--mount=\(NamespaceNetwork.stateDirectory)/\(network.runID)/\(index).mnt"]
    }

    private var directoryArguments: [String] {
        ["--state-dir", stateDirectory.path, "--sites-root", sitesRoot.path]
    }

    static let nsenterBinary =
        ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/bin/nsenter"

    static let ipBinary =
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/sbin/ip"

    /// `$CHOM_AGENT_BINARY`, else `chom-agent` beside the running test binary, else `.build/debug/chom-agent`.
    package static func agentBinary() throws -> String {
        try BuiltBinary.path("chom-agent", variable: "CHOM_AGENT_BINARY")
    }
}
