package import CHOMAPI
import CHOMArchive
package import CHOMCore
package import Foundation

/// Admin API calls the live tests make, through the same client the CLI uses.
extension TestCoordinator {
    /// The operator's client.
    package var client: AdminClient { AdminClient(baseURL: apiURL, token: operatorToken) }

    /// A client with another token (or none).
    package func client(token: String?) -> AdminClient { AdminClient(baseURL: apiURL, token: token) }

    package func createJoinToken(maxUses: Int = 1) async throws -> String {
        try await client.createJoinToken(CreateJoinTokenRequest(description: "test", maxUses: maxUses)).token
    }

    /// Polls until `condition` holds or `timeout` passes.
    package func eventually(
        _ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CHOMError(.unavailable, "timed out waiting for \(what)")
    }

    package func waitOnline(_ agents: [AgentID]) async throws {
        try await eventually("agents online") {
            let online = Set(try await client.agents().filter { $0.state == "online" }.map(\.id))
            return agents.allSatisfy { online.contains($0.description) }
        }
    }

    /// Packs `files` (relative path → contents) as tar.zst, uploads it for `site` and deploys it.
    package func deploy(site: String, files: [String: String]) async throws -> TaskResponse {
        let release = try await client.uploadRelease(site: site, archive: try Self.releaseArchive(files))
        return try await client.deploy(site: site, releaseID: release.id)
    }

    /// `files` (relative path → contents) packed as a release archive (tar.zst).
    package static func releaseArchive(_ files: [String: String]) throws -> Data {
        let directory = try TemporaryDirectory.make(prefix: "chom-release")
        defer { TemporaryDirectory.remove(directory) }
        for (path, contents) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        return try TarZst.pack(directory: directory)
    }

    package func waitForTask(_ id: String, timeout: Duration = .seconds(30)) async throws -> TaskResponse {
        var last: TaskResponse?
        try await eventually("task \(id) to finish", timeout: timeout) {
            last = try await client.task(id: id)
            return last?.isFinal == true
        }
        return last!
    }
}

/// Tenancy fixtures through the real API.
extension TestCoordinator {
    /// The id of a tenant named "default" in an organization named "tests", created on first use.
    package func testTenant() async throws -> String {
        var organization = try await client.allOrganizations().first(where: { $0.name == "tests" })
        if organization == nil { organization = try await client.createOrganization(name: "tests") }
        guard let organization else { throw CHOMError(.internal, "no test organization") }
        let tenants = try await client.allTenants(organizationID: organization.id)
        if let tenant = tenants.first(where: { $0.name == "default" }) { return tenant.id }
        return try await client.createTenant(organizationID: organization.id, name: "default").id
    }

    /// Creates a site in the test tenant, as the operator.
    @discardableResult
    package func createSite(domain: String) async throws -> SiteResponse {
        try await client.createSite(tenantID: try await testTenant(), domain: domain)
    }
}
