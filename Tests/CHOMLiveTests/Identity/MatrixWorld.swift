import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Synchronization
import Testing

/// The matrix's fixture: one organization with every role, the other callers, and the state the
/// calls build up (tokens that get used up and reissued, 2FA secrets and recovery codes).
final class MatrixWorld: Sendable {
    let coordinator: TestCoordinator
    let clock: ManualWallClock
    let api: RawAPI
    let organization: OrganizationFixture
    let emails: [MatrixCaller: String]
    let twoFactorEmail: String
    let twoFactorSecret: [UInt8]
    let archive: Data
    private let fixed: [String: String]

    private struct State {
        var tokens: [MatrixCaller: String] = [:]
        var totpSecrets: [MatrixCaller: [UInt8]] = [:]
        var recoveryCodes: [MatrixCaller: [String]] = [:]
        var serial = 0
    }

    private let state: Mutex<State>

    private init(
        coordinator: TestCoordinator, clock: ManualWallClock, organization: OrganizationFixture,
        emails: [MatrixCaller: String], tokens: [MatrixCaller: String], twoFactorEmail: String,
        twoFactorSecret: [UInt8], fixed: [String: String]
    ) throws {
        self.coordinator = coordinator
        self.clock = clock
        api = RawAPI(coordinator)
        self.organization = organization
        self.emails = emails
        self.twoFactorEmail = twoFactorEmail
        self.twoFactorSecret = twoFactorSecret
        self.fixed = fixed
        archive = try IdentityFixtures.releaseArchive()
        state = Mutex(State(tokens: tokens))
    }

    static func make(_ coordinator: TestCoordinator, clock: ManualWallClock) async throws -> MatrixWorld {
        let agent = try await IdentityFixtures.addAgent(coordinator)
        let operatorToken = try await IdentityFixtures.signIn(
            coordinator, TestCoordinator.operatorEmail, password: TestCoordinator.operatorPassword
        ).token
        let operatorClient = coordinator.client(token: operatorToken)
        let organization = try await IdentityFixtures.organization(coordinator, name: "Matrix", operatorToken: operatorToken)
        let owner = organization.owner.token
        var tokens: [MatrixCaller: String] = [
            .owner: owner, .admin: organization.admin.token, .member: organization.member.token,
            .viewer: organization.viewer.token, .platformOperator: operatorToken,
        ]
        var emails: [MatrixCaller: String] = [
            .owner: organization.owner.email, .admin: organization.admin.email, .member: organization.member.email,
            .viewer: organization.viewer.email, .platformOperator: TestCoordinator.operatorEmail,
        ]
        // Owners who present personal access tokens.
        for caller in [MatrixCaller.ownerReadToken, .ownerFullToken] {
            let account = try await IdentityFixtures.account(
                coordinator, invitedBy: owner, into: organization.id, email: "\(caller.slug)@matrix.test", role: "owner")
            emails[caller] = account.email
            tokens[caller] = try await personalAccessToken(coordinator, account.token, caller, clock: clock)
        }
        // The owner of another organization, with a tenant of its own.
        let elsewhere = try await operatorClient.createOrganization(name: "Elsewhere")
        let outsider = try await IdentityFixtures.account(
            coordinator, invitedBy: operatorToken, into: elsewhere.id, email: "owner@elsewhere.test", role: "owner")
        _ = try await coordinator.client(token: outsider.token).createTenant(organizationID: elsewhere.id, name: "theirs")
        emails[.outsider] = outsider.email
        tokens[.outsider] = outsider.token
        // A viewer here who owns another organization.
        let mixedEmail = "\(MatrixCaller.viewerOwnerElsewhere.slug)@matrix.test"
        _ = try await IdentityFixtures.account(
            coordinator, invitedBy: owner, into: organization.id, email: mixedEmail, role: "viewer")
        let mixedOrganization = try await operatorClient.createOrganization(name: "Mixed")
        let mixed = try await IdentityFixtures.account(
            coordinator, invitedBy: operatorToken, into: mixedOrganization.id, email: mixedEmail, role: "owner")
        emails[.viewerOwnerElsewhere] = mixed.email
        tokens[.viewerOwnerElsewhere] = mixed.token
        // A user with 2FA on, for the second step of sign-in.
        let twoFactor = try await IdentityFixtures.account(
            coordinator, invitedBy: owner, into: organization.id, email: "two-factor@matrix.test", role: "viewer")
        let client = coordinator.client(token: twoFactor.token)
        let enrollment = try await client.enrollTwoFactor()
        let secret = try #require(Base32.decode(enrollment.secret))
        _ = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
        let joinToken = try await operatorClient.createJoinToken(CreateJoinTokenRequest(description: "matrix"))
        return try MatrixWorld(
            coordinator: coordinator, clock: clock, organization: organization, emails: emails, tokens: tokens,
            twoFactorEmail: twoFactor.email, twoFactorSecret: secret,
            fixed: [
                "org": organization.id, "tenant": organization.tenantID, "site": organization.siteID,
                "task": organization.taskID, "agent": agent, "joinToken": joinToken.joinToken.id,
            ])
    }

