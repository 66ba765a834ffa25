import CHOMDNS
import CHOMTesting
import Logging
import Testing

/// The site lifecycle against a real PowerDNS: placement, switch, alias dropped, removal.
@Suite("site DNS publisher (live)") struct SiteDNSPublisherTests {
    let site = SiteDNSPlan.Site(
        id: "5f0c3a1e-2b7d-4c1a-9e8f-0123456789ab", domain: "example.test",
        aliases: ["www.example.test", "shop.tenant-owned.test"])
    let fleetName = "5f0c3a1e-2b7d-4c1a-9e8f-0123456789ab.fleet.test."

    @Test("placement, switch and removal keep the fleet name and direct names resolving to the site's agent")
    func lifecycle() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            try await provider.ensureZone("fleet.test")
            try await provider.ensureZone("example.test")
            // A tenant's own record at its apex, which CHOM must never touch.
            let mx = DNSRecordSet(name: "example.test", type: DNSRecordType(rawValue: "MX"), ttl: 300, values: ["10 mail.example.test."])
            try await provider.apply([.upsert(mx)], zone: "example.test")
            // directZones nil: the provider's own zone list decides where direct records go.
            let publisher = try SiteDNSPublisher(
                provider: provider, fleetZone: "fleet.test", ttl: 30, logger: Logger(label: "chom.test.dns"))

            let placed = try await publisher.publish(site, addresses: ["198.18.0.2", "2001:db8::2"])
            #expect(placed.fleetName == fleetName)
            #expect(placed.delegatedNames == ["shop.tenant-owned.test."])
            for name in [fleetName, "example.test.", "www.example.test."] {
                #expect(try await server.resolve(name).values == ["198.18.0.2"])
                #expect(try await server.resolve(name, type: "AAAA").values == ["2001:db8::2"])
            }
            #expect(try await server.resolve("shop.tenant-owned.test").status == "REFUSED")

            // Switch to an agent without IPv6: new A everywhere, AAAA gone.
            try await publisher.publish(site, addresses: ["198.18.0.3"])
            for name in [fleetName, "example.test.", "www.example.test."] {
                #expect(try await server.resolve(name).values == ["198.18.0.3"])
                #expect(try await server.resolve(name, type: "AAAA").values == [])
            }
            let fleetRecords = try await provider.records(zone: "fleet.test", names: [fleetName])
            #expect(fleetRecords == [DNSRecordSet(name: fleetName, type: .a, ttl: 30, values: ["198.18.0.3"])])

            // The same call again writes nothing (the zone's serial does not move).
            let serial = try await soaSerial(provider, "fleet.test.")
            try await publisher.publish(site, addresses: ["198.18.0.3"])
            #expect(try await soaSerial(provider, "fleet.test.") == serial)

            // An alias dropped: its records go, the others stay.
            var renamed = site
            renamed.aliases = ["shop.tenant-owned.test"]
            try await publisher.publish(renamed, addresses: ["198.18.0.3"], previous: site)
            #expect(try await server.resolve("www.example.test").status == "NXDOMAIN")
            #expect(try await server.resolve("example.test").values == ["198.18.0.3"])

            // Removal: every name of the site gone; the tenant's MX and the zones' SOA remain.
            try await publisher.remove(site)
            #expect(try await server.resolve(fleetName).status == "NXDOMAIN")
            #expect(try await server.resolve("example.test").values == [])
            #expect(try await server.resolve("example.test", type: "MX").values == ["10 mail.example.test."])
            #expect(try await provider.records(zone: "fleet.test").allSatisfy { $0.name == "fleet.test." })
            // Removing again (a retry) is fine.
            try await publisher.remove(site)
        }
    }

    @Test("configured direct zones limit where direct records go, and an agent without address is refused")
    func configuredZones() async throws {
        try await PowerDNSServer.with { server in
            let provider = try server.provider()
            try await provider.ensureZone("fleet.test")
            try await provider.ensureZone("example.test")
            let publisher = try SiteDNSPublisher(
                provider: provider, fleetZone: "fleet.test", ttl: 60, directZones: [], logger: Logger(label: "chom.test.dns"))
            let plan = try await publisher.publish(site, addresses: ["198.18.0.2"])
            #expect(plan.delegatedNames == ["example.test.", "shop.tenant-owned.test.", "www.example.test."])
            #expect(try await server.resolve(fleetName).values == ["198.18.0.2"])
            #expect(try await server.resolve("www.example.test").status == "NXDOMAIN")
            let error = await #expect(throws: DNSError.self) { try await publisher.publish(site, addresses: []) }
            #expect(error?.code == .noAddress)
            #expect(try await server.resolve(fleetName).values == ["198.18.0.2"])
        }
    }

    func soaSerial(_ provider: PowerDNSProvider, _ zone: String) async throws -> String? {
        try await provider.records(zone: zone).first { $0.type == .soa }?.values.first?.split(separator: " ").dropFirst(2).first
            .map(String.init)
    }
}
