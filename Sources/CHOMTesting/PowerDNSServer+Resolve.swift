import CHOMCore
import Foundation

/// What a DNS query got: the response code and the answer's values of the asked type.
package struct DNSAnswer: Sendable, Equatable, CustomStringConvertible {
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, …
    package var status: String
    /// The answer's records of the asked type (addresses, CNAME targets), sorted.
    package var values: [String]

    package init(status: String, values: [String]) {
        self.status = status
        self.values = values
    }

    package var description: String { "\(status) \(values)" }
}

extension PowerDNSServer {
    /// Asks this server over UDP, as a resolver would, with `dig` (Debian `bind9-dnsutils`):
    /// `dig @address -p dnsPort name type +norecurse`. Spawning dig is slower than a query built in
    /// Swift (a few ms), but it is the reference client, and tests then rely on no DNS code of ours.
    package func resolve(_ name: String, type: String = "A", address: String? = nil) async throws -> DNSAnswer {
        try await Self.dig(name, type: type, server: address ?? addresses[0], port: dnsPort)
    }

    /// The same question asked by `DNSQuery` in-process (no process spawned): for client loops.
    package func query(_ name: String, type: String = "A", address: String? = nil) async throws -> DNSAnswer {
        try await DNSQuery.resolve(name, type: type, server: address ?? addresses[0], port: dnsPort)
    }

    /// `dig` against any server and port; `.unavailable` when no answer came.
    package static func dig(_ name: String, type: String, server: String, port: Int) async throws -> DNSAnswer {
        guard let dig = ["/usr/bin/dig", "/bin/dig"].first(where: FileManager.default.isExecutableFile) else {
            throw CHOMError(.unavailable, "dig is missing: run scripts/install-deps.sh (bind9-dnsutils)")
        }
        let result = try await TestCommand.run(
            dig,
            [
                "@\(server)", "-p", String(port), name, type, "+norecurse", "+noall", "+comments", "+answer",
                "+time=2", "+tries=2",
            ], timeout: .seconds(15))
        guard result.status == 0, let status = Self.responseCode(result.output) else {
            throw CHOMError(.unavailable, "dig \(name) \(type) @\(server) -p \(port) got no answer: \(result.output.suffix(300))")
        }
        let values = result.output.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix(";") else { return nil }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 5, fields[3].uppercased() == type.uppercased() else { return nil }
            return fields[4...].joined(separator: " ")
        }
        return DNSAnswer(status: status, values: values.sorted())
    }

    /// The `status:` of dig's `->>HEADER<<-` line.
    static func responseCode(_ output: String) -> String? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("->>HEADER<<-") }),
            let range = line.range(of: "status: ")
        else { return nil }
        return String(line[range.upperBound...].prefix { $0 != "," })
    }
}
