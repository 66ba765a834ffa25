import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// Two-factor sign-in on a manual clock (TOTP codes are computed for the coordinator's time), the
/// sealed storage of the TOTP secret, and the login throttle.
@Suite("Two-factor authentication and the login throttle", .serialized)
struct TwoFactorTests {
    private static func withUser(
        clock: ManualWallClock, configure: (inout CoordinatorConfiguration) -> Void = { _ in },
        _ body: (TestCoordinator, RawAPI, SignedInUser, String) async throws -> Void
    ) async throws {
        try await TestCoordinator.with(clock: clock, configure: configure) { coordinator in
            let organization = try await coordinator.client.createOrganization(name: "Two factor")
            let user = try await IdentityFixtures.account(
                coordinator, invitedBy: coordinator.operatorToken, into: organization.id, email: "user@2fa.test",
                role: "viewer")
            try await body(coordinator, RawAPI(coordinator), user, organization.id)
        }
    }

    private static func login(_ api: RawAPI, _ email: String, _ password: String = IdentityFixtures.password)
        async throws -> TestHTTP.Reply
    {
        try await api.send("POST", "/v1/auth/login", token: nil, json: ["email": email, "password": password])
    }

    /// Signs in with the password; the answer must ask for the second factor.
    private static func challenge(_ api: RawAPI, _ user: SignedInUser) async throws -> String {
        let reply = try await login(api, user.email)
        let body = try reply.json()
        #expect(reply.status == 200)
        #expect(body["status"] as? String == "two_factor_required")
        #expect(body["token"] == nil)
        return try #require(body["challenge"] as? String)
    }

    private static func answer(_ api: RawAPI, _ challenge: String, _ code: String) async throws -> TestHTTP.Reply {
        try await api.send("POST", "/v1/auth/login/two-factor", token: nil, json: ["challenge": challenge, "code": code])
    }

    @Test("enroll, confirm with a code from the secret, then sign-in needs a code that is accepted once per time step")
    func enrollAndSignIn() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, _ in
            let client = coordinator.client(token: user.token)
            let enrollment = try await client.enrollTwoFactor()
            let secret = try #require(Base32.decode(enrollment.secret))
            #expect(secret.count == TOTP.secretByteCount)
            #expect(enrollment.otpauthUri.hasPrefix("otpauth://totp/"))
            #expect(enrollment.otpauthUri.contains("secret=\(enrollment.secret)&"))
            // Until confirmed, sign-in needs no code.
            #expect(try await Self.login(api, user.email).json()["status"] as? String == "authenticated")
            let wrongConfirm = try await api.send(
                "POST", "/v1/me/two-factor/confirm", token: user.token,
                json: ["code": TOTP.code(secret: secret, at: clock.now().addingTimeInterval(300))])
            #expect(wrongConfirm.status == 400)
            let recovery = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
            #expect(recovery.recoveryCodes.count == 10)
            #expect(try await client.me().user.twoFactorEnabled)
            let again = try await api.send("POST", "/v1/me/two-factor", token: user.token)
            #expect(again.status == 409)

