import CHOMCore
import CHOMDNS
import CHOMTesting
import Foundation
import Logging
import Testing

/// Against a real PowerDNS Authoritative (Debian pdns-server, sqlite3 backend), resolved with dig.
@Suite("PowerDNS provider (live)") struct PowerDNSProviderTests {
    let zone = "fleet.example.test."
    let name = "5f0c3a1e-2b7d-4c1a-9e8f-0123456789ab.fleet.example.test."

    @Test("creates a zone once, writes A/AAAA records, and they resolve over DNS and read back through the API")
    func upsertAndResolve() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            #expect(try await provider.ensureZone(zone) == true)
            #expect(try await provider.ensureZone("FLEET.example.test") == false)
            #expect(try await provider.zones() == [zone])
            try await provider.apply(
                [
                    .upsert(DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.2", "198.18.0.3"])),
                    .upsert(DNSRecordSet(name: name, type: .aaaa, ttl: 60, values: ["2001:db8::2"])),
                ], zone: zone)
            #expect(try await server.resolve(name) == DNSAnswer(status: "NOERROR", values: ["198.18.0.2", "198.18.0.3"]))
            #expect(try await server.resolve(name, type: "AAAA").values == ["2001:db8::2"])
            // The in-process query sees what dig sees.
            #expect(try await server.query(name) == DNSAnswer(status: "NOERROR", values: ["198.18.0.2", "198.18.0.3"]))
            #expect(try await server.query(name, type: "AAAA") == DNSAnswer(status: "NOERROR", values: ["2001:db8::2"]))
            let all = try await provider.records(zone: zone)
            #expect(all.contains(DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.2", "198.18.0.3"])))
            #expect(all.contains { $0.type == .soa && $0.name == zone })
            let some = try await provider.records(zone: zone, names: [name.uppercased(), "absent.fleet.example.test"])
            #expect(
                some == [
                    DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.2", "198.18.0.3"]),
                    DNSRecordSet(name: name, type: .aaaa, ttl: 60, values: ["2001:db8::2"]),
                ])
        }
    }

    @Test("a switch to another address is what resolvers get next; a delete gives NXDOMAIN")
    func switchAndDelete() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            try await provider.ensureZone(zone)
            try await provider.apply([.upsert(DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.2"]))], zone: zone)
            #expect(try await server.resolve(name).values == ["198.18.0.2"])
            try await provider.apply([.upsert(DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.3"]))], zone: zone)
            try await expectEventually(server, name, DNSAnswer(status: "NOERROR", values: ["198.18.0.3"]))
            try await provider.apply([.delete(name: name, type: .a), .delete(name: name, type: .aaaa)], zone: zone)
            try await expectEventually(server, name, DNSAnswer(status: "NXDOMAIN", values: []))
            #expect(try await server.query(name) == DNSAnswer(status: "NXDOMAIN", values: []))
            #expect(try await server.query("other.test").status == "REFUSED")
            #expect(try await provider.records(zone: zone, names: [name]).isEmpty)
            #expect(try await provider.records(zone: zone).allSatisfy { $0.name == zone })
            // Deleting what is gone is not an error (a retried removal).
            try await provider.apply([.delete(name: name, type: .a)], zone: zone)
        }
    }

    @Test("PowerDNS refusals are typed: an unknown zone, a name outside the zone, a CNAME beside an A")
    func refusals() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            try await provider.ensureZone(zone)
            let missing = await #expect(throws: DNSError.self) {
                try await provider.apply([.delete(name: "a.nozone.test", type: .a)], zone: "nozone.test")
            }
            #expect(missing?.code == .zoneNotFound)
            #expect(missing?.status == 404)
            let outside = await #expect(throws: DNSError.self) {
                try await provider.apply([.upsert(DNSRecordSet(name: "a.other.test", type: .a, ttl: 60, values: ["198.18.0.2"]))], zone: zone)
            }
            #expect(outside?.code == .rejected)
            #expect(outside?.status == 422)
            #expect(outside?.providerError?.contains("out of zone") == true)
            #expect(outside?.description.contains("out of zone") == true)
            try await provider.apply([.upsert(DNSRecordSet(name: name, type: .a, ttl: 60, values: ["198.18.0.2"]))], zone: zone)
            let conflict = await #expect(throws: DNSError.self) {
                try await provider.apply([.upsert(DNSRecordSet(name: name, type: .cname, ttl: 60, values: ["x.other.test."]))], zone: zone)
            }
            #expect(conflict?.code == .rejected)
            // The refused PATCH changed nothing.
            #expect(try await server.resolve(name).values == ["198.18.0.2"])
        }
    }

    @Test("a change is visible to the next query, and a query costs well under a 20 ms client-loop period")
    func changeLatency() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            try await provider.ensureZone(zone)
            var applyTimes: [Duration] = []
            for round in 1...5 {
                let address = "198.18.0.\(round)"
                let started = ContinuousClock.now
                try await provider.apply([.upsert(DNSRecordSet(name: name, type: .a, ttl: 60, values: [address]))], zone: zone)
                applyTimes.append(ContinuousClock.now - started)
                #expect(try await server.query(name).values == [address])
            }
            let queries = 200
            let started = ContinuousClock.now
            for _ in 0..<queries { _ = try await server.query(name) }
            let perQuery = (ContinuousClock.now - started) / queries
            let digStarted = ContinuousClock.now
            for _ in 0..<10 { _ = try await server.resolve(name) }
            let perDig = (ContinuousClock.now - digStarted) / 10
            print("pdns: apply \(applyTimes.map { $0.formatted(.units(allowed: [.milliseconds])) }), in-process query \(perQuery), dig \(perDig)")
            #expect(perQuery < .milliseconds(20))
        }
    }

    @Test("a wrong API key is an unauthorized error whose texts never contain the key")
    func wrongKey() async throws {
        try await PowerDNSServer.with { server in
            let wrongKey = "wrong-key-\(UUID().uuidString)"
            let provider = try PowerDNSProvider(
                configuration: .init(apiURL: server.apiURL, apiKey: wrongKey), logger: Logger(label: "chom.test.pdns"))
            let error = await #expect(throws: DNSError.self) { try await provider.zones() }
            #expect(error?.code == .unauthorized)
            #expect(error?.status == 401)
            #expect(error?.chomError.code == .configuration)
            for text in [error?.description, error?.debugDescription, error.map { String(reflecting: $0) }] {
                #expect(text?.contains(wrongKey) == false)
                #expect(text?.contains(server.apiKey) == false)
            }
            #expect(!String(describing: provider.configuration).contains(wrongKey))
            #expect(!String(reflecting: provider.configuration).contains(wrongKey))
        }
    }

    @Test("an unreachable server is an unavailable error naming the endpoint, within the request deadline")
    func unreachable() async throws {
        let port = try FreePort.next()
        let provider = try PowerDNSProvider(
            configuration: .init(
                apiURL: URL(string: "http://127.0.0.1:\(port)")!, apiKey: "secret-key-not-shown", requestTimeout: .seconds(1)),
            logger: Logger(label: "chom.test.pdns"))
        let started = ContinuousClock.now
        let error = await #expect(throws: DNSError.self) {
            try await provider.apply([.delete(name: name, type: .a)], zone: zone)
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(error?.code == .unavailable)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        #expect(error?.description.contains("secret-key-not-shown") == false)
        #expect(error?.debugDescription.contains("secret-key-not-shown") == false)
    }

    @Test("a provider refuses unusable settings before any request")
    func settings() {
        let logger = Logger(label: "chom.test.pdns")
        for (url, server, key) in [
            ("ftp://127.0.0.1:1", "localhost", "k"), ("http://127.0.0.1:1", "a/b", "k"), ("http://127.0.0.1:1", "localhost", ""),
        ] {
            let error = #expect(throws: DNSError.self) {
                try PowerDNSProvider(configuration: .init(apiURL: URL(string: url)!, serverID: server, apiKey: key), logger: logger)
            }
            #expect(error?.code == .configuration)
        }
    }

    /// Polls dig until `expected` (PowerDNS purges its caches on a change, so this is immediate;
    /// the deadline only bounds a failure).
    func expectEventually(_ server: PowerDNSServer, _ name: String, _ expected: DNSAnswer) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        var last = try await server.resolve(name)
        while last != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            last = try await server.resolve(name)
        }
        #expect(last == expected)
    }
}
