import CHOMAPI
package import CHOMCoordinator
import CHOMCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Several agents as separate hosts on one machine: a ``NamespaceNetwork`` (one network namespace
/// per host, its own address in 198.18.0.0/15, a bridge to the root namespace), a coordinator in
/// the root namespace listening on the bridge's address, and in each namespace a real `chom-agent`
/// process enrolled with it and running its own nginx on port 80 (``NamespaceHost``).
///
/// In-process ``TestAgent``s cannot do this: a network namespace belongs to a thread, and NIO's
/// threads are shared. Everything the harness makes (namespaces, veths, bridge, processes, site
/// users, directories) is removed when `with` returns or throws; what a crashed test process left
/// is removed by the next run (see `scripts/netns-harness.sh`).
///
/// ```swift
/// try await NamespaceHarness.with(hosts: 3) { harness in
///     let site = try await harness.coordinator.createSite(domain: "a.test")
///     let host = try #require(harness.host(agentID: site.agentId))
///     let reply = try await harness.fetch(host: host, path: "/", hostHeader: "a.test")
/// }
/// ```
package struct NamespaceHarness: Sendable {
    package let coordinator: TestCoordinator
    package let network: NamespaceNetwork
    package let hosts: [NamespaceHost]

    /// Why the harness cannot run here (not root, no `ip netns`), or nil. Tests skip on it.
    package static let unavailableReason: String? = {
        guard getuid() == 0 else { return "the namespace harness needs root (network namespaces, veth, bridge)" }
        guard FileManager.default.isExecutableFile(atPath: NamespaceHost.ipBinary),
            FileManager.default.isExecutableFile(atPath: NamespaceHost.nsenterBinary)
        else { return "the namespace harness needs iproute2's ip and util-linux's nsenter" }
        guard let pid = try? BackgroundServer.spawn(NamespaceHost.ipBinary, ["netns", "list"], log: "/dev/null") else {
            return "ip netns list cannot be started"
        }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return status == 0 ? nil : "ip netns is unavailable here (ip netns list failed)"
    }()

    package static var isAvailable: Bool { unavailableReason == nil }

    /// Makes the network, starts a coordinator on it (`configure` runs after the harness's own
    /// settings) and `hosts` enrolled, online agents, and runs `body`.
    package static func with<Result: Sendable>(
        hosts count: Int = 3,
        configure: (inout CoordinatorConfiguration) -> Void = { _ in },
        agentArguments: [String] = [],
        _ body: (NamespaceHarness) async throws -> Result
    ) async throws -> Result {
        try await NamespaceNetwork.with(hosts: count) { network in
            try await TestCoordinator.with(configure: { configuration in
                network.configureCoordinator(&configuration)
                configure(&configuration)
            }) { coordinator in
                try await with(coordinator: coordinator, network: network, agentArguments: agentArguments, body)
            }
        }
    }

    /// Agents on `network` for a coordinator started by the caller, which must listen on
    /// `network.gateway` (``NamespaceNetwork/configureCoordinator(_:)``): for tests that start
    /// other servers (PowerDNS) between the network and the coordinator.
    package static func with<Result: Sendable>(
        coordinator: TestCoordinator, network: NamespaceNetwork, agentArguments: [String] = [],
        _ body: (NamespaceHarness) async throws -> Result
    ) async throws -> Result {
        var hosts: [NamespaceHost] = []
        do {
            for slot in network.slots {
                hosts.append(try NamespaceHost(slot: slot, network: network, runArguments: agentArguments))
            }
            let harness = NamespaceHarness(coordinator: coordinator, network: network, hosts: hosts)
            try await harness.boot()
            let result = try await body(harness)
            await tearDown(hosts)
            return result
        } catch {
            await tearDown(hosts)
            throw error
        }
    }

    /// Enrolls every host, starts its agent and waits until all are online.
    private func boot() async throws {
        for host in hosts {
            _ = try await host.enroll(coordinator: coordinator)
            try host.startAgent()
        }
        try await waitOnline(hosts, timeout: .seconds(60))
    }

    private static func tearDown(_ hosts: [NamespaceHost]) async {
        await withTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { await host.stopAgent() } }
        }
        for host in hosts { await host.removeLeftovers() }
    }

    /// The host whose agent has this id.
    package func host(agentID: String?) -> NamespaceHost? {
        hosts.first { $0.agentID?.description == agentID }
    }

    /// Polls `/v1/agents` until each host's agent is online.
    package func waitOnline(_ hosts: [NamespaceHost], timeout: Duration = .seconds(30)) async throws {
        try await waitState("online", hosts, timeout: timeout)
    }

    /// Polls `/v1/agents` until each host's agent is in `state` (online, offline, …); the error
    /// names the hosts that are not and where their logs are.
    package func waitState(_ state: String, _ hosts: [NamespaceHost], timeout: Duration = .seconds(30)) async throws {
        let ids = hosts.compactMap(\.agentID?.description)
        var states: [String: String] = [:]
        do {
            try await coordinator.eventually("agents \(state)", timeout: timeout) {
                states = Dictionary(try await coordinator.client.agents().map { ($0.id, $0.state) }) { $1 }
                return ids.allSatisfy { states[$0] == state }
            }
        } catch {
            let late = hosts.filter { states[$0.agentID?.description ?? ""] != state }.map { host in
                "\(host.name) (\(states[host.agentID?.description ?? ""] ?? "unknown"); log \(host.agentLog.path): "
                    + "\(Self.tail(of: host.agentLog))"
            }
            throw CHOMError(.unavailable, "not \(state) after \(timeout): \(late.joined(separator: "; "))")
        }
    }

    /// Each agent's metrics target as the coordinator's Prometheus service discovery lists it: the
    /// agent binds 0.0.0.0, so the coordinator fills in the address its stream comes from.
    package func metricsTargets() async throws -> [String: String] {
        let reply = try await TestHTTP.request(
            "GET", coordinator.apiURL.appending(path: "/v1/discovery/prometheus"), token: coordinator.operatorToken)
        guard reply.status == 200 else { throw CHOMError(.unavailable, "service discovery answered \(reply.status)") }
        let groups = try JSONDecoder().decode([PrometheusTargetGroup].self, from: reply.body)
        return Dictionary(groups.compactMap { group in
            group.labels["chom_agent_id"].flatMap { id in group.targets.first.map { (id, $0) } }
        }) { $1 }
    }

    /// The last ~2 KB of a log, on one line.
    static func tail(of log: URL) -> String {
        let data = (try? Data(contentsOf: log)) ?? Data()
        return String(decoding: data.suffix(2048), as: UTF8.self).replacingOccurrences(of: "\n", with: " | ")
    }
}