    private static func personalAccessToken(
        _ coordinator: TestCoordinator, _ session: String, _ caller: MatrixCaller, clock: ManualWallClock
    ) async throws -> String {
        let abilities = (caller.abilities ?? []).map(\.rawValue).sorted()
        return try await coordinator.client(token: session).createToken(
            name: "\(caller.slug) \(UUID().uuidString.prefix(8))", abilities: abilities,
            expiresAt: clock.now().addingTimeInterval(86_400)
        ).token
    }

    // MARK: Calls

    func token(_ caller: MatrixCaller) -> String? { state.withLock { $0.tokens[caller] } }

    static func password(_ caller: MatrixCaller) -> String {
        caller == .platformOperator ? TestCoordinator.operatorPassword : IdentityFixtures.password
    }

    private func next() -> Int { state.withLock { $0.serial += 1; return $0.serial } }

    /// Makes one call of `route` as `caller`; returns the answer and the ids used.
    func perform(_ route: MatrixRoute, as caller: MatrixCaller) async throws -> (TestHTTP.Reply, [String: String]) {
        var ids = fixed
        if let prepare = route.prepare { ids.merge(try await prepare(self, caller)) { $1 } }
        var path = route.path
        for (key, value) in ids { path = path.replacingOccurrences(of: "{\(key)}", with: value) }
        let bearer = ids["bearer"] ?? token(caller)
        let reply: TestHTTP.Reply
        switch route.body {
        case .none: reply = try await api.send(route.method, path, token: bearer)
        case .json(let make):
            reply = try await api.send(route.method, path, token: bearer, json: try make(self, caller, ids))
        case .archive: reply = try await api.upload(path, token: bearer, archive: archive)
        case .stripeEvent:
            let created = Int64(Date().timeIntervalSince1970)
            let payload = Data(#"{"id":"evt_matrix_\#(next())","type":"matrix.ping","created":\#(created),"data":{"object":{}}}"#.utf8)
            reply = try await TestHTTP.request(
                route.method, api.url(path), token: bearer, body: payload, headers: [
                    "Stripe-Signature": WebhookSignature.header(payload: payload, timestamp: created, secret: Self.stripeSecret),
                ])
        case .alertmanagerDelivery:
            let payload = Data(#"""
                {"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"MatrixPing","n":"\#(next())"},
                "annotations":{},"startsAt":"2026-12-05T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}
                """#.utf8)
            reply = try await TestHTTP.request(route.method, api.url(path), token: Self.alertmanagerToken, body: payload)
        }
        try await route.after?(self, caller, reply)
        return (reply, ids)
    }

    /// A count from the database, with `{caller}` and the call's ids filled in.
    func count(_ sql: String, caller: MatrixCaller, ids: [String: String]) async throws -> Int {
        var text = sql.replacingOccurrences(of: "{caller}", with: caller.slug)
        for (key, value) in ids { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return try await TestDatabase.count(text, dataDirectory: coordinator.dataDirectory)
    }

    // MARK: Fresh objects for one call

    /// A new token of the caller's kind, as `bearer`, for calls that use one up (rotate, logout,
    /// revoke-all). None for the anonymous caller.
    func freshBearer(_ caller: MatrixCaller) async throws -> [String: String] {
        guard let token = try await newToken(caller) else { return [:] }
        return ["bearer": token]
    }

    /// Replaces the caller's token after a call that may have revoked it.
    func reissue(_ caller: MatrixCaller) async throws {
        guard let token = try await newToken(caller) else { return }
        state.withLock { $0.tokens[caller] = token }
    }

    private func newToken(_ caller: MatrixCaller) async throws -> String? {
        guard let email = emails[caller] else { return nil }
        let session = try await IdentityFixtures.signIn(coordinator, email, password: Self.password(caller)).token
        guard caller.abilities != nil else { return session }
        return try await Self.personalAccessToken(coordinator, session, caller, clock: clock)
    }

    /// The id of another token of the caller's user, as `token` (a random id for the anonymous caller).
    func freshOwnTokenID(_ caller: MatrixCaller) async throws -> [String: String] {
        guard let email = emails[caller] else { return ["token": UUID().uuidString.lowercased()] }
        return ["token": try await IdentityFixtures.signIn(coordinator, email, password: Self.password(caller)).id]
    }

    /// A new viewer of the organization, as `user`.
    func freshMember(for caller: MatrixCaller) async throws -> [String: String] {
        let account = try await IdentityFixtures.account(
            coordinator, invitedBy: try #require(token(.owner)), into: organization.id,
            email: "member-\(next())-for-\(caller.slug)@matrix.test", role: "viewer")
        return ["user": account.userID]
    }

    /// A new open invitation to the organization, as `invitation` and `invitationToken`.
    func freshInvitation(for caller: MatrixCaller) async throws -> [String: String] {
        let created = try await coordinator.client(token: token(.owner)).createInvitation(
            organizationID: organization.id, email: "invitation-\(next())-for-\(caller.slug)@matrix.test", role: "viewer")
        return ["invitation": created.invitation.id, "invitationToken": created.token]
    }

    /// A new email channel of the organization, made by its owner, as `channel`.
    func freshChannel(for caller: MatrixCaller) async throws -> [String: String] {
        let created = try await coordinator.client(token: token(.owner)).createNotificationChannel(
            organizationID: organization.id,
            CreateNotificationChannelRequest(kind: "email", email: "channel-\(next())-for-\(caller.slug)@matrix.test"))
        return ["channel": created.channel.id]
    }

    /// A new site of the organization's tenant, made by its owner, as `freshSite`.
    func freshSite(for caller: MatrixCaller) async throws -> [String: String] {
        let site = try await coordinator.client(token: token(.owner)).createSite(
            tenantID: organization.tenantID, domain: "remove-\(next())-\(caller.slug).matrix.test")
        return ["freshSite": site.id]
    }

    /// A stored, succeeded backup of the organization's site, as `backup`.
    func freshBackup() async throws -> [String: String] {
        ["backup": try await IdentityFixtures.addBackup(coordinator, site: organization.siteID, tenant: organization.tenantID)]
    }

    static let stripeSecret = "whsec_matrix_\(UUID().uuidString)"

    static let alertmanagerToken = "am-matrix-\(UUID().uuidString)"

    /// A file holding `alertmanagerToken`, for the coordinator's `notifications.alertmanagerTokenFile`.
    static func alertmanagerTokenFile() -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chom-matrix-\(UUID().uuidString).amtoken")
        try? Data(alertmanagerToken.utf8).write(to: file)
        return file.path
    }

    /// A file holding `stripeSecret`, for the coordinator's `billing.stripeWebhookSecretFile`.
    static func stripeSecretFile() -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chom-matrix-\(UUID().uuidString).whsec")
        try? Data(stripeSecret.utf8).write(to: file)
        return file.path
    }

    /// A finalized invoice of the organization (1,000 minor units), written straight in the
    /// database as a period close leaves it, as `invoice`.
    func freshInvoice() async throws -> [String: String] {
        let id = UUID().uuidString.lowercased()
        let serial = next()
        try await TestDatabase.execute("""
            INSERT INTO invoices (id, organization_id, issuer, number, status, period_start, period_end, plan_code,
                currency, total_minor, finalized_at)
            VALUES ('\(id)', '\(organization.id)', 'matrix', \(serial), 'open',
                '2000-01-01'::timestamptz + interval '\(serial) months', '2000-02-01'::timestamptz + interval '\(serial) months',
                'unmetered', 'EUR', 1000, now())
            """, dataDirectory: coordinator.dataDirectory)
        try await TestDatabase.execute("""
            INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity, unit_price_minor, amount_minor)
            VALUES ('\(id)', 0, 'base', 'plan unmetered', 744, 1000, 1000)
            """, dataDirectory: coordinator.dataDirectory)
        return ["invoice": id]
    }

    /// A new plan (made by the operator), as `plan`.
    func freshPlan(for caller: MatrixCaller) async throws -> [String: String] {
        let code = "fresh-\(caller.slug)-\(next())"
        _ = try await coordinator.client(token: token(.platformOperator)).createPlan(
            PlanRequest(code: code, name: "Fresh", currency: "EUR", monthlyPriceMinor: 500))
        return ["plan": code]
    }

    func freshJoinToken() async throws -> String {
        try await coordinator.client(token: token(.platformOperator))
            .createJoinToken(CreateJoinTokenRequest(description: "to revoke")).joinToken.id
    }

    /// A sign-in challenge of the 2FA user and its code for the next time step (each step signs in once).
    func twoFactorChallenge() async throws -> [String: String] {
        let login = try await coordinator.client(token: nil)
            .login(email: twoFactorEmail, password: IdentityFixtures.password)
        let challenge = try #require(login.challenge)
        clock.advance(by: 30)
        return ["challenge": challenge, "code": TOTP.code(secret: twoFactorSecret, at: clock.now())]
    }

    // MARK: Two-factor state of each caller

    func rememberEnrollment(_ caller: MatrixCaller, _ reply: TestHTTP.Reply) throws {
        guard reply.status == 200, let text = try reply.json()["secret"] as? String else { return }
        let secret = try #require(Base32.decode(text))
        state.withLock { $0.totpSecrets[caller] = secret }
    }

    func rememberRecoveryCodes(_ caller: MatrixCaller, _ reply: TestHTTP.Reply) throws {
        guard reply.status == 200, let codes = try reply.json()["recoveryCodes"] as? [String] else { return }
        state.withLock { $0.recoveryCodes[caller] = codes }
    }

    /// The caller's current TOTP code ("000000" before enrollment).
    func currentCode(_ caller: MatrixCaller) -> String {
        guard let secret = state.withLock({ $0.totpSecrets[caller] }) else { return "000000" }
        return TOTP.code(secret: secret, at: clock.now())
    }

    func recoveryCode(_ caller: MatrixCaller) -> String {
        state.withLock { $0.recoveryCodes[caller]?.first } ?? "aaaa-bbbb-cccc"
    }
}
