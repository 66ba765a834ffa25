import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Crypto
import Foundation
import Logging
import Prometheus
import Testing

/// The agent's half of trace correlation: the envelope's `traceparent` puts the request's trace id
/// in the agent's log lines for that task and in its forwarded `task` syslog lines.
@Suite("Task trace ids in the agent's logs")
struct TaskTraceTests {
    let signer = EnvelopeSigner(privateKey: Curve25519.Signing.PrivateKey())
    let agentID = AgentID()
    let clock = ManualWallClock()

    private func run(
        _ task: Chom_Agent_V1_Task, traceparent: String?, directory: URL,
        result: ExecutionResult = ExecutionResult(outcome: .succeeded, message: "done", releasePath: "/srv/x")
    ) async throws -> (messages: [Chom_Agent_V1_AgentMessage], log: LogSink, forwarded: [String]) {
        let (logger, sink) = CapturingLogHandler.logger()
        let buffer = LogForwardBuffer(capacity: 100, registry: PrometheusCollectorRegistry())
        let handler = EnvelopeHandler(
            opener: EnvelopeOpener(trustedKeys: TrustedEnvelopeKeys([signer.publicKey]), expectedAgent: agentID),
            journal: try Journal(directory: directory), executor: CountingExecutor(result: result), metrics: AgentMetrics(),
            ledger: ExecutionLedger(), clock: clock, logger: logger,
            taskLog: TaskLogForwarder(
                buffer: buffer, records: SiteRecordStore(directory: directory.appendingPathComponent("records")),
                agent: agentID.description, hostname: "vps-1"))
        var trace: Chom_Agent_V1_TraceContext?
        if let traceparent {
            var context = Chom_Agent_V1_TraceContext()
            context.traceparent = traceparent
            trace = context
        }
        let envelope = try EnvelopeSealer.seal(
            task: task, audience: agentID, sequence: 1, ttl: 300, signer: signer, now: clock.now(), trace: trace)
        let messages = await handler.handle(envelope)
        let forwarded = buffer.take(100).map { String(decoding: $0, as: UTF8.self) }
        return (messages, sink, forwarded)
    }

    /// A deploy carrying its site's configuration, as the coordinator sends it: domain and tenant.
    private func siteTask(domain: String, tenant: String = "t-1") -> Chom_Agent_V1_Task {
        var task = Fixtures.deployTask(domain: domain, artifact: Data("a".utf8))
        task.deploy.site.siteID = task.deploy.siteID
        task.deploy.site.domain = domain
        task.deploy.site.tenantID = tenant
        return task
    }

