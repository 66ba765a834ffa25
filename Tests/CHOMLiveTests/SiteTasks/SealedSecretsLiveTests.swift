import CHOMAPI
import CHOMAgent
import CHOMArchive
import CHOMCore
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Foundation
import PostgresNIO
import SwiftProtobuf
import Testing

/// Secrets in tasks are sealed to the receiving agent (Protocol/README.md, "Sealed secrets"), with a
/// real coordinator, PostgreSQL and agent. A trigger keeps every version of every task row, so the
/// tests see what was stored at each step, not only what is left after the secret is erased.
@Suite("Sealed secrets, live")
struct SealedSecretsLiveTests {
    struct StoredVersion {
        var state: String
        var payload: [UInt8]
        var envelope: [UInt8]?
    }

    static func recordTaskVersions(_ coordinator: TestCoordinator) async throws {
        let data = coordinator.dataDirectory
        try await TestDatabase.execute(
            "CREATE TABLE test_task_versions (n bigserial, id uuid, state text, payload bytea, envelope bytea)",
            dataDirectory: data)
        try await TestDatabase.execute("""
            CREATE FUNCTION test_record_task_version() RETURNS trigger AS $$
            BEGIN
                INSERT INTO test_task_versions (id, state, payload, envelope) VALUES (NEW.id, NEW.state, NEW.payload, NEW.envelope);
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """, dataDirectory: data)
        try await TestDatabase.execute(
            "CREATE TRIGGER test_task_versions AFTER INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION test_record_task_version()",
            dataDirectory: data)
    }

