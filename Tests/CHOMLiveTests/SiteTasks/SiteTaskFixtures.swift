import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

/// One organization with a placed site (see `OrganizationFixture`) for the site-task tests, plus
/// what they need underneath the API: the tasks' decoded payloads, results fed through the
/// gateway's own path, counts.
struct SiteTaskWorld: Sendable {
    let coordinator: TestCoordinator
    let organization: OrganizationFixture
    let agentID: String
    let api: RawAPI

    var owner: String { organization.owner.token }
    var site: String { organization.siteID }

    static func with(
        clock: any WallClock = SystemWallClock(), configure: @escaping (inout CoordinatorConfiguration) -> Void = { _ in },
        _ body: (SiteTaskWorld) async throws -> Void
    ) async throws {
        try await TestCoordinator.with(clock: clock, configure: configure) { coordinator in
            let agent = try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Tasks", operatorToken: coordinator.operatorToken)
            try await body(SiteTaskWorld(
                coordinator: coordinator, organization: organization, agentID: agent, api: RawAPI(coordinator)))
        }
    }

    func count(_ sql: String) async throws -> Int {
        try await TestDatabase.count(sql, dataDirectory: coordinator.dataDirectory)
    }

    /// The typed task as stored in the queue.
    func payload(_ task: String) async throws -> Chom_Agent_V1_Task {
        try await Self.payload(task, in: coordinator)
    }

    static func payload(_ task: String, in coordinator: TestCoordinator) async throws -> Chom_Agent_V1_Task {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            let rows = try await client.query("SELECT payload FROM tasks WHERE id = \(UUID(uuidString: task)!)")
            for try await payload in rows.decode(ByteBuffer.self) {
                // A fixture agent has no sealing key: a task with a secret waits sealed at rest.
                return try Chom_Agent_V1_Task(serializedBytes: QueuedTaskPayload.open(
                    Array(buffer: payload), configuration: coordinator.coordinator.configuration,
                    task: try #require(TaskID(task))))
            }
            throw CHOMError(.notFound, "no task \(task)")
        }
    }

    /// Ids of the tasks of `kind` for `site`, oldest first.
    func tasks(kind: String, site: String? = nil) async throws -> [String] {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            let rows = try await client.query(
                "SELECT id FROM tasks WHERE kind = \(kind) AND site_id = \(UUID(uuidString: site ?? self.site)!) ORDER BY created_at, id")
            var ids: [String] = []
            for try await id in rows.decode(UUID.self) { ids.append(id.uuidString.lowercased()) }
            return ids
        }
    }

    /// Feeds the result of `task`, as its agent would report it, through the gateway's path
    /// (`AgentMessageHandler.record`).
    @discardableResult
    func report(_ task: String, _ fill: (inout Chom_Agent_V1_TaskResult) -> Void) async throws -> TaskRecord? {
        var result = Chom_Agent_V1_TaskResult()
        result.taskID = task
        result.outcome = .succeeded
        result.finishedAtMs = Date().unixMilliseconds
        fill(&result)
        let id = try #require(TaskID(task))
        let finished = result
        return try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            // The task's own agent reports it.
            var agent = AgentID()
            for try await owner in try await client.query("SELECT agent_id FROM tasks WHERE id = \(id.uuid)").decode(UUID.self) {
                agent = AgentID(owner)
            }
            return try await AgentMessageHandler.record(
                finished, id: id, from: agent, store: Store(client: client, logger: TestLogging.logger("chom.test.store")),
                now: Date())
        }
    }

    func send(_ method: String, _ path: String, json: [String: any Sendable]? = nil, token: String? = nil) async throws
        -> TestHTTP.Reply
    {
        try await api.send(method, path, token: token ?? owner, json: json)
    }
}
