import CHOMAPI
import CHOMArchive
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

// Fixtures shared by the identity live tests (authorization matrix, tenant isolation, token
// lifecycle, two-factor): people and organizations made through the real API, raw requests with
// hand-written JSON bodies, and a few checks on answers.

/// A user who accepted an invitation and signed in with a password.
struct SignedInUser: Sendable {
    let email: String
    let password: String
    let userID: String
    /// A session token from `POST /v1/auth/login`.
    let token: String
    let tokenID: String
}

/// One organization as the tests need it: a tenant with a placed site, an uploaded release and a
/// deploy task; an owner, an admin, a member and a viewer (all with every tenant); one open invitation.
struct OrganizationFixture: Sendable {
    let id: String
    let name: String
    let tenantID: String
    let tenantName: String
    let siteID: String
    let domain: String
    let releaseID: String
    let taskID: String
    let owner: SignedInUser
    let admin: SignedInUser
    let member: SignedInUser
    let viewer: SignedInUser
    let openInvitationID: String
    let openInvitationToken: String

    var people: [SignedInUser] { [owner, admin, member, viewer] }
    /// Text that must never appear in an answer to someone outside the organization.
    var privateWords: [String] { [name, tenantName, domain, "pending@\(domain)"] + people.map(\.email) }
}

/// Requests with JSON bodies given as dictionaries, so a test can send any field (unknown ones,
/// server-managed ones) and read the status and body as they are.
struct RawAPI: Sendable {
    let base: URL

    init(_ coordinator: TestCoordinator) { base = coordinator.apiURL }

    func send(_ method: String, _ path: String, token: String?, json: [String: any Sendable]? = nil) async throws
        -> TestHTTP.Reply
    {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0 as [String: Any], options: [.sortedKeys]) }
        return try await TestHTTP.request(method, url(path), token: token, body: body)
    }

    /// `base` + `path`, a query after `?` kept as a query (`appending(path:)` alone would
    /// percent-encode the `?` into the path).
    func url(_ path: String) -> URL {
        guard let mark = path.firstIndex(of: "?") else { return base.appending(path: path) }
        var components = URLComponents(url: base.appending(path: String(path[..<mark])), resolvingAgainstBaseURL: false)!
        components.percentEncodedQuery = String(path[path.index(after: mark)...])
        return components.url!
    }

    func upload(_ path: String, token: String?, archive: Data) async throws -> TestHTTP.Reply {
        try await TestHTTP.request(
            "POST", base.appending(path: path), token: token, body: archive, contentType: "application/zstd")
    }
}

enum IdentityFixtures {
    static let password = "identity-tests-password-0123"

    /// A manual clock at the current whole second (the API writes times to the second).
    static func clock() -> ManualWallClock {
        ManualWallClock(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
    }

    /// An ISO-8601 time as the API reads it.
    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// Registers an agent straight in the database (sites need an online one to be placed). Its
    /// heartbeat lies an hour ahead so housekeeping does not mark it offline.
    @discardableResult
    static func addAgent(_ coordinator: TestCoordinator, state: String = "online") async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await TestDatabase.execute(
            """
            INSERT INTO agents (id, name, state, certificate_serial, certificate_not_after, enrolled_at, last_heartbeat_at)
            VALUES ('\(id)', 'db-agent-\(id.prefix(8))', '\(state)', '\(id.prefix(8))', now() + interval '1 day',
                    now(), now() + interval '1 hour');
            """, dataDirectory: coordinator.dataDirectory)
        return id
    }

    /// A succeeded, stored (unencrypted) backup of `site`, written straight in the database as an
    /// agent's report would leave it.
    @discardableResult
    static func addBackup(_ coordinator: TestCoordinator, site: String, tenant: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await TestDatabase.execute(
            """
            INSERT INTO backups (id, site_id, tenant_id, state, object_key, size_bytes, duration_ms, archive_sha256,
                                 file_count, encrypted, created_at, finished_at)
            VALUES ('\(id)', '\(site)', '\(tenant)', 'succeeded', 'sites/\(site)/\(id).tar.zst', 1234, 56,
                    '\(String(repeating: "ab", count: 32))', 3, false, now(), now());
            """, dataDirectory: coordinator.dataDirectory)
        return id
    }

