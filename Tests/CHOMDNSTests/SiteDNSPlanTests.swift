import CHOMCore
import CHOMDNS
import Testing

@Suite("site DNS plan") struct SiteDNSPlanTests {
    let siteID = "5f0c3a1e-2b7d-4c1a-9e8f-0123456789ab"

    func settings(direct: [String] = ["example.test."], ttl: Int = 60) throws -> SiteDNSPlan.Settings {
        try SiteDNSPlan.Settings(fleetZone: "Fleet.Example.Test", ttl: ttl, directZones: direct)
    }

    @Test("the fleet name is <site-id>.<fleet zone>, lowercase with a trailing dot, with A to the agent")
    func fleetName() throws {
        let plan = try SiteDNSPlan(
            site: .init(id: siteID.uppercased(), domain: "shop.other.test"), addresses: .init(["198.18.0.2"]),
            settings: settings())
        #expect(plan.fleetName == "\(siteID).fleet.example.test.")
        #expect(plan.zones == ["fleet.example.test."])
        #expect(
            plan.recordSets["fleet.example.test."]
                == [DNSRecordSet(name: plan.fleetName, type: .a, ttl: 60, values: ["198.18.0.2"])])
        #expect(plan.delegatedNames == ["shop.other.test."])
    }

    @Test("a domain and aliases inside a served zone get direct records; those outside are delegated")
    func directOnlyInServedZones() throws {
        let plan = try SiteDNSPlan(
            site: .init(id: siteID, domain: "Example.Test.", aliases: ["www.example.test", "blog.elsewhere.test"]),
            addresses: .init(["198.18.0.2"]), settings: settings())
        #expect(plan.zones == ["example.test.", "fleet.example.test."])
        #expect(plan.recordSets["example.test."]?.map(\.name) == ["example.test.", "www.example.test."])
        #expect(plan.recordSets["example.test."]?.allSatisfy { $0.type == .a && $0.values == ["198.18.0.2"] } == true)
        #expect(plan.delegatedNames == ["blog.elsewhere.test."])
        #expect(plan.names.direct == ["example.test.": ["example.test.", "www.example.test."]])
    }

    @Test("a name goes to the most specific served zone")
    func mostSpecificZone() throws {
        let plan = try SiteDNSPlan(
            site: .init(id: siteID, domain: "www.shop.example.test", aliases: ["example.test"]),
            addresses: .init(["198.18.0.2"]), settings: settings(direct: ["example.test", "shop.example.test"]))
        #expect(plan.names.direct["shop.example.test."] == ["www.shop.example.test."])
        #expect(plan.names.direct["example.test."] == ["example.test."])
    }

    @Test("IPv6 addresses become AAAA records in canonical form, beside A for IPv4")
    func ipv6() throws {
        let addresses = try SiteDNSPlan.Addresses(["2001:0DB8::0001", "198.18.0.2", "2001:db8::1"])
        #expect(addresses.ipv4 == ["198.18.0.2"])
        #expect(addresses.ipv6 == ["2001:db8::1"])
        let plan = try SiteDNSPlan(site: .init(id: siteID, domain: "a.other.test"), addresses: addresses, settings: settings())
        let sets = try #require(plan.recordSets["fleet.example.test."])
        #expect(sets.map(\.type) == [.a, .aaaa])
        #expect(sets[1].values == ["2001:db8::1"])
        let onlyV6 = try SiteDNSPlan(
            site: .init(id: siteID, domain: "a.other.test"), addresses: .init(["2001:db8::2"]), settings: settings())
        #expect(onlyV6.recordSets["fleet.example.test."]?.map(\.type) == [.aaaa])
    }

    @Test("invalid ids, domains, aliases, zones and addresses are refused with typed errors", arguments: [
        ("bad_id", "ok.test", [String]()), ("", "ok.test", []), ("a.b", "ok.test", []),
        ("site", "-bad.test", []), ("site", "bad..test", []), ("site", "com", []), ("site", "*.ok.test", []),
        ("site", "ok.test", ["under_score.test"]), ("site", "ok.test", [String(repeating: "a", count: 64) + ".test"]),
        ("site", "x.fleet.example.test", []), ("site", "ok.test", ["fleet.example.test"]),
    ])
    func invalidNames(id: String, domain: String, aliases: [String]) throws {
        let error = #expect(throws: DNSError.self) {
            try SiteDNSPlan(
                site: .init(id: id, domain: domain, aliases: aliases), addresses: .init(["198.18.0.2"]),
                settings: settings())
        }
        #expect(error?.code == .invalidName)
        #expect(error?.chomError.code == .invalidInput)
    }

    @Test("settings refuse bad zones and TTLs; addresses refuse what is not an IP; no address is refused")
    func invalidSettingsAndAddresses() throws {
        #expect(throws: DNSError.self) { try SiteDNSPlan.Settings(fleetZone: "bad..zone") }
        #expect(throws: DNSError.self) { try SiteDNSPlan.Settings(fleetZone: ".") }
        #expect(throws: DNSError.self) { try SiteDNSPlan.Settings(fleetZone: "fleet.test", ttl: 0) }
        #expect(throws: DNSError.self) { try SiteDNSPlan.Settings(fleetZone: "fleet.test", directZones: ["a b"]) }
        let address = #expect(throws: DNSError.self) { try SiteDNSPlan.Addresses(["198.18.0.256"]) }
        #expect(address?.code == .invalidAddress)
        #expect(throws: DNSError.self) { try SiteDNSPlan.Addresses(["example.test"]) }
        let none = #expect(throws: DNSError.self) {
            try SiteDNSPlan(site: .init(id: siteID, domain: "a.test"), addresses: .init([]), settings: settings())
        }
        #expect(none?.code == .noAddress)
    }

    @Test("names compare across case and trailing dots")
    func caseAndTrailingDot() throws {
        #expect(DNSName.fullyQualified("WWW.Example.Test") == "www.example.test.")
        #expect(DNSName.fullyQualified("www.example.test.") == "www.example.test.")
        #expect(DNSName.isInside("A.Example.Test", zone: "example.test."))
        #expect(DNSName.isInside("example.test", zone: "EXAMPLE.TEST"))
        #expect(!DNSName.isInside("badexample.test", zone: "example.test"))
        #expect(
            DNSRecordSet(name: "A.Test", type: .a, ttl: 60, values: ["2", "1", "2"])
                == DNSRecordSet(name: "a.test.", type: DNSRecordType(rawValue: "a"), ttl: 60, values: ["1", "2"]))
    }
}