            let challenge = try await Self.challenge(api, user)
            let later = TOTP.code(secret: secret, at: clock.now().addingTimeInterval(120))
            let wrong = try await Self.answer(api, challenge, later)
            #expect(wrong.status == 401)
            // The confirmation used this time step: its code never signs in.
            let replayOfConfirm = try await Self.answer(api, challenge, TOTP.code(secret: secret, at: clock.now()))
            #expect(replayOfConfirm.status == 401)
            clock.advance(by: 30)
            let code = TOTP.code(secret: secret, at: clock.now())
            let signedIn = try await Self.answer(api, challenge, code)
            #expect(signedIn.status == 200, "\(signedIn.text)")
            let token = try #require(try signedIn.json()["token"] as? String)
            #expect(try await api.send("GET", "/v1/me", token: token).status == 200)
            // A used challenge is gone; the same code on a new challenge in the same step fails.
            #expect(try await Self.answer(api, challenge, code).status == 401)
            let second = try await Self.challenge(api, user)
            #expect(try await Self.answer(api, second, code).status == 401)
            clock.advance(by: 30)
            #expect(try await Self.answer(api, second, TOTP.code(secret: secret, at: clock.now())).status == 200)
        }
    }

    @Test("each recovery code signs in once")
    func recoveryCodes() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, _ in
            let client = coordinator.client(token: user.token)
            let secret = try #require(Base32.decode(try await client.enrollTwoFactor().secret))
            let codes = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now())).recoveryCodes
            #expect(Set(codes).count == 10)
            let first = try await Self.answer(api, try await Self.challenge(api, user), codes[0])
            #expect(first.status == 200, "\(first.text)")
            #expect(try first.json()["token"] is String)
            #expect(try await Self.answer(api, try await Self.challenge(api, user), codes[0]).status == 401)
            #expect(try await Self.answer(api, try await Self.challenge(api, user), codes[0].uppercased()).status == 401)
            #expect(try await Self.answer(api, try await Self.challenge(api, user), codes[1]).status == 200)
        }
    }

    @Test("turning 2FA off needs a session, the password and a valid code")
    func disable() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, api, user, _ in
            let client = coordinator.client(token: user.token)
            let secret = try #require(Base32.decode(try await client.enrollTwoFactor().secret))
            _ = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
            clock.advance(by: 30)
            let code = TOTP.code(secret: secret, at: clock.now())
            let pat = try await client.createToken(
                name: "ci", abilities: Array(CreateTokenRequest.knownAbilities),
                expiresAt: clock.now().addingTimeInterval(3600))
            let attempts: [(String, String, String, Int)] = [
                (pat.token, IdentityFixtures.password, code, 403),
                (user.token, "not-the-password-0123", code, 401),
                (user.token, IdentityFixtures.password, "000000", 401),
                (user.token, IdentityFixtures.password, "", 401),
            ]
            for (token, password, code, status) in attempts {
                let reply = try await api.send(
                    "POST", "/v1/me/two-factor/disable", token: token, json: ["password": password, "code": code])
                #expect(reply.status == status, "\(reply.text)")
            }
            #expect(try await client.me().user.twoFactorEnabled)
            let disabled = try await api.send(
                "POST", "/v1/me/two-factor/disable", token: user.token,
                json: ["password": IdentityFixtures.password, "code": code])
            #expect(disabled.status == 204, "\(disabled.text)")
            #expect(try await client.me().user.twoFactorEnabled == false)
            #expect(try await Self.login(api, user.email).json()["status"] as? String == "authenticated")
        }
    }

    @Test("the TOTP secret is stored sealed (chomsec:), never as the secret itself")
    func secretIsSealed() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock) { coordinator, _, user, _ in
            let enrollment = try await coordinator.client(token: user.token).enrollTwoFactor()
            let secret = try #require(Base32.decode(enrollment.secret))
            let hex = Hex.encode(secret)
            let base64 = Data(secret).base64EncodedString()
            let sealed = try await TestDatabase.count(
                """
                SELECT count(*) FROM two_factor WHERE user_id = '\(user.userID)' AND secret_sealed LIKE 'chomsec:v1:%'
                AND strpos(upper(secret_sealed), '\(enrollment.secret.uppercased())') = 0
                AND strpos(lower(secret_sealed), '\(hex)') = 0
                AND strpos(secret_sealed, '\(base64.prefix(24))') = 0
                """, dataDirectory: coordinator.dataDirectory)
            #expect(sealed == 1)
            let rows = try await TestDatabase.count(
                "SELECT count(*) FROM two_factor", dataDirectory: coordinator.dataDirectory)
            #expect(rows == 1)
        }
    }

    @Test("login failures are limited per account (429, Retry-After); an unknown email answers like a wrong password")
    func loginThrottle() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock, configure: { $0.auth.loginAttemptsPerAccount = 3 }) { _, api, user, _ in
            let unknown = "nobody@2fa.test"
            for attempt in 1...3 {
                let wrong = try await Self.login(api, user.email, "wrong-password-\(attempt)")
                let missing = try await Self.login(api, unknown, "wrong-password-\(attempt)")
                #expect(wrong.status == 401)
                #expect(missing.status == wrong.status)
                #expect(missing.text == wrong.text)
                #expect(missing.headers["content-type"] == wrong.headers["content-type"])
            }
            clock.advance(by: 60)
            let limited = try await Self.login(api, user.email)
            let limitedUnknown = try await Self.login(api, unknown)
            #expect(limited.status == 429, "even the right password waits: \(limited.text)")
            #expect(limited.headers["retry-after"] == "840")
            #expect(limitedUnknown.status == 429)
            #expect(limitedUnknown.text == limited.text)
            #expect(limitedUnknown.headers["retry-after"] == limited.headers["retry-after"])
            // Another account from the same address is not held back by this one.
            #expect(try await Self.login(api, TestCoordinator.operatorEmail, TestCoordinator.operatorPassword).status == 200)
            // When the window has passed, the right password signs in and the count starts over.
            clock.advance(by: 840)
            #expect(try await Self.login(api, user.email).status == 200)
            #expect(try await Self.login(api, user.email, "wrong-again-0123").status == 401)
            #expect(try await Self.login(api, user.email).status == 200)
        }
    }

    @Test("failures from one address are limited across accounts, but successful sign-ins do not use up its allowance")
    func addressThrottle() async throws {
        let clock = IdentityFixtures.clock()
        try await Self.withUser(clock: clock, configure: { $0.auth.loginAttemptsPerAddress = 5 }) {
            coordinator, api, user, organization in
            // Many people signing in from one office address (or one CI runner) are not throttled…
            for _ in 1...8 {
                #expect(try await Self.login(api, user.email).status == 200)
            }
            let accept = try await coordinator.client.createInvitation(
                organizationID: organization, email: "second@2fa.test", role: "viewer")
            let me = try await api.send(
                "POST", "/v1/invitations/accept", token: nil,
                json: ["token": accept.token, "password": IdentityFixtures.password])
            #expect(me.status == 200)
            #expect(try await Self.login(api, "second@2fa.test").status == 200)
            // …but guesses at many accounts are: 5 failures, then 429 for every account from there.
            for index in 1...5 {
                #expect(try await Self.login(api, "guess-\(index)@2fa.test", "wrong-password-0123").status == 401)
            }
            let limited = try await Self.login(api, user.email)
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "900")
        }
    }
}
