import CHOMAgent
package import CHOMCoordinator
import CHOMCore
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The network of a multi-host run, made by `scripts/netns-harness.sh`: a bridge in the root
/// namespace with the gateway address (198.18.K.1/24), and one network namespace per host with
/// an address of its own (198.18.K.11, .12, …), no default route, no NAT. Nothing runs in it yet:
/// ``NamespaceHarness`` starts the agents.
///
/// Made first, so that the coordinator (and PowerDNS) can listen on ``gateway`` and the
/// coordinator's server certificate can name it. Each run gets its own /24, so concurrent runs
/// (tests in parallel, two test processes) never share an address; a crashed run's leftovers are
/// removed by the next `up` (the script records the owning process and checks it is gone).
package struct NamespaceNetwork: Sendable {
    /// One namespace and its address.
    package struct Slot: Sendable, Equatable {
        /// 1-based, as in the script.
        package var index: Int
        /// The namespace's name, also the root-side end of its veth: `chomh-<run>-<index>`.
        package var namespace: String
        package var address: String
    }

    /// Where `scripts/netns-harness.sh` keeps its runs (`$CHOMH_STATE_DIR`, default /run/chomh).
    package static var stateDirectory: String {
        ProcessInfo.processInfo.environment["CHOMH_STATE_DIR"] ?? "/run/chomh"
    }

    /// 1–6 characters of [a-z0-9]; every name of the run starts with `chomh-<runID>`.
    package let runID: String
    package let bridge: String
    /// The bridge's address in the root namespace: what hosts reach the coordinator at.
    package let gateway: String
    package let slots: [Slot]

    /// The prefix of every namespace, link and directory a run makes.
    package static let prefix = "chomh"

    /// Creates `hosts` namespaces, runs `body`, then removes everything of the run (also when
    /// `body` throws). Needs root (see ``NamespaceHarness/isAvailable``).
    package static func with<Result: Sendable>(
        hosts: Int, _ body: (NamespaceNetwork) async throws -> Result
    ) async throws -> Result {
        let network = try await up(hosts: hosts)
        do {
            let result = try await body(network)
            try await network.down()
            return result
        } catch {
            try? await network.down()
            throw error
        }
    }

    /// Listens on the gateway (the agents' mTLS and enrollment listeners) and puts it first in the
    /// advertised addresses, so that the server certificate covers it and join tokens name it. The
    /// admin API stays on 127.0.0.1. chom-agent sends a heartbeat every 10 s, so an agent is
    /// offline after `offlineGraceSeconds` (25 s here) of silence, not before.
    package func configureCoordinator(_ configuration: inout CoordinatorConfiguration) {
        configuration.grpc.host = gateway
        configuration.grpc.advertisedAddresses = [gateway] + configuration.grpc.advertisedAddresses.filter { $0 != gateway }
        configuration.agents.offlineGraceSeconds = 25
    }

    /// The bridge's and the hosts' names and addresses, from the script's `up` output.
    static func parse(runID: String, layout: String) throws -> NamespaceNetwork {
        var bridge: (name: String, gateway: String)?
        var slots: [Slot] = []
        for line in layout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.count == 3, words[0] == "bridge", let slash = words[2].firstIndex(of: "/") {
                bridge = (words[1], String(words[2][..<slash]))
            } else if words.count == 4, words[0] == "host", let index = Int(words[1]) {
                slots.append(Slot(index: index, namespace: words[2], address: words[3]))
            }
        }
        guard let bridge, !slots.isEmpty else {
            throw CHOMError(.internal, "netns-harness.sh printed no layout: \(layout.prefix(500))")
        }
        return NamespaceNetwork(runID: runID, bridge: bridge.name, gateway: bridge.gateway, slots: slots)
    }

    static func up(hosts: Int) async throws -> NamespaceNetwork {
        guard (1...99).contains(hosts) else { throw CHOMError(.invalidInput, "a run has 1 to 99 hosts") }
        let runID = String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        let output = try await script(["up", runID, String(hosts)])
        return try parse(runID: runID, layout: output)
    }

    func down() async throws {
        _ = try await Self.script(["down", runID])
    }

    /// Takes host `index` off the bridge (its veth down): the host and the coordinator no longer
    /// reach each other, and neither learns it from the network.
    func disconnect(_ index: Int) async throws {
        _ = try await Self.script(["disconnect", runID, String(index)])
    }

    func reconnect(_ index: Int) async throws {
        _ = try await Self.script(["reconnect", runID, String(index)])
    }

    /// SIGKILL to every process of host `index`'s namespace: the host crashes.
    func killProcesses(_ index: Int) async throws {
        _ = try await Self.script(["kill", runID, String(index)])
    }

    /// What of run `runID` is still on the machine: namespaces, links (veths, bridge), processes
    /// whose command line names the run (agents and nginx: their directories are named after the
    /// namespace), the script's state. Empty once a run is down.
    package static func leftovers(of runID: String) async throws -> [String] {
        let run = "\(prefix)-\(runID)"
        let names = { (line: Substring) in line == run || line.hasPrefix(run + "-") }
        func ip(_ arguments: [String]) async throws -> [Substring] {
            let outcome = try await CommandRunner().run(CommandRunner.Command(NamespaceHost.ipBinary, arguments))
            guard outcome.succeeded else { throw CHOMError(.unavailable, "ip \(arguments): \(outcome.outputText)") }
            return outcome.outputText.split(separator: "\n")
        }
        var found: [String] = []
        for line in try await ip(["netns", "list"]) {
            if let name = line.split(separator: " ").first, names(name) { found.append("namespace \(name)") }
        }
        for line in try await ip(["-o", "link", "show"]) {
            let fields = line.components(separatedBy: ": ")
            if fields.count > 1, let name = fields[1].split(separator: "@").first, names(name) { found.append("link \(name)") }
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where Int32(entry) != nil {
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
            if String(decoding: cmdline, as: UTF8.self).contains(run + "-") { found.append("process \(entry)") }
        }
        if FileManager.default.fileExists(atPath: "/run/chomh/\(runID)") { found.append("state /run/chomh/\(runID)") }
        return found
    }

    /// `scripts/netns-harness.sh`, or `$CHOM_NETNS_HARNESS`.
    static var scriptPath: String {
        if let path = ProcessInfo.processInfo.environment["CHOM_NETNS_HARNESS"], !path.isEmpty { return path }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.appendingPathComponent("scripts/netns-harness.sh").path
    }

    /// Runs the script with `owner` (this process by default) as the owner of the runs it makes;
    /// its output, or an error holding it.
    @discardableResult
    package static func script(
        _ arguments: [String], owner: pid_t = getpid(), timeout: Duration = .seconds(60)
    ) async throws -> String {
        let command = CommandRunner.Command(
            scriptPath, arguments,
            environment: [
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "CHOMH_OWNER_PID": String(owner),
            ],
            timeout: timeout)
        let outcome = try await CommandRunner().run(command)
        guard outcome.succeeded else {
            throw CHOMError(
                .unavailable, "netns-harness.sh \(arguments.joined(separator: " ")) failed: \(outcome.outputText)")
        }
        return outcome.outputText
    }
}
