import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// Domains and aliases are unique across the fleet and an app port on its agent, whatever the
/// tenant; the database decides under races; a removed site lets its names and port go.
@Suite("Site names and app ports: unique across the fleet, under races", .serialized)
struct SiteNameTests {
    static let racers = 20

    func createSite(_ world: SiteTaskWorld, _ domain: String, token: String? = nil) async throws -> TestHTTP.Reply {
        try await world.send(
            "POST", "/v1/tenants/\(world.organization.tenantID)/sites", json: ["domain": domain], token: token)
    }

    func configure(_ world: SiteTaskWorld, _ site: String, _ json: [String: any Sendable], token: String? = nil)
        async throws -> TestHTTP.Reply
    {
        try await world.send("PUT", "/v1/sites/\(site)/config", json: json, token: token)
    }

    /// Sites created one after another (no race), their ids.
    func sites(_ world: SiteTaskWorld, prefix: String, count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let reply = try await createSite(world, "\(prefix)\(index).names.test")
            #expect(reply.status == 201, "\(reply.text)")
            ids.append(try #require(try reply.json()["id"] as? String))
        }
        return ids
    }

    /// Runs `racers` requests at once; their replies.
    func race(_ count: Int, _ request: @escaping @Sendable (Int) async throws -> TestHTTP.Reply) async throws
        -> [TestHTTP.Reply]
    {
        try await withThrowingTaskGroup(of: TestHTTP.Reply.self) { group in
            for index in 0..<count { group.addTask { try await request(index) } }
            var replies: [TestHTTP.Reply] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
    }

    /// Exactly one winner with `won`; every other reply a 409 problem naming `name`.
    func expectOneWinner(_ replies: [TestHTTP.Reply], won: Int, naming fragment: String) {
        #expect(replies.filter { $0.status == won }.count == 1, "\(replies.map { "\($0.status) \($0.text)" })")
        let refused = replies.filter { $0.status != won }
        #expect(refused.count == replies.count - 1)
        for reply in refused {
            #expect(reply.status == 409, "\(reply.text)")
            #expect(reply.headers["content-type"] == "application/problem+json")
            #expect(IdentityFixtures.detail(reply).contains(fragment), "\(reply.text)")
        }
    }

    @Test("20 concurrent creates of one domain: exactly one 201, 19 × 409 naming it")
    func concurrentCreates() async throws {
        try await SiteTaskWorld.with { world in
            let replies = try await race(Self.racers) { _ in try await createSite(world, "race.names.test") }
            expectOneWinner(replies, won: 201, naming: "the name race.names.test is already in use by the site race.names.test")
            #expect(try await world.count("SELECT count(*) FROM sites WHERE domain = 'race.names.test'") == 1)
            #expect(try await world.count("SELECT count(*) FROM site_names WHERE name = 'race.names.test'") == 1)
        }
    }

    @Test("20 sites setting one alias at once: exactly one wins; a domain or alias already held is refused")
    func concurrentAliases() async throws {
        try await SiteTaskWorld.with { world in
            let ids = try await sites(world, prefix: "alias", count: Self.racers)
            let replies = try await race(Self.racers) { index in
                try await configure(world, ids[index], ["kind": "static", "aliases": ["shared.names.test"]])
            }
            expectOneWinner(replies, won: 200, naming: "the name shared.names.test is already in use by the site alias")
            let holder = try #require(ids.first { id in replies.contains { $0.status == 200 && $0.text.contains(id) } })
            #expect(try await world.count(
                "SELECT count(*) FROM site_names WHERE name = 'shared.names.test' AND site_id = '\(holder)'") == 1)
            // Only the winner stored the alias; the losers' configuration and tasks were rolled back.
            #expect(try await world.count("SELECT count(*) FROM sites WHERE config::text LIKE '%shared.names.test%'") == 1)
            #expect(try await world.count("SELECT count(*) FROM tasks WHERE kind = 'configure'") == 1)
            // The alias cannot become another site's domain, nor a domain another site's alias.
            let create = try await createSite(world, "shared.names.test")
            #expect(create.status == 409 && IdentityFixtures.detail(create).contains(holder), "\(create.text)")
            let other = try #require(ids.first { $0 != holder })
            let domainAsAlias = try await configure(world, other, ["kind": "static", "aliases": [world.organization.domain]])
            #expect(domainAsAlias.status == 409, "\(domainAsAlias.text)")
            #expect(IdentityFixtures.detail(domainAsAlias).contains("the name \(world.organization.domain) is already in use"))
            // Dropping the alias frees it.
            #expect(try await configure(world, holder, ["kind": "static"]).status == 200)
            #expect(try await configure(world, other, ["kind": "static", "aliases": ["shared.names.test"]]).status == 200)
        }
    }

    @Test("10 creates and 10 alias updates racing for one name: exactly one wins")
    func mixedRace() async throws {
        try await SiteTaskWorld.with { world in
            let ids = try await sites(world, prefix: "mixed", count: Self.racers / 2)
            let replies = try await race(Self.racers) { index in
                index.isMultiple(of: 2)
                    ? try await createSite(world, "contested.names.test")
                    : try await configure(world, ids[index / 2], ["kind": "static", "aliases": ["contested.names.test"]])
            }
            let won = replies.filter { $0.status == 201 || $0.status == 200 }
            #expect(won.count == 1, "\(replies.map { "\($0.status) \($0.text)" })")
            #expect(replies.filter { $0.status == 409 }.count == Self.racers - 1)
            #expect(try await world.count("SELECT count(*) FROM site_names WHERE name = 'contested.names.test'") == 1)
        }
    }

    @Test("20 app sites claiming one port on their agent at once: exactly one wins; changing it frees the old one")
    func concurrentPorts() async throws {
        try await SiteTaskWorld.with { world in
            let ids = try await sites(world, prefix: "app", count: Self.racers)
            #expect(try await world.count("SELECT count(DISTINCT agent_id) FROM sites") == 1)
            @Sendable func app(_ port: Int) -> [String: any Sendable] { ["kind": "app", "appPort": port, "appCommand": "./server"] }
            let replies = try await race(Self.racers) { index in try await configure(world, ids[index], app(4000)) }
            expectOneWinner(replies, won: 200, naming: "the port 4000 is already in use on the site's agent by the site app")
            let holder = try #require(ids.first { id in replies.contains { $0.status == 200 && $0.text.contains(id) } })
            let other = try #require(ids.first { $0 != holder })
            // The holder moves to 4001: 4000 is free, 4001 is taken.
            #expect(try await configure(world, holder, app(4001)).status == 200)
            #expect(try await configure(world, other, app(4001)).status == 409)
            #expect(try await configure(world, other, app(4000)).status == 200)
            // A static site holds no port.
            #expect(try await configure(world, holder, ["kind": "static"]).status == 200)
            #expect(try await world.count("SELECT count(*) FROM site_ports WHERE site_id = '\(holder)'") == 0)
            #expect(try await configure(world, ids[2], app(4001)).status == 200)
            // Another agent's port 4000 is another port.
            let moved = try #require(ids.first { ![holder, other, ids[2]].contains($0) })
            let secondAgent = try await IdentityFixtures.addAgent(world.coordinator)
            try await TestDatabase.execute(
                "UPDATE sites SET agent_id = '\(secondAgent)' WHERE id = '\(moved)'", dataDirectory: world.coordinator.dataDirectory)
            #expect(try await configure(world, moved, app(4000)).status == 200)
        }
    }

    @Test("another organization's name answers 409 without revealing that site; an operator is told whose")
    func otherOrganization() async throws {
        try await SiteTaskWorld.with { world in
            let other = try await IdentityFixtures.organization(
                world.coordinator, name: "Rival", operatorToken: world.coordinator.operatorToken)
            let otherApp = try await configure(
                world, other.siteID, ["kind": "app", "appPort": 5000, "appCommand": "./server", "aliases": ["rival-alias.test"]],
                token: other.owner.token)
            #expect(otherApp.status == 200, "\(otherApp.text)")
            let mine = try #require(try await createSite(world, "mine.names.test").json()["id"] as? String)
            let private_ = other.privateWords + [other.siteID, other.id, other.tenantID]
            for reply in [
                try await createSite(world, other.domain),
                try await createSite(world, "rival-alias.test"),
                try await configure(world, mine, ["kind": "static", "aliases": [other.domain]]),
                try await configure(world, mine, ["kind": "app", "appPort": 5000, "appCommand": "./server"]),
            ] {
                #expect(reply.status == 409, "\(reply.text)")
                #expect(reply.headers["content-type"] == "application/problem+json")
                let detail = IdentityFixtures.detail(reply)
                #expect(detail.hasSuffix("is already in use") || detail.hasSuffix("is already in use on the site's agent"), "\(detail)")
                for word in private_ where !detail.contains("the name \(word) ") {
                    #expect(!reply.text.contains(word), "\(reply.text) reveals \(word)")
                }
            }
            // The caller named the name itself; nothing about whose it is comes back.
            let named = try await createSite(world, other.domain)
            #expect(IdentityFixtures.detail(named) == "the name \(other.domain) is already in use")
            // A platform operator sees every site, so is told which one holds it.
            let operatorReply = try await createSite(world, other.domain, token: world.coordinator.operatorToken)
            #expect(IdentityFixtures.detail(operatorReply).contains("by the site \(other.domain) (\(other.siteID))"))
        }
    }

    @Test("removing a site frees its names and port; restoring it then needs them back (409 while taken)")
    func removalFrees() async throws {
        try await SiteTaskWorld.with { world in
            let site = world.site
            #expect(try await configure(
                world, site, ["kind": "app", "appPort": 4500, "appCommand": "./server", "aliases": ["old-alias.test"]]
            ).status == 200)
            let backup = try await IdentityFixtures.addBackup(world.coordinator, site: site, tenant: world.organization.tenantID)
            let removal = try await TestHTTP.request(
                "DELETE", try #require(URL(string: "\(world.coordinator.apiURL.absoluteString)/v1/sites/\(site)?force=true")),
                token: world.owner)
            #expect(removal.status == 202, "\(removal.text)")
            // Still removing: nothing is free yet.
            #expect(try await createSite(world, world.organization.domain).status == 409)
            try await world.report(try #require(try removal.json()["id"] as? String)) { _ in }
            #expect(try await world.coordinator.client(token: world.owner).site(site).state == "removed")
            #expect(try await world.count("SELECT count(*) FROM site_names WHERE site_id = '\(site)'") == 0)
            #expect(try await world.count("SELECT count(*) FROM site_ports WHERE site_id = '\(site)'") == 0)

            let again = try await createSite(world, world.organization.domain)
            #expect(again.status == 201, "\(again.text)")
            let newSite = try #require(try again.json()["id"] as? String)
            #expect(try await configure(
                world, newSite, ["kind": "app", "appPort": 4500, "appCommand": "./server", "aliases": ["old-alias.test"]]
            ).status == 200)
            // The domain now names the live site; both are listed, page by page.
            #expect(try await world.coordinator.client(token: world.owner).site(world.organization.domain).id == newSite)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "?limit=1&cursor=\($0)" } ?? "?limit=1"
                let url = try #require(URL(string: "\(world.coordinator.apiURL.absoluteString)/v1/sites\(query)"))
                let page = try await TestHTTP.request("GET", url, token: world.owner).json()
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(Set(seen) == [site, newSite] && seen.count == 2)
            // Restoring the removed site while its names are taken: 409, nothing queued.
            let restore = try await world.send("POST", "/v1/sites/\(site)/backups/\(backup)/restore")
            #expect(restore.status == 409, "\(restore.text)")
            #expect(IdentityFixtures.detail(restore).contains("is already in use by the site \(world.organization.domain) (\(newSite))"))
            #expect(try await world.tasks(kind: "restore").isEmpty)
        }
    }
}
