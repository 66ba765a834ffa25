import CHOMAPI
import Foundation
import Testing

@Suite("AdminClient routes against a stub coordinator")
struct AdminClientRouteTests {
    private static let organization = #"{"id":"o1","name":"Acme","createdAt":"2026-11-26T19:30:00Z"}"#
    private static let me = #"""
        {"user":{"id":"u1","email":"a@b.test","displayName":"A","isOperator":false,"twoFactorEnabled":false,
        "createdAt":"2026-11-26T19:30:00Z"},"memberships":[]}
        """#

    @Test("login sends the credentials and no bearer token, even from a client that has one")
    func loginIsUnauthenticated() async throws {
        let stub = StubCoordinator([.json(200, #"{"status":"two_factor_required","challenge":"ch"}"#)])
        let response = try await stub.client(token: "chom_old").login(email: "a@b.test", password: "pw")
        #expect(response.status == .twoFactorRequired)
        let request = try #require(stub.requests.first)
        #expect(request.method == "POST")
        #expect(request.pathAndQuery == "/v1/auth/login")
        #expect(request.header("Authorization") == nil)
        #expect(request.header("Content-Type") == "application/json")
        #expect(try request.json() == ["email": "a@b.test", "password": "pw"])
    }

    @Test("the two-factor step and accepting an invitation work without a token")
    func otherUnauthenticatedRoutes() async throws {
        let stub = StubCoordinator([
            .json(200, #"{"status":"authenticated","token":"chom_new"}"#), .json(200, Self.me),
        ])
        let client = stub.client(token: nil)
        #expect(try await client.loginTwoFactor(challenge: "ch", code: "123456").token == "chom_new")
        #expect(try await client.acceptInvitation(token: "inv", password: "pw").user.id == "u1")
        #expect(stub.requests.map(\.pathAndQuery) == ["/v1/auth/login/two-factor", "/v1/invitations/accept"])
        #expect(stub.requests.allSatisfy { $0.header("Authorization") == nil })
        #expect(try stub.requests[1].json() == ["token": "inv", "password": "pw"])
    }

    @Test("authenticated routes send the bearer token; withToken swaps it")
    func bearer() async throws {
        let stub = StubCoordinator([.json(200, Self.me), .noContent])
        let client = stub.client(token: "chom_a")
        _ = try await client.me()
        try await client.withToken("chom_b").logout()
        #expect(stub.requests.map { $0.header("Authorization") } == ["Bearer chom_a", "Bearer chom_b"])
        #expect(stub.requests.map(\.method) == ["GET", "POST"])
    }

    @Test("site logs: GET with the kind and tail in the query, the lines decoded in order")
    func siteLogs() async throws {
        let stub = StubCoordinator([.json(200, #"{"kind":"error","lines":["one","two"],"truncated":true}"#)])
        let logs = try await stub.client(token: "t").siteLogs("a.test", kind: "error", tail: 50)
        #expect(logs == SiteLogsResponse(kind: "error", lines: ["one", "two"], truncated: true))
        let request = try #require(stub.requests.first)
        #expect(request.method == "GET")
        #expect(request.pathAndQuery == "/v1/sites/a.test/logs?kind=error&tail=50")
    }

    @Test("sites are created under their tenant, the tenant only in the path")
    func createSite() async throws {
        let site = #"""
            {"id":"s1","tenantId":"t/1","domain":"a.test","state":"pending","createdAt":"2026-11-26T19:30:00Z",
            "updatedAt":"2026-11-26T19:30:00Z"}
            """#
        let stub = StubCoordinator([.json(201, site)])
        let created = try await stub.client(token: "t").createSite(tenantID: "t/1", domain: "a.test")
        #expect(created.tenantId == "t/1")
        let request = try #require(stub.requests.first)
        #expect(request.pathAndQuery == "/v1/tenants/t%2F1/sites")
        #expect(try request.json() == ["domain": "a.test"])
    }

    @Test("a member update is a PATCH that leaves out what is not changed")
    func updateMember() async throws {
        let membership = #"""
            {"organizationId":"o1","userId":"u2","email":"c@d.test","role":"admin","tenantIds":[],
            "createdAt":"2026-11-26T19:30:00Z"}
            """#
        let stub = StubCoordinator([.json(200, membership)])
        _ = try await stub.client(token: "t").updateMember(organizationID: "o1", userID: "u2", role: "admin")
        let request = try #require(stub.requests.first)
        #expect(request.method == "PATCH")
        #expect(request.pathAndQuery == "/v1/organizations/o1/members/u2")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"role":"admin"}"#)
    }

    @Test("a list page sends cursor and limit; all… follows nextCursor at the largest page size")
    func pagination() async throws {
        let stub = StubCoordinator([
            .json(200, #"{"items":[],"nextCursor":"n+1"}"#),
            .json(200, "{\"items\":[\(Self.organization)],\"nextCursor\":\"c/2\"}"),
            .json(200, "{\"items\":[\(Self.organization)]}"),
        ])
        let client = stub.client(token: "t")
        let page = try await client.organizations(cursor: "a b", limit: 5)
        #expect(page.nextCursor == "n+1")
        let all = try await client.allOrganizations()
        #expect(all.map(\.name) == ["Acme", "Acme"])
        #expect(stub.requests.map(\.pathAndQuery) == [
            "/v1/organizations?cursor=a%20b&limit=5",
            "/v1/organizations?limit=200",
            "/v1/organizations?cursor=c%2F2&limit=200",
        ])
    }

    @Test("audit filters go in the query, before the cursor")
    func auditQuery() async throws {
        let stub = StubCoordinator([.json(200, #"{"items":[]}"#)])
        let filter = AuditFilter(actor: "user:a+b", until: Date(timeIntervalSince1970: 1_795_721_400))
        _ = try await stub.client(token: "t").auditEntries(filter, cursor: "x", limit: 1)
        #expect(stub.requests.first?.pathAndQuery
            == "/v1/audit?actor=user%3Aa%2Bb&until=2026-11-26T19%3A30%3A00Z&cursor=x&limit=1")
    }

    @Test("audit verification is a GET without checkpoints and a POST with them")
    func auditVerify() async throws {
        let verified = #"{"intact":true,"entries":3,"headSequence":3,"headHash":"aa","checkpointsChecked":0}"#
        let stub = StubCoordinator([.json(200, verified), .json(200, verified)])
        let client = stub.client(token: "t")
        #expect(try await client.auditVerify().intact)
        _ = try await client.auditVerify(checkpoints: "{\"sequence\":3}\n")
        #expect(stub.requests.map(\.method) == ["GET", "POST"])
        #expect(stub.requests.map(\.pathAndQuery) == ["/v1/audit/verify", "/v1/audit/verify"])
        #expect(try stub.requests[1].json() == ["checkpoints": "{\"sequence\":3}\n"])
    }

    @Test("checkpoints come back as the text body, asked for as text")
    func checkpoints() async throws {
        let lines = "{\"sequence\":1}\n{\"sequence\":2}\n"
        let stub = StubCoordinator([
            StubCoordinator.Response(status: 200, headers: ["Content-Type": "text/plain"], body: Data(lines.utf8))
        ])
        #expect(try await stub.client(token: "t").auditCheckpoints() == lines)
        #expect(stub.requests.first?.header("Accept")?.hasPrefix("text/plain") == true)
    }

    @Test("a 429 is rateLimited with the Retry-After delay")
    func rateLimited() async throws {
        let problem = #"{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"too many attempts"}"#
        let stub = StubCoordinator([
            StubCoordinator.Response(
                status: 429, headers: ["Content-Type": "application/problem+json", "Retry-After": "30"],
                body: Data(problem.utf8))
        ])
        await #expect {
            _ = try await stub.client(token: nil).login(email: "a@b.test", password: "x")
        } throws: { error in
            guard let error = error as? AdminClientError, case .rateLimited(let details, _) = error else { return false }
            return details.detail == "too many attempts" && error.retryAfter == .seconds(30) && error.status == 429
                && error.description == "too many attempts (HTTP 429); retry in 30 s"
        }
    }

    @Test("a 204 route with a body sends it and accepts the empty answer")
    func noContentWithBody() async throws {
        let stub = StubCoordinator([.noContent, .noContent])
        let client = stub.client(token: "t")
        try await client.changePassword(currentPassword: "old", newPassword: "a-new-long-password")
        try await client.deleteInvitation(organizationID: "o1", invitationID: "i1")
        #expect(try stub.requests[0].json() == ["currentPassword": "old", "newPassword": "a-new-long-password"])
        #expect(stub.requests.map(\.method) == ["POST", "DELETE"])
        #expect(stub.requests[1].pathAndQuery == "/v1/organizations/o1/invitations/i1")
    }
}
