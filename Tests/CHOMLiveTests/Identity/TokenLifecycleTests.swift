import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// Bearer tokens over time, on a manual clock: session expiry, rotation and its grace, sign-out and
/// revocation, personal access tokens limited by abilities and expiry, last use, and the token format.
@Suite("Token lifecycle on a manual clock", .serialized)
struct TokenLifecycleTests {
    /// A coordinator on `clock` and a user (a member of a tenant with a placed site) signed in.
    private static func withUser(
        clock: ManualWallClock, configure: (inout CoordinatorConfiguration) -> Void = { _ in },
        _ body: (TestCoordinator, RawAPI, SignedInUser, String) async throws -> Void
    ) async throws {
        try await TestCoordinator.with(clock: clock, configure: configure) { coordinator in
            let tenant = try await coordinator.testTenant()
            let organization = try await coordinator.client.tenant(id: tenant).organizationId
            let user = try await IdentityFixtures.account(
                coordinator, invitedBy: coordinator.operatorToken, into: organization, email: "user@tokens.test",
                role: "member")
            try await body(coordinator, RawAPI(coordinator), user, tenant)
        }
    }

    private static func me(_ api: RawAPI, _ token: String) async throws -> TestHTTP.Reply {
        try await api.send("GET", "/v1/me", token: token)
    }

