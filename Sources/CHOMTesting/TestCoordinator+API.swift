package import CHOMAPI
import CHOMArchive
package import CHOMCore
import Foundation

/// Admin API calls the live tests make, through the same client the CLI uses.
extension TestCoordinator {
    package var client: AdminClient { AdminClient(baseURL: apiURL, token: bootstrapToken) }

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
        let directory = try TemporaryDirectory.make(prefix: "chom-release")
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, contents) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        let archive = try TarZst.pack(directory: directory)
        let release = try await client.uploadRelease(site: site, archive: archive)
        return try await client.deploy(site: site, releaseID: release.id)
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