    /// Signs in with a password; the answer must be a session token (no two-factor).
    static func signIn(_ coordinator: TestCoordinator, _ email: String, password: String = password) async throws
        -> (token: String, id: String)
    {
        let login = try await coordinator.client(token: nil).login(email: email, password: password)
        let token = try #require(login.token, "\(email) got \(login.status), not a session token")
        let info = try #require(login.tokenInfo)
        return (token, info.id)
    }

    /// Invites `email` into `organization` as `role` (with `inviter`'s token), accepts the
    /// invitation with `password` and signs in.
    static func account(
        _ coordinator: TestCoordinator, invitedBy inviter: String, into organization: String, email: String,
        role: String, tenantIDs: [String]? = nil
    ) async throws -> SignedInUser {
        let invitation = try await coordinator.client(token: inviter).createInvitation(
            organizationID: organization, email: email, role: role, tenantIDs: tenantIDs)
        let me = try await coordinator.client(token: nil).acceptInvitation(
            token: invitation.token, password: password, displayName: email)
        let session = try await signIn(coordinator, email)
        return SignedInUser(email: email, password: password, userID: me.user.id, token: session.token, tokenID: session.id)
    }

    /// A tiny tar.zst release (one index.html).
    static func releaseArchive() throws -> Data {
        let directory = try TemporaryDirectory.make(prefix: "chom-id-release")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("<h1>hello</h1>\n".utf8).write(to: directory.appendingPathComponent("index.html"))
        return try TarZst.pack(directory: directory)
    }

    /// An organization named `name` made by the operator, filled through the API by its owner (see
    /// `OrganizationFixture`). Needs an online agent for the site.
    static func organization(_ coordinator: TestCoordinator, name: String, operatorToken: String) async throws
        -> OrganizationFixture
    {
        let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
        let organization = try await coordinator.client(token: operatorToken).createOrganization(name: name)
        let owner = try await account(
            coordinator, invitedBy: operatorToken, into: organization.id, email: "owner@\(slug).test", role: "owner")
        let client = coordinator.client(token: owner.token)
        let tenant = try await client.createTenant(organizationID: organization.id, name: "\(name) tenant")
        func person(_ role: String) async throws -> SignedInUser {
            try await account(
                coordinator, invitedBy: owner.token, into: organization.id, email: "\(role)@\(slug).test", role: role)
        }
        let admin = try await person("admin")
        let member = try await person("member")
        let viewer = try await person("viewer")
        let site = try await client.createSite(tenantID: tenant.id, domain: "www.\(slug).test")
        let release = try await client.uploadRelease(site: site.id, archive: try releaseArchive())
        let task = try await client.deploy(site: site.id, releaseID: release.id)
        let invitation = try await client.createInvitation(
            organizationID: organization.id, email: "pending@www.\(slug).test", role: "viewer")
        return OrganizationFixture(
            id: organization.id, name: name, tenantID: tenant.id, tenantName: tenant.name, siteID: site.id,
            domain: site.domain, releaseID: release.id, taskID: task.id, owner: owner, admin: admin, member: member,
            viewer: viewer, openInvitationID: invitation.invitation.id, openInvitationToken: invitation.token)
    }

    /// Every object key in a JSON document, at any depth.
    static func keys(in json: Any) -> Set<String> {
        switch json {
        case let object as [String: Any]:
            object.reduce(into: Set(object.keys)) { $0.formUnion(keys(in: $1.value)) }
        case let array as [Any]:
            array.reduce(into: Set<String>()) { $0.formUnion(keys(in: $1)) }
        default:
            []
        }
    }

    /// Keys that would mean a stored secret leaked into an answer.
    static let secretKeys: Set<String> = [
        "password", "passwordHash", "password_hash", "secretSha256", "secretSHA256", "secret_sha256", "secretHash",
        "secretSealed", "secret_sealed", "recoveryCodeHashes", "recovery_code_hashes",
    ]

    /// The `detail` of a problem answer ("" for anything else).
    static func detail(_ reply: TestHTTP.Reply) -> String {
        ((try? reply.json())?["detail"] as? String) ?? ""
    }
}
