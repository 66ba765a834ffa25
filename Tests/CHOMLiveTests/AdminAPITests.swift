import CHOMAPI
import CHOMCoordinator
import CHOMTesting
import Foundation
import Testing

@Suite("Admin API against a live coordinator")
struct AdminAPITests {
    @Test("every error is problem+json with a clear message and a 4xx status")
    func errorsAreProblems() async throws {
        try await TestCoordinator.with { coordinator in
            let base = coordinator.apiURL
            let token = coordinator.operatorToken
            let sites = "/v1/tenants/\(try await coordinator.testTenant())/sites"
            let cases: [(String, String, Data?, Int, String)] = [
                ("POST", sites, Data("{\"domain\":".utf8), 400, "not valid JSON"),
                ("POST", sites, Data("{\"domain\":\"a.test\",\"agentId\":\"x\"}".utf8), 400, "unknown field 'agentId'"),
                ("POST", sites, Data("[1]".utf8), 400, "JSON object"),
                ("POST", sites, Data("{\"domain\":\"Not a domain!\"}".utf8), 400, "not a valid domain"),
                ("POST", "/v1/join-tokens", Data(String(repeating: " ", count: 70_000).utf8), 413, "larger than"),
                ("POST", "/v1/join-tokens", Data("{\"maxUses\":0}".utf8), 400, "maxUses"),
                ("GET", "/v1/sites/no-such.test", nil, 404, "no site"),
                ("GET", "/v1/tasks/\(UUID())", nil, 404, "no task"),
                ("GET", "/v1/tasks/not-a-uuid", nil, 404, "no task"),
                ("GET", "/v1/agents/\(UUID())", nil, 404, "no agent"),
                ("DELETE", "/v1/join-tokens/\(UUID())", nil, 404, "no join token"),
                ("GET", "/v1/nothing-here", nil, 404, "no such route"),
            ]
            for (method, path, body, status, detail) in cases {
                let reply = try await TestHTTP.request(method, base.appending(path: path), token: token, body: body)
                #expect(reply.status == status, "\(method) \(path): \(reply.text)")
                #expect(reply.headers["content-type"] == "application/problem+json", "\(method) \(path)")
                let problem = try reply.json()
                #expect(problem["status"] as? Int == status)
                #expect((problem["detail"] as? String ?? "").contains(detail), "\(method) \(path): \(reply.text)")
            }
        }
    }

    @Test("release uploads: over the size cap is 413, a non-archive is 400, and neither leaves a release behind")
    func releaseUploadLimits() async throws {
        try await TestCoordinator.with(configure: { $0.api.maxBodyBytes = 4096 }) { coordinator in
            // A site needs an online agent to be placed: register one straight in the database.
            try await TestDatabase.execute(
                """
                INSERT INTO agents (id, name, state, certificate_serial, certificate_not_after, enrolled_at, last_heartbeat_at)
                VALUES ('00000000-0000-4000-8000-00000000000a', 'db-agent', 'online', '01', now() + interval '1 day', now(), now() + interval '1 hour');
                """, dataDirectory: coordinator.dataDirectory)
            let site = try await coordinator.createSite(domain: "upload.test")
            let url = coordinator.apiURL.appending(path: "/v1/sites/upload.test/releases")
            var big = Data([0x28, 0xB5, 0x2F, 0xFD])
            big.append(Data(repeating: 1, count: 8192))
            let tooBig = try await TestHTTP.request(
                "POST", url, token: coordinator.operatorToken, body: big, contentType: "application/zstd")
            #expect(tooBig.status == 413, "\(tooBig.text)")
            #expect(tooBig.headers["content-type"] == "application/problem+json")
            let notArchive = try await TestHTTP.request(
                "POST", url, token: coordinator.operatorToken, body: Data("hello".utf8), contentType: "application/zstd")
            #expect(notArchive.status == 400, "\(notArchive.text)")
            #expect(notArchive.text.contains("tar.zst or tar.gz"))
            let empty = try await TestHTTP.request(
                "POST", url, token: coordinator.operatorToken, body: Data(), contentType: "application/zstd")
            #expect(empty.status == 400, "\(empty.text)")
            let unknownSite = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/sites/nope.test/releases"),
                token: coordinator.operatorToken, body: Data("x".utf8), contentType: "application/zstd")
            #expect(unknownSite.status == 404)
            let deployMissing = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/sites/upload.test/deploy"),
                token: coordinator.operatorToken, body: Data("{\"releaseId\":\"\(UUID())\"}".utf8))
            #expect(deployMissing.status == 404)
            #expect(site.state == "created")
            let count = try await TestDatabase.count("SELECT count(*) FROM releases", dataDirectory: coordinator.dataDirectory)
            #expect(count == 0)
        }
    }

    @Test("the API refuses a missing or wrong bearer token; health stays open")
    func authentication() async throws {
        try await TestCoordinator.with { coordinator in
            let agents = coordinator.apiURL.appending(path: "/v1/agents")
            let missing = try await TestHTTP.request("GET", agents)
            let wrong = try await TestHTTP.request("GET", agents, token: "wrong-token-wrong-token-wrong")
            let right = try await TestHTTP.request("GET", agents, token: coordinator.operatorToken)
            let health = try await TestHTTP.request("GET", coordinator.apiURL.appending(path: "/v1/health"))
            #expect(missing.status == 401)
            #expect(wrong.status == 401)
            #expect(right.status == 200)
            #expect(health.status == 200)
        }
    }

    @Test("a join token is shown once, listed without its secret, revocable")
    func joinTokens() async throws {
        try await TestCoordinator.with { coordinator in
            let url = coordinator.apiURL.appending(path: "/v1/join-tokens")
            let created = try await TestHTTP.request(
                "POST", url, token: coordinator.operatorToken, body: Data("{\"description\":\"vps-1\"}".utf8))
            #expect(created.status == 201)
            let body = try created.json()
            let token = try #require(body["token"] as? String)
            #expect(token.hasPrefix("chomjoin_"))
            #expect(body["caSHA256"] as? String == coordinator.caSHA256)
            let joinToken = try #require(body["joinToken"] as? [String: Any])
            #expect(joinToken["maxUses"] as? Int == 1)
            let id = try #require(joinToken["id"] as? String)
            let list = try await TestHTTP.request("GET", url, token: coordinator.operatorToken)
            #expect(list.status == 200)
            #expect(!list.text.contains(String(token.suffix(64))))
            #expect(list.text.contains(id))
            let revoked = try await TestHTTP.request(
                "DELETE", url.appending(path: id), token: coordinator.operatorToken)
            #expect(revoked.status == 204)
            let after = try await TestHTTP.request("GET", url, token: coordinator.operatorToken)
            #expect(after.text.contains("revokedAt"))
        }
    }
}