    static func versions(of task: String, in coordinator: TestCoordinator) async throws -> [StoredVersion] {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            let rows = try await client.query(
                "SELECT state, payload, envelope FROM test_task_versions WHERE id = \(UUID(uuidString: task)!) ORDER BY n")
            var versions: [StoredVersion] = []
            for try await (state, payload, envelope) in rows.decode((String, ByteBuffer, ByteBuffer?).self) {
                versions.append(StoredVersion(
                    state: state, payload: Array(buffer: payload), envelope: envelope.map { Array(buffer: $0) }))
            }
            return versions
        }
    }

    /// The task inside a stored envelope (signature not checked: only what it carries matters here).
    static func task(inEnvelope bytes: [UInt8]) throws -> Chom_Agent_V1_Task {
        let envelope = try Chom_Agent_V1_Envelope(serializedBytes: bytes)
        let header = try Chom_Agent_V1_EnvelopeHeader(serializedBytes: envelope.header)
        let payload = try Zstd.decompress(
            envelope.payload, declaredSize: Int(header.uncompressedSize), absoluteCap: EnvelopeLimits().maxUncompressedBytes)
        return try Chom_Agent_V1_Task(serializedBytes: payload)
    }

    /// Every stored envelope and every payload stored (from the first send on, or from the insert
    /// with `fromInsert`) holds the key sealed, never in clear, and it opens to `pem` with the agent's
    /// own key.
    static func expectSealedEverywhere(
        _ versions: [StoredVersion], pem: String, agent: TestAgent, fromInsert: Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let pemLine = Data(try #require(pem.split(separator: "\n").dropFirst().first).utf8)
        let firstSent = try #require(versions.firstIndex { $0.envelope != nil }, "the task was never sent", sourceLocation: sourceLocation)
        let key = try AgentIdentityStore(directory: agent.runtime.configuration.identityDirectory).loadSealingKey()
        #expect(versions.count >= 3, "inserted, sent, finished at least", sourceLocation: sourceLocation)
        for version in versions[(fromInsert ? 0 : firstSent)...] where !version.payload.isEmpty {
            #expect(!Data(version.payload).contains(pemLine), "a stored payload holds the key in clear", sourceLocation: sourceLocation)
            var task = try Chom_Agent_V1_Task(serializedBytes: version.payload)
            #expect(task.configure.site.tls.hasSealedPrivateKey, sourceLocation: sourceLocation)
            try TaskSecrets.open(&task, with: key, audience: agent.agentID.description)
            #expect(task.configure.site.tls.privateKeyPem == pem, sourceLocation: sourceLocation)
        }
        for envelope in versions.compactMap(\.envelope) {
            let task = try task(inEnvelope: envelope)
            #expect(task.configure.site.tls.privateKeyPem.isEmpty, "an envelope carries the key in clear", sourceLocation: sourceLocation)
            #expect(task.configure.site.tls.hasSealedPrivateKey, sourceLocation: sourceLocation)
        }
    }

    /// The agent got the task, opened its secret and ran it: this test agent hosts nothing, so its
    /// executor refuses site tasks, which it reaches only after the sealed key opened.
    static func expectReachedExecutor(_ task: TaskResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(task.isFinal, sourceLocation: sourceLocation)
        #expect(task.message?.contains("does not host sites") == true, "\(task.message ?? "")", sourceLocation: sourceLocation)
        #expect(task.message?.contains("sealed secret") == false, sourceLocation: sourceLocation)
    }

    @Test("a configure task with a TLS key reaches a keyed agent sealed to it, never in clear in the queue or an envelope")
    func keyedAgent() async throws {
        try await TestCoordinator.with { coordinator in
            try await Self.recordTaskVersions(coordinator)
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                #expect(try await TestDatabase.count(
                    "SELECT count(*) FROM agents WHERE id = '\(agent.agentID)' AND octet_length(sealing_public_key) = 32",
                    dataDirectory: coordinator.dataDirectory) == 1, "the key registered at enrollment")
                let site = try await coordinator.createSite(domain: "sealed.test")
                let tls = try FleetCA.create(commonName: "sealed.test", now: Date())
                let queued = try await coordinator.client.configureSite(
                    site.id, SiteConfigRequest(kind: "static", tlsCertificate: tls.certificatePEM, tlsPrivateKey: tls.privateKeyPEM))
                let task = try await coordinator.waitForTask(queued.task.id)
                Self.expectReachedExecutor(task)
                #expect(agent.runtime.executions(of: task.id) == 1)
                let versions = try await Self.versions(of: task.id, in: coordinator)
                // Sealed from the insert on: the agent had its key when the task was queued.
                try Self.expectSealedEverywhere(versions, pem: tls.privateKeyPEM, agent: agent, fromInsert: true)
                // The finished task's payload and envelope are erased, as before.
                let last = try #require(versions.last)
                #expect(last.payload.isEmpty && last.envelope == nil)
            }
        }
    }

    @Test("a keyless agent's task waits, saying why, and is sent sealed once the agent registers a key")
    func keylessAgentWaits() async throws {
        try await TestCoordinator.with { coordinator in
            try await Self.recordTaskVersions(coordinator)
            let state = try TemporaryDirectory.make(prefix: "chom-agent-keyless")
            defer { TemporaryDirectory.remove(state) }
            // An agent as enrolled before sealed secrets: no key on either side.
            let (agentID, siteID) = try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                return (agent.agentID, try await coordinator.createSite(domain: "keyless.test").id)
            }
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            try FileManager.default.removeItem(
                at: state.appendingPathComponent("identity/\(AgentIdentityStore.sealingKeyFile)"))
            try await TestDatabase.execute(
                "UPDATE agents SET sealing_public_key = NULL WHERE id = '\(agentID)'", dataDirectory: coordinator.dataDirectory)

            let tls = try FleetCA.create(commonName: "keyless.test", now: Date())
            let queued = try await coordinator.client.configureSite(
                siteID, SiteConfigRequest(kind: "static", tlsCertificate: tls.certificatePEM, tlsPrivateKey: tls.privateKeyPEM))
            let waiting = "waiting: agent \(agentID) has no sealing key yet"
            let offline = try await coordinator.client.task(id: queued.task.id)
            #expect(offline.state == "queued")
            #expect(offline.message == waiting)
            #expect(offline.progressStep == "waiting")

            // Connected but still keyless (an older agent): the task is not sent.
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state, configure: { $0.sealedSecrets = false }) { agent in
                try await coordinator.waitOnline([agent.agentID])
                try await Task.sleep(for: .milliseconds(1500))
                let held = try await coordinator.client.task(id: queued.task.id)
                #expect(held.state == "queued")
                #expect(held.attempts == 0)
                #expect(held.message == waiting)
                #expect(agent.runtime.executions(of: queued.task.id) == 0)
            }
            let held = try await Self.versions(of: queued.task.id, in: coordinator)
            #expect(held.allSatisfy { $0.envelope == nil })
            // While it waits, the payload is sealed at rest with the coordinator's key ring: the key
            // is in no stored version, and the row holds no parseable task.
            let pemLine = Data(try #require(tls.privateKeyPEM.split(separator: "\n").dropFirst().first).utf8)
            #expect(!held.isEmpty && held.allSatisfy { !Data($0.payload).contains(pemLine) }, "a queued payload holds the key in clear")
            #expect(held.allSatisfy { $0.payload.starts(with: Array("chomsec:v1:".utf8)) })

            // The same agent, now with sealed secrets: it makes a key, registers it, and gets the task.
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                let task = try await coordinator.waitForTask(queued.task.id)
                Self.expectReachedExecutor(task)
                #expect(task.attempts == 1)
                #expect(agent.runtime.executions(of: task.id) == 1)
                let keyFile = state.appendingPathComponent("identity/\(AgentIdentityStore.sealingKeyFile)")
                let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
                #expect(mode == 0o600)
                #expect(try await TestDatabase.count(
                    "SELECT count(*) FROM agents WHERE id = '\(agentID)' AND octet_length(sealing_public_key) = 32",
                    dataDirectory: coordinator.dataDirectory) == 1)
                // Queued before the agent had a key: sealed at rest until sent, sealed to the agent from then on.
                let versions = try await Self.versions(of: task.id, in: coordinator)
                #expect(versions.allSatisfy { !Data($0.payload).contains(pemLine) }, "a stored payload holds the key in clear")
                try Self.expectSealedEverywhere(versions, pem: tls.privateKeyPEM, agent: agent, fromInsert: false)
            }
        }
    }

    @Test("a waiting payload under a key this coordinator lacks waits, saying so; one that does not open fails with the reason; the stream goes on")
    func unopenablePayloadFails() async throws {
        try await TestCoordinator.with { coordinator in
            let state = try TemporaryDirectory.make(prefix: "chom-agent-keyless")
            defer { TemporaryDirectory.remove(state) }
            let (agentID, siteID) = try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                return (agent.agentID, try await coordinator.createSite(domain: "unopenable.test").id)
            }
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            try FileManager.default.removeItem(
                at: state.appendingPathComponent("identity/\(AgentIdentityStore.sealingKeyFile)"))
            try await TestDatabase.execute(
                "UPDATE agents SET sealing_public_key = NULL WHERE id = '\(agentID)'", dataDirectory: coordinator.dataDirectory)
            let tls = try FleetCA.create(commonName: "unopenable.test", now: Date())
            let queued = try await coordinator.client.configureSite(
                siteID, SiteConfigRequest(kind: "static", tlsCertificate: tls.certificatePEM, tlsPrivateKey: tls.privateKeyPEM))
            // As if sealed under a key another replica's ring has (a rotation this one has not seen).
            try await TestDatabase.execute(
                "UPDATE tasks SET payload = convert_to('chomsec:v1:k9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UTF8') WHERE id = '\(queued.task.id)'",
                dataDirectory: coordinator.dataDirectory)
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                try await coordinator.eventually("the task says why it waits") {
                    try await coordinator.client.task(id: queued.task.id).message?.contains("sealed under key k9") == true
                }
                #expect(try await coordinator.client.task(id: queued.task.id).state == "queued")
                // Damaged under a key this coordinator holds: it cannot open, ever.
                try await TestDatabase.execute(
                    "UPDATE tasks SET payload = convert_to('chomsec:v1:k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UTF8') WHERE id = '\(queued.task.id)'",
                    dataDirectory: coordinator.dataDirectory)
                let task = try await coordinator.waitForTask(queued.task.id)
                #expect(task.state == "failed")
                #expect(task.message?.contains("cannot be opened") == true, "\(task.message ?? "")")
                #expect(agent.runtime.executions(of: task.id) == 0)
                // The stream still carries the agent's next task.
                let next = try await coordinator.client.configureSite(siteID, SiteConfigRequest(kind: "static"))
                Self.expectReachedExecutor(try await coordinator.waitForTask(next.task.id))
            }
        }
    }
}
