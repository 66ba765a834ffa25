import CHOMCore
import CHOMDNS
import Testing

@Suite("site DNS changes") struct SiteDNSPlanChangesTests {
    let site = SiteDNSPlan.Site(id: "site-1", domain: "example.test", aliases: ["www.example.test", "far.away.test"])

    func settings() throws -> SiteDNSPlan.Settings {
        try SiteDNSPlan.Settings(fleetZone: "fleet.test", ttl: 60, directZones: ["example.test"])
    }

    func set(_ name: String, _ values: [String], type: DNSRecordType = .a, ttl: Int = 60) -> DNSRecordSet {
        DNSRecordSet(name: name, type: type, ttl: ttl, values: values)
    }

    @Test("the diff upserts what is new or different and deletes what is no longer wanted, deletes first")
    func diff() {
        let current = [set("a.test", ["1.1.1.1"]), set("b.test", ["2.2.2.2"]), set("c.test", ["3.3.3.3"], ttl: 300)]
        let desired = [set("A.test.", ["1.1.1.1"]), set("c.test", ["3.3.3.3"]), set("d.test", ["::1"], type: .aaaa)]
        #expect(
            DNSChange.changes(from: current, to: desired) == [
                .delete(name: "b.test.", type: .a), .upsert(set("c.test", ["3.3.3.3"])), .upsert(set("d.test", ["::1"], type: .aaaa)),
            ])
        #expect(DNSChange.changes(from: desired, to: desired).isEmpty)
        #expect(DNSChange.changes(from: [], to: []).isEmpty)
    }

    @Test("placement writes every name; the same plan again changes nothing")
    func placement() throws {
        let plan = try SiteDNSPlan(site: site, addresses: .init(["198.18.0.2"]), settings: settings())
        let changes = SiteDNSPlan.transition(from: nil, to: plan)
        #expect(changes.map(\.zone) == ["example.test.", "fleet.test."])
        #expect(changes[0].changes.count == 2)
        #expect(changes[1].changes == [.upsert(set("site-1.fleet.test", ["198.18.0.2"]))])
        #expect(SiteDNSPlan.transition(from: plan, to: plan).isEmpty)
    }

    @Test("a switch to another agent replaces the addresses at the same names, dropping AAAA the new agent lacks")
    func switchAgent() throws {
        let onA = try SiteDNSPlan(site: site, addresses: .init(["198.18.0.2", "2001:db8::2"]), settings: settings())
        let onB = try SiteDNSPlan(site: site, addresses: .init(["198.18.0.3"]), settings: settings())
        let changes = SiteDNSPlan.transition(from: onA, to: onB)
        let fleet = try #require(changes.first { $0.zone == "fleet.test." })
        #expect(
            fleet.changes == [
                .delete(name: "site-1.fleet.test.", type: .aaaa), .upsert(set("site-1.fleet.test", ["198.18.0.3"])),
            ])
        let direct = try #require(changes.first { $0.zone == "example.test." })
        #expect(direct.changes.filter { if case .upsert = $0 { true } else { false } }.count == 2)
        #expect(direct.changes.allSatisfy { $0.key.name.hasSuffix("example.test.") })
    }

    @Test("removal deletes A and AAAA at every name the site had, in its zones, without addresses")
    func removal() throws {
        let changes = try SiteDNSPlan.removal(of: site, settings: settings())
        #expect(changes.map(\.zone) == ["example.test.", "fleet.test."])
        #expect(
            changes[1].changes == [.delete(name: "site-1.fleet.test.", type: .a), .delete(name: "site-1.fleet.test.", type: .aaaa)])
        #expect(changes[0].changes.count == 4)
        let plan = try SiteDNSPlan(site: site, addresses: .init(["198.18.0.2"]), settings: settings())
        let viaTransition = SiteDNSPlan.transition(from: plan, to: nil)
        #expect(viaTransition.flatMap(\.changes).allSatisfy { if case .delete = $0 { true } else { false } })
        #expect(viaTransition.flatMap(\.changes).count == 3)
    }

    @Test("reconciling with live records touches only A/AAAA at the site's names")
    func reconcile() throws {
        let plan = try SiteDNSPlan(site: site, addresses: .init(["198.18.0.3"]), settings: settings())
        let live: [String: [DNSRecordSet]] = [
            "fleet.test.": [
                set("site-1.fleet.test", ["198.18.0.2"]), set("site-1.fleet.test", ["2001:db8::2"], type: .aaaa),
                set("site-2.fleet.test", ["198.18.0.9"]),
            ],
            "example.test.": [
                set("example.test", ["198.18.0.3"]), set("example.test", ["10 mail.example.test."], type: DNSRecordType(rawValue: "MX")),
                set("example.test", ["ns. host. 1 2 3 4 5"], type: .soa), set("other.example.test", ["198.18.0.7"]),
            ],
        ]
        let changes = plan.reconcile(live: live)
        let fleet = try #require(changes.first { $0.zone == "fleet.test." })
        #expect(
            fleet.changes == [
                .delete(name: "site-1.fleet.test.", type: .aaaa), .upsert(set("site-1.fleet.test", ["198.18.0.3"])),
            ])
        let direct = try #require(changes.first { $0.zone == "example.test." })
        #expect(direct.changes == [.upsert(set("www.example.test", ["198.18.0.3"]))])
        let settled: [String: [DNSRecordSet]] = [
            "fleet.test.": plan.recordSets["fleet.test."]!, "example.test.": plan.recordSets["example.test."]! + live["example.test."]!,
        ]
        #expect(plan.reconcile(live: settled).isEmpty)
    }
}