    @Test("a valid traceparent: 'task accepted', 'task finished' and every forwarded task line carry its trace id")
    func traced() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let trace = TraceParent.random()
            let task = siteTask(domain: "traced.test")
            let (messages, log, forwarded) = try await run(task, traceparent: trace.description, directory: directory)
            #expect(messages.last?.result.outcome == .succeeded)
            for line in ["task accepted", "task finished"] {
                let entry = try #require(log.entries(line).first, "\(line)")
                #expect(entry.metadata[LogKey.traceID] == "\(trace.traceID)", "\(line)")
                #expect(entry.metadata[LogKey.taskID] == "\(task.taskID)", "\(line)")
            }
            #expect(forwarded.count == 3, "\(forwarded)")
            for line in forwarded {
                #expect(line.contains(#"[chom@32473 site="traced.test" tenant="t-1" agent="\#(agentID)" task="\#(task.taskID)""#), "\(line)")
                #expect(line.contains(#"trace_id="\#(trace.traceID)""#), "\(line)")
                #expect(line.contains(" chom-agent - task "), "\(line)")
            }
            #expect(forwarded[0].hasSuffix("task deploy accepted"), "\(forwarded[0])")
            #expect(forwarded[1].hasSuffix("step work"), "\(forwarded[1])")
            #expect(forwarded[2].hasSuffix("task deploy succeeded: done"), "\(forwarded[2])")
        }
    }

    @Test("a failed task's last line is an error (severity 3) naming the outcome and its message")
    func failedTask() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let task = siteTask(domain: "broken.test")
            let (_, log, forwarded) = try await run(
                task, traceparent: TraceParent.random().description, directory: directory,
                result: ExecutionResult(outcome: .failed, message: "hook build exited 2"))
            #expect(forwarded.last?.contains("<131>1 ") == true, "\(forwarded)")
            #expect(forwarded.last?.hasSuffix("task deploy failed: hook build exited 2") == true, "\(forwarded)")
            #expect(log.entries("task finished").first?.level == .notice)
        }
    }

    @Test(
        "no trace, or one that is not a valid traceparent: the task runs, and no line claims a trace id",
        arguments: [
            nil, "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "not a trace\"] [chom@32473 trace_id=\"forged",
        ] as [String?])
    func untraced(traceparent: String?) async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let task = siteTask(domain: "plain.test")
            let (messages, log, forwarded) = try await run(task, traceparent: traceparent, directory: directory)
            #expect(messages.last?.result.outcome == .succeeded)
            #expect(log.entries("task accepted").first?.metadata[LogKey.traceID] == nil)
            #expect(log.entries("task finished").first?.metadata[LogKey.traceID] == nil)
            #expect(forwarded.count == 3 && forwarded.allSatisfy { !$0.contains("trace_id") }, "\(forwarded)")
        }
    }

    @Test("a ping names no site: nothing is forwarded, though its log lines carry the trace id")
    func ping() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            var task = Chom_Agent_V1_Task()
            task.taskID = UUID().uuidString.lowercased()
            task.ping = Chom_Agent_V1_PingTask()
            let trace = TraceParent.random()
            let (_, log, forwarded) = try await run(task, traceparent: trace.description, directory: directory)
            #expect(forwarded.isEmpty, "\(forwarded)")
            #expect(log.entries("task finished").first?.metadata[LogKey.traceID] == "\(trace.traceID)")
        }
    }

    @Test("a hook's output in the result message cannot forge a message, structured data or a trace id")
    func hostileResultMessage() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let task = siteTask(domain: "hostile.test", tenant: "t-2")
            let forged = "build failed\"] [chom@32473 site=\"other.test\" trace_id=\"ffffffffffffffffffffffffffffffff\"]\n<131>1 - forged - - task [x] owned\u{2028}more"
            let (_, _, forwarded) = try await run(
                task, traceparent: nil, directory: directory, result: ExecutionResult(outcome: .failed, message: forged))
            let last = try #require(forwarded.last)
            let structured = #"task [chom@32473 site="hostile.test" tenant="t-2" agent="\#(agentID)" task="\#(task.taskID)"] "#
            #expect(last.contains(structured + "task deploy failed: build failed"), "\(last)")
            #expect(!last.contains("\n") && !last.contains("\u{2028}"), "one line: \(last)")
            // What a receiver parses as structured data ends before the tenant's text.
            let afterSD = try #require(last.range(of: structured)).upperBound
            #expect(!last[..<afterSD].contains("other.test") && !last[..<afterSD].contains("trace_id"))
        }
    }

    @Test("a log read and a task whose site has no known tenant run, and are not forwarded")
    func notForwarded() async throws {
        var read = Chom_Agent_V1_Task()
        read.taskID = UUID().uuidString.lowercased()
        read.readSiteLogs.site.domain = "read.test"
        read.readSiteLogs.site.tenantID = "t-1"
        for task in [read, Fixtures.deployTask(domain: "nobody.test", artifact: Data("a".utf8))] {
            try await Fixtures.withTemporaryDirectory { directory in
                let (messages, _, forwarded) = try await run(task, traceparent: nil, directory: directory)
                #expect(messages.last?.result.outcome == .succeeded, "it ran")
                #expect(forwarded.isEmpty, "\(forwarded)")
            }
        }
    }
}
