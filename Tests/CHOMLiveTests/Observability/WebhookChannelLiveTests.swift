import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An organization's webhooks against a real coordinator, agent and nginx: a failed deploy reaches
/// a signed webhook; a receiver that fails first is retried with the same delivery id; a dead
/// receiver never changes the deploy's outcome nor delays the others; a removed channel's
/// messages are given up; refusals of addresses and events.
@Suite(
    "Notification webhooks against a live fleet",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct WebhookChannelLiveTests {
    /// A webhook receiver on 127.0.0.1: records every request; answers from `answers` in turn,
    /// then 204.
    final class Receiver: Sendable {
        struct Seen: Sendable {
            var headers: [String: String]
            var body: Data
            var event: String { headers["chom-event"] ?? "" }
        }

        let seen = Mutex<[Seen]>([])
        let answers: Mutex<[Int]>
        var requests: [Seen] { seen.withLock { $0 } }

        init(answers: [Int]) { self.answers = Mutex(answers) }

        func handle(_ request: Request) async throws -> Response {
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            seen.withLock { $0.append(Seen(headers: headers, body: Data(buffer.readableBytesView))) }
            let status = answers.withLock { $0.isEmpty ? 204 : $0.removeFirst() }
            return Response(status: HTTPResponse.Status(code: status))
        }

        static func with(answers: [Int] = [], _ body: (Int, Receiver) async throws -> Void) async throws {
            let receiver = Receiver(answers: answers)
            let router = Router()
            router.post("/hooks/:token") { request, _ in try await receiver.handle(request) }
            let port = try FreePort.next()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService() }
                defer { group.cancelAll() }
                try await TCPProbe.waitUntilListening(port: port, within: .seconds(20), what: "the webhook receiver")
                try await body(port, receiver)
            }
        }
    }

    static func configure(_ configuration: inout CoordinatorConfiguration) {
        configuration.notifications.webhooks.allowPrivateAddresses = true
        configuration.notifications.webhooks.allowPlainHTTP = true
        configuration.notifications.deliveryIntervalSeconds = 0.2
        configuration.notifications.retryBaseSeconds = 1
        configuration.notifications.retryCapSeconds = 2
    }

    @Test("a failed deploy reaches a signed webhook, retried after a 503 with the same delivery id; a dead receiver changes nothing; a removed channel's messages are given up")
    func failedDeploy() async throws {
        try await Receiver.with(answers: [503]) { port, receiver in
            try await TestCoordinator.with(configure: Self.configure) { coordinator in
                try await TestNginx.with { nginx in
                    try await TestAgent.with(coordinator: coordinator, name: "hooked-vps", configure: { nginx.host(&$0) }) { agent in
                        try await coordinator.waitOnline([agent.agentID])
                        let site = try await coordinator.createSite(domain: "hooked.test")
                        let client = coordinator.client
                        let organization = try #require(try await client.allOrganizations().first { $0.name == "tests" }).id
                        // The path is the receiver's credential: listed and audited without it.
                        let created = try await client.createNotificationChannel(
                            organizationID: organization,
                            CreateNotificationChannelRequest(
                                kind: "webhook", url: "http://127.0.0.1:\(port)/hooks/t0ps3cret",
                                events: ["deploy.failed", "backup.failed"], description: "ops"))
                        let secret = try #require(created.secret)
                        #expect(secret.hasPrefix("chomwh_") && secret.count > 40)
                        #expect(created.channel.target == "http://127.0.0.1:\(port)/…")
                        // A receiver that is not there at all: it must delay nothing else.
                        let deadPort = try FreePort.next()
                        let dead = try await client.createNotificationChannel(
                            organizationID: organization,
                            CreateNotificationChannelRequest(kind: "webhook", url: "http://127.0.0.1:\(deadPort)/hooks/x"))
                        let listed = try await client.notificationChannels(organizationID: organization)
                        #expect(listed.map(\.id) == [created.channel.id, dead.channel.id])
                        let raw = try await RawAPI(coordinator).send(
                            "GET", "/v1/organizations/\(organization)/notification-channels", token: coordinator.operatorToken)
                        #expect(!raw.text.contains("t0ps3cret") && !raw.text.contains(secret), "\(raw.text)")

                        // A deploy that fails its health check.
                        _ = try await coordinator.waitForTask(try await client.configureSite(
                            "hooked.test", SiteConfigRequest(kind: "static", healthCheck: HealthCheckBody(path: "/missing"))).task.id,
                            timeout: .seconds(60))
                        let deploy = try await coordinator.waitForTask(
                            try await coordinator.deploy(site: "hooked.test", files: ["public/index.html": "<h1>hooked</h1>"]).id,
                            timeout: .seconds(60))
                        #expect(deploy.state == "failed", "\(deploy)")

                        try await coordinator.eventually("deploy.failed delivered after one 503", timeout: .seconds(30)) {
                            receiver.requests.filter { $0.event == "deploy.failed" }.count >= 2
                        }
                        let attempts = receiver.requests.filter { $0.event == "deploy.failed" }
                        #expect(attempts.count == 2, "one 503, then delivered: no third attempt")
                        let delivery = try #require(attempts.first?.headers["chom-delivery"])
                        #expect(attempts.allSatisfy { $0.headers["chom-delivery"] == delivery && $0.body == attempts[0].body })
                        for attempt in attempts {
                            #expect(attempt.headers["content-type"] == "application/json")
                            // Verified as a receiver would: Stripe's scheme, with the secret shown once.
                            #expect(throws: Never.self) {
                                try WebhookSignature.verify(
                                    payload: attempt.body, header: attempt.headers["chom-signature"], secret: secret, now: Date())
                            }
                            #expect(throws: WebhookSignature.Failure.mismatch) {
                                try WebhookSignature.verify(
                                    payload: attempt.body + Data(" ".utf8), header: attempt.headers["chom-signature"],
                                    secret: secret, now: Date())
                            }
                        }
                        let json = try #require(try JSONSerialization.jsonObject(with: attempts[0].body) as? [String: Any])
                        let data = try #require(json["data"] as? [String: String])
                        #expect(json["id"] as? String == delivery && json["event"] as? String == "deploy.failed")
                        #expect(json["organization_id"] as? String == organization)
                        #expect(data["site"] == "hooked.test" && data["site_id"] == site.id && data["tenant_id"] == site.tenantId)
                        #expect(data["task_id"] == deploy.id && data["message"]?.isEmpty == false, "\(data)")
                        #expect(data.keys.allSatisfy { !["agent", "agent_id", "chom_agent_id"].contains($0) }, "no fleet detail")

                        // The outbox: delivered after 2 attempts; the dead receiver's message still
                        // pending, each failed attempt recorded; the deploy's own outcome untouched.
                        // The receiver has answered the second attempt; the coordinator records it
                        // just after, so the outbox is read until it has.
                        var messages = try await client.notifications(organizationID: organization)
                        try? await coordinator.eventually("the second attempt recorded", timeout: .seconds(20)) {
                            messages = try await client.notifications(organizationID: organization)
                            return messages.first { $0.id == delivery }?.status == "delivered"
                        }
                        let mine = try #require(messages.first { $0.id == delivery })
                        #expect(mine.status == "delivered" && mine.attempts == 2 && mine.lastDetail == "HTTP 204", "\(mine)")
                        let stuck = try #require(messages.first { $0.channelId == dead.channel.id && $0.event == "deploy.failed" })
                        #expect(stuck.status == "pending" && stuck.attempts >= 1, "\(stuck)")
                        #expect(try await client.task(id: deploy.id).state == "failed")

                        // A test message goes through one channel only, whatever it subscribes to.
                        let test = try await client.testNotificationChannel(organizationID: organization, channelID: created.channel.id)
                        try await coordinator.eventually("channel.test delivered", timeout: .seconds(20)) {
                            receiver.requests.contains { $0.headers["chom-delivery"] == test.notificationId && $0.event == "channel.test" }
                        }

                        // Removing the dead channel gives its message up at the next attempt.
                        try await client.deleteNotificationChannel(organizationID: organization, channelID: dead.channel.id)
                        try await coordinator.eventually("the removed channel's message given up", timeout: .seconds(20)) {
                            try await client.notifications(organizationID: organization)
                                .first { $0.id == stuck.id }?.status == "failed"
                        }
                        let given = try #require(try await client.notifications(organizationID: organization).first { $0.id == stuck.id })
                        #expect(given.lastDetail == "the webhook channel was removed", "\(given)")
                        #expect(try await client.notificationChannels(organizationID: organization).map(\.id) == [created.channel.id])
                        await #expect(throws: AdminClientError.self) {
                            try await client.testNotificationChannel(organizationID: organization, channelID: dead.channel.id)
                        }
                        // The audit names the webhook by scheme and host only.
                        let audit = try await RawAPI(coordinator).send(
                            "GET", "/v1/audit?action=notification.channel.create", token: coordinator.operatorToken)
                        #expect(audit.text.contains("notification.channel.create") && !audit.text.contains("t0ps3cret"), "\(audit.text)")
                    }
                }
            }
        }
    }

    @Test("a receiver that sends its headers and then nothing is cut off at the timeout, without holding up the other channel; a second test within a minute is refused")
    func stalledReceiver() async throws {
        let stalled = Router()
        stalled.post("/hooks/:token") { _, _ in
            Response(status: .ok, body: ResponseBody { _ in try await Task.sleep(for: .seconds(3_600)) })
        }
        let stalledPort = try FreePort.next()
        let app = Application(router: stalled, configuration: .init(address: .hostname("127.0.0.1", port: stalledPort)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            try await TCPProbe.waitUntilListening(port: stalledPort, within: .seconds(20), what: "the stalled receiver")
            try await Receiver.with { port, receiver in
                try await TestCoordinator.with(configure: {
                    Self.configure(&$0)
                    $0.notifications.webhooks.timeoutSeconds = 2
                }) { coordinator in
                    _ = try await coordinator.testTenant()
                    let client = coordinator.client
                    let organization = try #require(try await client.allOrganizations().first { $0.name == "tests" }).id
                    let slow = try await client.createNotificationChannel(
                        organizationID: organization,
                        CreateNotificationChannelRequest(kind: "webhook", url: "http://127.0.0.1:\(stalledPort)/hooks/slow"))
                    let fine = try await client.createNotificationChannel(
                        organizationID: organization,
                        CreateNotificationChannelRequest(kind: "webhook", url: "http://127.0.0.1:\(port)/hooks/fine"))
                    let started = ContinuousClock.now
                    let slowTest = try await client.testNotificationChannel(organizationID: organization, channelID: slow.channel.id)
                    _ = try await client.testNotificationChannel(organizationID: organization, channelID: fine.channel.id)
                    try await coordinator.eventually("the healthy receiver served", timeout: .seconds(20)) {
                        receiver.requests.contains { $0.event == "channel.test" }
                    }
                    try await coordinator.eventually("the stalled attempt recorded as timed out", timeout: .seconds(30)) {
                        try await client.notifications(organizationID: organization)
                            .first { $0.id == slowTest.notificationId }?.lastDetail == "timed out"
                    }
                    #expect(ContinuousClock.now - started < .seconds(25), "bounded by the 2 s timeout, not the receiver")
                    let record = try #require(try await client.notifications(organizationID: organization).first { $0.id == slowTest.notificationId })
                    #expect(record.status == "pending" && record.attempts >= 1, "\(record)")
                    // Tests are one a minute per channel.
                    do {
                        _ = try await client.testNotificationChannel(organizationID: organization, channelID: fine.channel.id)
                        Issue.record("a second test within a minute was queued")
                    } catch let error as AdminClientError {
                        #expect(error.status == 409, "\(error)")
                    }
                }
            }
        }
    }

    @Test("by default a webhook must be https to a public address; unknown events and other organizations are refused")
    func refusals() async throws {
        try await TestCoordinator.with { coordinator in
            _ = try await coordinator.testTenant()
            let client = coordinator.client
            let organization = try #require(try await client.allOrganizations().first { $0.name == "tests" }).id
            for (url, events, reason) in [
                ("http://hooks.example.com/x", [String](), "must be https"),
                ("https://127.0.0.1/x", [], "not a public address"),
                ("https://169.254.169.254/latest", [], "not a public address"),
                ("https://localhost/x", [], "local host"),
                ("https://hooks.example.com:6379/x", [], "port is one of"),
                ("https://hooks.example.com/x", ["deploy.failed", "everything"], "unknown event"),
            ] {
                do {
                    _ = try await client.createNotificationChannel(
                        organizationID: organization, CreateNotificationChannelRequest(kind: "webhook", url: url, events: events))
                    Issue.record("\(url) was accepted")
                } catch let error as AdminClientError {
                    #expect(error.status == 400 && "\(error)".contains(reason), "\(url): \(error)")
                }
            }
            #expect(try await client.notificationChannels(organizationID: organization).isEmpty, "nothing was stored")
            let other = try await client.createOrganization(name: "others")
            let theirs = try await client.createNotificationChannel(
                organizationID: other.id, CreateNotificationChannelRequest(kind: "email", email: "ops@others.example"))
            // Another organization's channel is not this one's: 404, and it stays.
            do {
                try await client.deleteNotificationChannel(organizationID: organization, channelID: theirs.channel.id)
                Issue.record("removed through another organization")
            } catch let error as AdminClientError {
                #expect(error.status == 404, "\(error)")
            }
            #expect(try await client.notificationChannels(organizationID: other.id).map(\.id) == [theirs.channel.id])
            #expect(theirs.secret == nil)
        }
    }
}