    @Test("a session token works until 60 minutes after sign-in and answers 401 from then on")
    func sessionExpires() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { _, api, user, _ in
            clock.advance(by: 3599)
            #expect(try await Self.me(api, user.token).status == 200)
            clock.advance(by: 1)
            let expired = try await Self.me(api, user.token)
            #expect(expired.status == 401)
            #expect(IdentityFixtures.detail(expired) == "the token has expired")
            #expect(expired.headers["www-authenticate"] == "Bearer")
        }
    }

    @Test("rotation: the new token works, the old one for the configured grace only (30 s here, 60 s by default), once")
    func rotationGrace() async throws {
        #expect(CoordinatorConfiguration().auth.rotationGraceSeconds == 60)
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock, configure: { $0.auth.rotationGraceSeconds = 30 }) {
            coordinator, api, user, _ in
            let rotated = try await coordinator.client(token: user.token).rotateToken()
            #expect(rotated.token != user.token)
            #expect(rotated.tokenInfo.kind == "session")
            #expect(rotated.tokenInfo.expiresAt == clock.now().addingTimeInterval(3600))
            // A token in its grace cannot spawn a second successor.
            let again = try await api.send("POST", "/v1/auth/token/rotate", token: user.token)
            #expect(again.status == 409, "\(again.text)")
            clock.advance(by: 29)
            #expect(try await Self.me(api, user.token).status == 200)
            #expect(try await Self.me(api, rotated.token).status == 200)
            clock.advance(by: 1)
            let old = try await Self.me(api, user.token)
            #expect(old.status == 401)
            #expect(IdentityFixtures.detail(old).contains("rotated"))
            #expect(try await Self.me(api, rotated.token).status == 200)
            // The successor lives a full session from its rotation.
            clock.advance(by: 3600 - 31)
            #expect(try await Self.me(api, rotated.token).status == 200)
            clock.advance(by: 1)
            #expect(try await Self.me(api, rotated.token).status == 401)
        }
    }

    @Test("logout revokes the presented token; revoking one token leaves the others; revoke-all ends every one")
    func revocation() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, _ in
            let logout = try await api.send("POST", "/v1/auth/logout", token: user.token)
            #expect(logout.status == 204)
            let afterLogout = try await Self.me(api, user.token)
            #expect(afterLogout.status == 401)
            #expect(IdentityFixtures.detail(afterLogout) == "the token was revoked")

            let first = try await IdentityFixtures.signIn(coordinator, user.email)
            let second = try await IdentityFixtures.signIn(coordinator, user.email)
            let third = try await IdentityFixtures.signIn(coordinator, user.email)
            #expect(try await api.send("DELETE", "/v1/tokens/\(second.id)", token: first.token).status == 204)
            #expect(try await Self.me(api, second.token).status == 401)
            #expect(try await Self.me(api, first.token).status == 200)
            #expect(try await Self.me(api, third.token).status == 200)
            // Revoking again, or an id that is not one's own, is 404.
            #expect(try await api.send("DELETE", "/v1/tokens/\(second.id)", token: first.token).status == 404)
            let operatorTokenID = try #require(try await coordinator.client.allTokens().first).id
            #expect(try await api.send("DELETE", "/v1/tokens/\(operatorTokenID)", token: first.token).status == 404)
            #expect(try await coordinator.client.me().user.email == TestCoordinator.operatorEmail)

            let pat = try await coordinator.client(token: third.token).createToken(
                name: "ci", abilities: ["sites:read"], expiresAt: clock.now().addingTimeInterval(86_400))
            #expect(try await api.send("POST", "/v1/tokens/revoke-all", token: first.token).status == 204)
            for token in [first.token, third.token, pat.token] {
                #expect(try await Self.me(api, token).status == 401)
            }
            let fresh = try await IdentityFixtures.signIn(coordinator, user.email)
            let listed = try await coordinator.client(token: fresh.token).allTokens()
            #expect(listed.map(\.id) == [fresh.id], "only the new session is active: \(listed)")
        }
    }

    @Test("a personal access token is limited to its abilities and can never mint a stronger token")
    func personalAccessTokenAbilities() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, tenant in
            try await IdentityFixtures.addAgent(coordinator)
            let expiry = IdentityFixtures.iso(clock.now().addingTimeInterval(86_400))
            let session = coordinator.client(token: user.token)
            let reader = try await session.createToken(
                name: "reader", abilities: ["sites:read"], expiresAt: clock.now().addingTimeInterval(86_400))
            #expect(reader.tokenInfo.kind == "personal_access")
            #expect(reader.tokenInfo.abilities == ["sites:read"])
            #expect(try await api.send("GET", "/v1/sites", token: reader.token).status == 200)
            let create = try await api.send(
                "POST", "/v1/tenants/\(tenant)/sites", token: reader.token, json: ["domain": "pat.tokens.test"])
            #expect(create.status == 403, "\(create.text)")
            #expect(IdentityFixtures.detail(create).contains("sites:write"))
            let mint = try await api.send(
                "POST", "/v1/tokens", token: reader.token,
                json: ["name": "more", "abilities": ["sites:write"], "expiresAt": expiry])
            #expect(mint.status == 403, "\(mint.text)")
            // The same user's session may create the site: the token, not the role, refused it.
            #expect(try await api.send(
                "POST", "/v1/tenants/\(tenant)/sites", token: user.token, json: ["domain": "pat.tokens.test"]
            ).status == 201)

            // A token that may create tokens still cannot create one stronger than itself.
            let minter = try await session.createToken(
                name: "minter", abilities: ["sites:read", "tokens:write"], expiresAt: clock.now().addingTimeInterval(86_400))
            for (abilities, status) in [
                (["sites:write"], 403), (["sites:read", "agents:read"], 403), (["sites:read"], 201), (["tokens:read"], 201),
            ] {
                let reply = try await api.send(
                    "POST", "/v1/tokens", token: minter.token,
                    json: ["name": "child", "abilities": abilities, "expiresAt": expiry])
                #expect(reply.status == status, "\(abilities): \(reply.text)")
            }
            // Nor may a token live forever, in the past, or beyond a year.
            for (expiresAt, what) in [
                (clock.now().addingTimeInterval(-60), "in the past"), (clock.now(), "now"),
                (clock.now().addingTimeInterval(400 * 86_400), "too far"),
            ] {
                let reply = try await api.send(
                    "POST", "/v1/tokens", token: user.token,
                    json: ["name": "bad", "abilities": ["sites:read"], "expiresAt": IdentityFixtures.iso(expiresAt)])
                #expect(reply.status == 400, "expiry \(what): \(reply.text)")
            }
            let noExpiry = try await api.send(
                "POST", "/v1/tokens", token: user.token, json: ["name": "bad", "abilities": ["sites:read"]])
            #expect(noExpiry.status == 400)
            let unknown = try await api.send(
                "POST", "/v1/tokens", token: user.token,
                json: ["name": "bad", "abilities": ["sites:admin"], "expiresAt": expiry])
            #expect(unknown.status == 400)
            // Rotating a personal access token changes its secret, not its abilities or its life.
            let rotating = try await session.createToken(
                name: "rotating", abilities: ["sites:read"], expiresAt: clock.now().addingTimeInterval(7200))
            let successor = try await coordinator.client(token: rotating.token).rotateToken()
            #expect(successor.tokenInfo.kind == "personal_access")
            #expect(successor.tokenInfo.abilities == ["sites:read"])
            #expect(successor.tokenInfo.expiresAt == rotating.tokenInfo.expiresAt)
            #expect(try await api.send(
                "POST", "/v1/tenants/\(tenant)/sites", token: successor.token, json: ["domain": "rotated.tokens.test"]
            ).status == 403)
            // A personal access token stops at its expiry.
            clock.advance(by: 86_399)
            #expect(try await api.send("GET", "/v1/sites", token: reader.token).status == 200)
            clock.advance(by: 1)
            #expect(try await api.send("GET", "/v1/sites", token: reader.token).status == 401)
        }
    }

    @Test("lastUsedAt is empty until a token is used, then the time of its last use (to the minute)")
    func lastUsedAt() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, _ in
            let pat = try await coordinator.client(token: user.token).createToken(
                name: "ci", abilities: ["sites:read"], expiresAt: clock.now().addingTimeInterval(86_400))
            func listed() async throws -> TokenResponse {
                let tokens = try await coordinator.client(token: user.token).allTokens()
                return try #require(tokens.first { $0.id == pat.tokenInfo.id })
            }
            #expect(try await listed().lastUsedAt == nil)
            clock.advance(by: 5)
            let used = clock.now()
            #expect(try await api.send("GET", "/v1/sites", token: pat.token).status == 200)
            clock.advance(by: 10)
            #expect(try await listed().lastUsedAt == used)
            // Recorded at most once a minute: a use 50 s later keeps the time, one after a minute moves it.
            clock.advance(by: 40)
            #expect(try await api.send("GET", "/v1/sites", token: pat.token).status == 200)
            #expect(try await listed().lastUsedAt == used)
            clock.advance(by: 11)
            let later = clock.now()
            #expect(try await api.send("GET", "/v1/sites", token: pat.token).status == 200)
            #expect(try await listed().lastUsedAt == later)
        }
    }

    @Test("a token is chom_ plus 71 characters; one with a flipped checksum character is 401")
    func tokenFormat() async throws {
        try await Self.withUser(clock: IdentityFixtures.clock()) { coordinator, api, user, _ in
            let pat = try await coordinator.client(token: user.token).createToken(
                name: "ci", abilities: ["sites:read"], expiresAt: Date().addingTimeInterval(86_400)
            ).token
            for token in [user.token, pat] {
                #expect(token.hasPrefix("chom_"))
                #expect(token.count == 76)
                #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
                #expect(try await Self.me(api, token).status == 200)
                var flipped = Array(token)
                flipped[75] = flipped[75] == "A" ? "B" : "A"
                let reply = try await Self.me(api, String(flipped))
                #expect(reply.status == 401)
                #expect(IdentityFixtures.detail(reply) == "invalid bearer token")
                #expect(try await Self.me(api, String(token.dropLast())).status == 401)
                #expect(try await Self.me(api, token + "A").status == 401)
            }
            #expect(try await api.send("GET", "/v1/me", token: nil).status == 401)
        }
    }
}
