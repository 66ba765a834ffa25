import CHOMAPI
import CHOMArchive
import CHOMAgent
import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Testing
import X509

/// A coordinator and agents in process, over real mTLS on 127.0.0.1, against a real PostgreSQL.
@Suite("Fleet: enrollment, connection and deploys end to end")
struct FleetTests {
    @Test("two agents enroll and connect; a deploy lands under current/ on the chosen agent and shows in metrics")
    func deployEndToEnd() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestAgent.with(coordinator: coordinator, name: "vps-a") { a in
                try await TestAgent.with(coordinator: coordinator, name: "vps-b") { b in
                    try await coordinator.waitOnline([a.agentID, b.agentID])
                    let first = try await coordinator.createSite(domain: "one.test")
                    let second = try await coordinator.createSite(domain: "two.test")
                    #expect(Set([first.agentId, second.agentId]) == Set([a.agentID.description, b.agentID.description]))
                    let agentOfFirst = first.agentId == a.agentID.description ? a : b

                    let started = try await coordinator.deploy(site: "one.test", files: ["index.html": "<h1>one</h1>"])
                    // Woken at once, the agent may have accepted or even run it before the answer.
                    #expect(["queued", "sent", "accepted", "succeeded"].contains(started.state), "\(started.state)")
                    let task = try await coordinator.waitForTask(started.id)
                    #expect(task.state == "succeeded", "\(task.message ?? "")")
                    let served = agentOfFirst.sitesRoot.appendingPathComponent("one.test/current/index.html")
                    #expect(try String(contentsOf: served, encoding: .utf8) == "<h1>one</h1>")
                    #expect(task.releasePath?.hasPrefix(agentOfFirst.sitesRoot.path) == true)
                    let site = try await coordinator.client.site("one.test")
                    #expect(site.state == "active")
                    #expect(site.currentReleaseId == task.releaseId)
                    #expect(agentOfFirst.runtime.executions(of: task.id) == 1)
                    let metrics = agentOfFirst.runtime.metricsText()
                    #expect(metrics.contains("chom_agent_tasks_total{kind=\"deploy\",outcome=\"succeeded\"} 1"), "\(metrics)")
                    // The deploy carries the site's configuration, tenant included.
                    #expect(
                        metrics.contains("chom_site_last_deploy_timestamp_seconds{site=\"one.test\",tenant=\"\(first.tenantId)\"}"),
                        "\(metrics)")
                    #expect(metrics.contains("chom_agent_stream_connected 1"))
                    // Counted once the result is recorded, which the API may show a moment before.
                    try await coordinator.eventually("the result counted") {
                        coordinator.coordinator.metrics.exposition()
                            .contains("chom_coordinator_task_results_total{kind=\"deploy\",outcome=\"succeeded\"} 1")
                    }

                    // Prometheus service discovery lists both agents where they serve /metrics.
                    let discovery = try await TestHTTP.request(
                        "GET", coordinator.apiURL.appending(path: "/v1/discovery/prometheus"),
                        token: coordinator.operatorToken)
                    for agent in [a, b] {
                        #expect(discovery.text.contains("127.0.0.1:\(agent.runtime.metricsPort)"), "\(discovery.text)")
                        #expect(discovery.text.contains(agent.agentID.description))
                    }

                    // A tar.gz made by GNU tar deploys too.
                    let source = try TemporaryDirectory.make(prefix: "chom-gz")
                    try FileManager.default.createDirectory(
                        at: source.appendingPathComponent("public"), withIntermediateDirectories: true)
                    try Data("gz".utf8).write(to: source.appendingPathComponent("public/index.html"))
                    let tar = Process()
                    tar.executableURL = URL(fileURLWithPath: "/bin/tar")
                    tar.arguments = ["-czf", source.appendingPathComponent("site.tar.gz").path, "-C",
                                     source.appendingPathComponent("public").path, "."]
                    try tar.run()
                    tar.waitUntilExit()
                    let gzRelease = try await coordinator.client.uploadRelease(
                        site: "two.test", archive: try Data(contentsOf: source.appendingPathComponent("site.tar.gz")))
                    #expect(gzRelease.format == "tar.gz")
                    let gzTask = try await coordinator.waitForTask(
                        try await coordinator.client.deploy(site: "two.test", releaseID: gzRelease.id).id)
                    #expect(gzTask.state == "succeeded", "\(gzTask.message ?? "")")
                    let agentOfSecond = agentOfFirst.agentID == a.agentID ? b : a
                    let gzServed = agentOfSecond.sitesRoot.appendingPathComponent("two.test/current/index.html")
                    #expect(try String(contentsOf: gzServed, encoding: .utf8) == "gz")
                }
            }
        }
    }

    @Test("a deploy whose artifact was tampered with in storage fails and leaves the previous release live")
    func tamperedArtifactFails() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                _ = try await coordinator.createSite(domain: "safe.test")
                let good = try await coordinator.waitForTask(
                    try await coordinator.deploy(site: "safe.test", files: ["index.html": "v1"]).id)
                #expect(good.state == "succeeded")
                let source = try TemporaryDirectory.make(prefix: "chom-v2")
                try Data("v2".utf8).write(to: source.appendingPathComponent("index.html"))
                let release = try await coordinator.client.uploadRelease(
                    site: "safe.test", archive: try TarZst.pack(directory: source))
                // Storage corrupts a byte after the upload recorded its SHA-256.
                try await TestDatabase.execute(
                    "UPDATE release_chunks SET data = overlay(data placing '\\x00'::bytea from 20 for 1) WHERE release_id = '\(release.id)'",
                    dataDirectory: coordinator.dataDirectory)
                let started = try await coordinator.client.deploy(site: "safe.test", releaseID: release.id)
                let bad = try await coordinator.waitForTask(started.id)
                #expect(bad.state == "failed")
                #expect(bad.message?.contains("failed at verify: sha256") == true, "\(bad.message ?? "")")
                let current = agent.sitesRoot.appendingPathComponent("safe.test/current/index.html")
                #expect(try String(contentsOf: current, encoding: .utf8) == "v1")
                let site = try await coordinator.client.site("safe.test")
                #expect(site.state == "deploy_failed")
                #expect(site.currentReleaseId == good.releaseId)
            }
        }
    }

    @Test("a ping goes the whole way and touches nothing; an offline agent's waits queued; an unknown agent's is 404")
    func ping() async throws {
        try await TestCoordinator.with { coordinator in
            let client = coordinator.client
            let offline = try await TestAgent.with(coordinator: coordinator, name: "ping-a") { agent in
                try await coordinator.waitOnline([agent.agentID])
                let queued = try await client.ping(agent: agent.agentID.description)
                #expect(queued.kind == "ping" && queued.siteId == nil)
                let task = try await coordinator.waitForTask(queued.id)
                #expect(task.state == "succeeded", "\(task.message ?? "")")
                #expect(task.message?.hasPrefix("pong from chom-agent") == true, "\(task.message ?? "")")
                #expect(agent.runtime.executions(of: task.id) == 1)
                #expect(try agent.runtime.journalEntry(for: task.id) != nil)
                let metrics = agent.runtime.metricsText()
                #expect(metrics.contains(#"chom_agent_tasks_total{kind="ping",outcome="succeeded"} 1"#), "\(metrics)")
                let audit = try await client.allAuditEntries(AuditFilter(action: "agent.ping"))
                #expect(audit.map(\.target) == ["agent:\(agent.agentID)"])
                #expect(audit.first?.details["task"] == task.id)
                return agent.agentID
            }
            // Its agent gone, a ping waits in the queue (it is delivered when the agent reconnects).
            try await coordinator.eventually("the agent offline") {
                try await client.agent(id: offline.description).state == "offline"
            }
            let waiting = try await client.ping(agent: offline.description)
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await client.task(id: waiting.id).state == "queued")
            await #expect(throws: AdminClientError.self) { try await client.ping(agent: UUID().uuidString.lowercased()) }
        }
    }

    @Test("a task queued while its agent is offline survives a coordinator restart and runs exactly once")
    func restartDeliversExactlyOnce() async throws {
        let data = try TemporaryDirectory.make(prefix: "chom-restart")
        let agentState = try TemporaryDirectory.make(prefix: "chom-agent-r")
        // The agent keeps the ports it enrolled with, so every coordinator here uses the same ones.
        let agentsPort = try FreePort.next(), enrollPort = try FreePort.next()
        let samePorts: (inout CoordinatorConfiguration) -> Void = {
            $0.grpc.port = agentsPort
            $0.grpc.enrollPort = enrollPort
        }
        // 1. Enroll an agent and place a site on it; then stop the agent.
        let siteDomain = "restart.test"
        try await TestCoordinator.with(dataDirectory: data, configure: samePorts) { coordinator in
            try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                try await coordinator.waitOnline([agent.agentID])
                _ = try await coordinator.createSite(domain: siteDomain)
            }
        }
        // 2. With the agent gone, queue a deploy; stop the coordinator with it queued.
        let taskID = try await TestCoordinator.with(dataDirectory: data, configure: samePorts) { coordinator in
            let task = try await coordinator.deploy(site: siteDomain, files: ["index.html": "after restart"])
            try await Task.sleep(for: .milliseconds(600))
            let still = try await coordinator.client.task(id: task.id)
            #expect(still.state == "queued")
            return task.id
        }
        // 3. A new coordinator on the same data (and the same PostgreSQL cluster) and the agent back.
        try await TestCoordinator.with(dataDirectory: data, configure: samePorts) { coordinator in
            try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                let task = try await coordinator.waitForTask(taskID)
                #expect(task.state == "succeeded", "\(task.message ?? "")")
                #expect(task.attempts == 1)
                #expect(agent.runtime.executions(of: taskID) == 1)
                let served = agent.sitesRoot.appendingPathComponent("\(siteDomain)/current/index.html")
                #expect(try String(contentsOf: served, encoding: .utf8) == "after restart")
                let releases = try FileManager.default.contentsOfDirectory(
                    atPath: agent.sitesRoot.appendingPathComponent("\(siteDomain)/releases").path)
                #expect(releases.count == 1)
            }
        }
    }

    @Test("the agent renews its certificate over the stream at 2/3 of its lifetime and keeps working with the new one")
    func certificateRenewal() async throws {
        try await TestCoordinator.with(configure: { $0.agents.certificateLifetimeSeconds = 6 }) { coordinator in
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                // Placed now: the agent flaps offline for a moment at every renewal (its stream is
                // replaced), and under load the first renewal (at 4 s) can come right after
                // `waitOnline` (it failed once so in CI): a refused placement creates nothing, so
                // it is asked again until the agent is back.
                try await coordinator.eventually("renewed.test placed") {
                    do {
                        _ = try await coordinator.createSite(domain: "renewed.test")
                        return true
                    } catch let error as AdminClientError where "\(error)".contains("cannot be placed") {
                        return false
                    }
                }
                let store = AgentIdentityStore(directory: agent.runtime.configuration.identityDirectory)
                let first = try #require(try store.load())
                try await coordinator.eventually("a renewed certificate", timeout: .seconds(20)) {
                    let current = try store.load()
                    return current?.certificatePEM != first.certificatePEM
                }
                let renewed = try #require(try store.load())
                #expect(renewed.privateKeyPEM != first.privateKeyPEM)
                #expect(renewed.certificate.notValidAfter > first.certificate.notValidAfter)
                #expect(renewed.agentID == first.agentID)
                // The stream that uses the new certificate still carries work.
                let task = try await coordinator.waitForTask(
                    try await coordinator.deploy(site: "renewed.test", files: ["index.html": "renewed"]).id)
                #expect(task.state == "succeeded", "\(task.message ?? "")")
                let reconnects = agent.runtime.metricsText()
                #expect(reconnects.contains("chom_agent_reconnects_total"), "\(reconnects)")
            }
        }
    }

    @Test("a task that used up its delivery attempts is failed with the reason, never executed or dropped")
    func deliveryLimit() async throws {
        try await TestCoordinator.with { coordinator in
            let agentState = try TemporaryDirectory.make(prefix: "chom-agent-limit")
            let agentID = try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                try await coordinator.waitOnline([agent.agentID])
                _ = try await coordinator.createSite(domain: "limit.test")
                return agent.agentID
            }
            try await coordinator.eventually("agent offline after its stream closed") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            let queued = try await coordinator.deploy(site: "limit.test", files: ["index.html": "never"])
            try await TestDatabase.execute(
                "UPDATE tasks SET attempts = max_attempts WHERE id = '\(queued.id)'", dataDirectory: coordinator.dataDirectory)
            try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                let task = try await coordinator.waitForTask(queued.id)
                #expect(task.state == "failed")
                #expect(task.message?.contains("delivery limit") == true, "\(task.message ?? "")")
                #expect(agent.runtime.executions(of: queued.id) == 0)
                let site = try await coordinator.client.site("limit.test")
                #expect(site.state == "deploy_failed")
            }
        }
    }

    @Test(
        "a re-send the agent answers from its journal is no delivery attempt: a task it accepted, or whose sequence it reported, is not failed at its limit; such re-sends have a limit of their own",
        arguments: [("accepted", false), ("sent", false), ("accepted", true)])
    func acceptedTaskIsNotFailedByTheLimit(state: String, answeredLimitReached: Bool) async throws {
        try await TestCoordinator.with { coordinator in
            let agentState = try TemporaryDirectory.make(prefix: "chom-agent-accepted")
            let (agentID, deploy) = try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                try await coordinator.waitOnline([agent.agentID])
                _ = try await coordinator.createSite(domain: "accepted.test")
                let task = try await coordinator.waitForTask(
                    try await coordinator.deploy(site: "accepted.test", files: ["index.html": "once"]).id)
                #expect(task.state == "succeeded", "\(task.message ?? "")")
                return (agent.agentID, task)
            }
            try await coordinator.eventually("agent offline after its stream closed") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            // As if the result (and with "sent", the acceptance too) had been lost and the stream
            // had dropped at every re-send since. "sent": the agent's hello reports a sequence at
            // or above the task's, so it is answered from the journal as well.
            try await TestDatabase.execute("""
                UPDATE tasks SET state = '\(state)', attempts = max_attempts, finished_at = NULL, result_message = NULL,
                    answered_resends = \(answeredLimitReached ? "max_attempts * 10" : "0")
                WHERE id = '\(deploy.id)'
                """, dataDirectory: coordinator.dataDirectory)
            try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                let task = try await coordinator.waitForTask(deploy.id)
                #expect(agent.runtime.executions(of: deploy.id) == 0)
                if answeredLimitReached {
                    // As if every answer had failed to be recorded: not re-sent forever.
                    #expect(task.state == "failed")
                    #expect(task.message?.contains("answers it from its journal, and no answer was recorded") == true, "\(task.message ?? "")")
                    return
                }
                #expect(task.state == "succeeded", "\(task.message ?? "")")
                #expect(task.message?.contains("delivery limit") != true)
                #expect(try await coordinator.client.site("accepted.test").state == "active")
            }
        }
    }

    @Test("an envelope re-sent after its result was lost is answered from the journal, not executed again")
    func replayIsNotExecuted() async throws {
        try await TestCoordinator.with { coordinator in
            // The agent is stopped before the result is "lost": with its stream still up, a dispatch
            // pass on that stream (a sweep, a wake) could re-send the envelope there first, as a
            // counted attempt, which is not what this test is about.
            let agentState = try TemporaryDirectory.make(prefix: "chom-agent-replay")
            let (agentID, done) = try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                try await coordinator.waitOnline([agent.agentID])
                _ = try await coordinator.createSite(domain: "replay.test")
                let done = try await coordinator.waitForTask(
                    try await coordinator.deploy(site: "replay.test", files: ["index.html": "once"]).id)
                #expect(done.state == "succeeded")
                #expect(agent.runtime.executions(of: done.id) == 1)
                return (agent.agentID, done)
            }
            try await coordinator.eventually("agent offline after its stream closed") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            // Pretend the result never arrived: the coordinator re-sends the same sealed envelope
            // (same sequence) on the agent's next stream.
            try await TestDatabase.execute(
                "UPDATE tasks SET state = 'sent', finished_at = NULL WHERE id = '\(done.id)'",
                dataDirectory: coordinator.dataDirectory)
            try await TestAgent.with(coordinator: coordinator, stateDirectory: agentState) { agent in
                let again = try await coordinator.waitForTask(done.id)
                #expect(again.state == "succeeded")
                // Re-sent, but not counted: the agent's hello reported the envelope's sequence.
                #expect(again.attempts == 1)
                // Its journal answered: this run of the agent executed nothing.
                #expect(agent.runtime.executions(of: done.id) == 0)
                let metrics = agent.runtime.metricsText()
                #expect(metrics.contains("chom_agent_envelope_refusals_total{reason=\"replayed\"} 1"), "\(metrics)")
                #expect(try await coordinator.client.site("replay.test").state == "active")
            }
        }
    }
}
