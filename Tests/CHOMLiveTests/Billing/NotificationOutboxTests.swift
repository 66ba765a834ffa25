import CHOMAudit
@testable import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO
import Testing

/// The notifications outbox against real PostgreSQL and a real SMTP server (aiosmtpd): messages
/// written with the change they tell about, delivered to each owner, every attempt recorded,
/// retried with backoff while the server is away, given up when it cannot succeed, over TLS too.
@Suite("Notifications outbox: written with the change, delivered over SMTP, each attempt recorded")
struct NotificationOutboxTests {
    static let start = Date(timeIntervalSince1970: 1_794_824_400)

    /// An organization with two owners and a member.
    static func organization(_ store: Store, owners: [String] = ["ann@owners.test", "bob@owners.test"]) async throws
        -> OrganizationID
    {
        try await store.write(now: start) { transaction in
            let organization = try await store.organizations.create(
                id: OrganizationID(), name: "Acme", now: start, in: transaction)
            for (email, role) in owners.map({ ($0, "owner") }) + [("member@owners.test", "member")] {
                let user = UserID()
                try await transaction.connection.query("""
                    INSERT INTO users (id, email, password_hash, created_at, updated_at)
                    VALUES (\(user.uuid), \(email), 'x', \(start), \(start))
                    """, logger: Logger(label: "test"))
                try await transaction.connection.query("""
                    INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
                    VALUES (\(organization.id.uuid), \(user.uuid), \(role), \(start), \(start))
                    """, logger: Logger(label: "test"))
            }
            try await transaction.record(AuditEntry(time: start, actor: "test", action: "org.create", target: "o"))
            return organization.id
        }
    }

    static func enqueue(_ store: Store, _ organization: OrganizationID, subject: String = "[CHOM] Payment failed")
        async throws -> Int
    {
        try await store.write(now: start) { transaction in
            let count = try await store.notifications.enqueue(
                NotificationContent(event: .billingPaymentFailed, subject: subject, body: "Pay, please.\n.\nThanks"),
                to: organization, now: start, in: transaction)
            try await transaction.record(AuditEntry(time: start, actor: "test", action: "billing.x", target: "o"))
            return count
        }
    }

    static func delivery(_ store: Store, port: Int, retry: DeliveryRetryPolicy = DeliveryRetryPolicy(), tls: String? = nil)
        -> NotificationDelivery
    {
        NotificationDelivery(
            store: store,
            sender: SMTPClient(configuration: .init(
                host: "127.0.0.1", port: port, security: tls == nil ? .none : .implicit, trustRootsFile: tls,
                timeout: .seconds(20))),
            from: "billing@chom.test", retry: retry, logger: Logger(label: "chom.test.outbox"))
    }

    @Test("each owner gets the email (not a member); the attempt is recorded as delivered with the server's answer")
    func delivered() async throws {
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(store)
            #expect(try await Self.enqueue(store, organization) == 2)
            // A rolled-back change leaves nothing in the outbox.
            await #expect(throws: CHOMError.self) {
                try await store.write(now: Self.start) { transaction in
                    try await store.notifications.enqueue(
                        NotificationContent(event: .billingSuspended, subject: "s", body: "b"), to: organization,
                        now: Self.start, in: transaction)
                    throw CHOMError(.conflict, "the change fails after enqueueing")
                }
            }
            try await SMTPTestServer.with { server in
                let result = try await Self.delivery(store, port: server.port).tick(now: { Self.start })
                #expect(result.delivered == 2 && result.failed == 0)
                let received = try await server.waitForMessages(2)
                #expect(Set(received.compactMap { $0.headers["to"] }) == ["ann@owners.test", "bob@owners.test"])
                #expect(received.allSatisfy { $0.headers["subject"] == "[CHOM] Payment failed" })
                #expect(received.allSatisfy { $0.headers["from"] == "billing@chom.test" })
                #expect(received.allSatisfy { $0.body == "Pay, please.\n.\nThanks" })
                // Nothing is sent twice.
                #expect(try await Self.delivery(store, port: server.port).tick(now: { Self.start + 3_600 }) == (0, 0))
                #expect(server.messages().count == 2)
            }
            let messages = try await store.notifications.list(organization: organization)
            #expect(messages.count == 2 && messages.allSatisfy { $0.status == .delivered && $0.attempts == 1 })
            for message in messages {
                let attempts = try await store.notifications.attempts(of: message.id)
                #expect(attempts.count == 1 && attempts[0].delivered && attempts[0].detail.hasPrefix("250"))
            }
        }
    }

    @Test("a server that is away: each failed attempt recorded, retried with backoff, delivered once it is back")
    func retried() async throws {
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(store, owners: ["ann@owners.test"])
            try await Self.enqueue(store, organization)
            let port = try FreePort.next()
            let retry = DeliveryRetryPolicy(base: 30, cap: 3_600, maxAttempts: 5)
            let delivery = Self.delivery(store, port: port, retry: retry)
            #expect(try await delivery.tick(now: { Self.start }) == (0, 1))
            var message = try #require(try await store.notifications.list(organization: organization).first)
            #expect(message.status == .pending && message.attempts == 1)
            #expect(message.nextAttemptAt == Self.start + 30)
            #expect(try await delivery.tick(now: { Self.start + 29 }) == (0, 0), "not due before its backoff")
            #expect(try await delivery.tick(now: { Self.start + 31 }) == (0, 1))
            message = try #require(try await store.notifications.list(organization: organization).first)
            #expect(message.attempts == 2 && message.nextAttemptAt == Self.start + 31 + 60)
            try await SMTPTestServer.with(port: port) { server in
                #expect(try await delivery.tick(now: { Self.start + 100 }) == (1, 0))
                _ = try await server.waitForMessages(1)
            }
            let attempts = try await store.notifications.attempts(of: message.id)
            #expect(attempts.map(\.delivered) == [false, false, true])
            #expect(attempts[0].detail.contains("cannot connect to 127.0.0.1:\(port)"))
        }
    }

    @Test("the last attempt failing gives the message up; an address SMTP cannot carry is given up at once")
    func givenUp() async throws {
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(store, owners: ["ann@owners.test", "bad\"quote@owners.test"])
            try await Self.enqueue(store, organization)
            let delivery = Self.delivery(
                store, port: try FreePort.next(), retry: DeliveryRetryPolicy(base: 1, cap: 1, maxAttempts: 2))
            var failed = 0
            for second in stride(from: 0.0, through: 20, by: 2) {
                failed += try await delivery.tick(now: { Self.start + second }).failed
            }
            // One attempt for the bad address (a permanent refusal is not retried), two for the other.
            #expect(failed == 3)
            let messages = try await store.notifications.list(organization: organization)
            let bad = try #require(messages.first { $0.recipient.hasPrefix("bad") })
            let good = try #require(messages.first { $0.recipient.hasPrefix("ann") })
            #expect(bad.status == .failed && bad.attempts == 1)
            #expect(try await store.notifications.attempts(of: bad.id).first?.detail.contains("recipient") == true)
            #expect(good.status == .failed && good.attempts == 2)
            #expect(try await store.notifications.attempts(of: good.id).count == 2)
            #expect(try await delivery.tick(now: { Self.start + 3_600 }) == (0, 0), "a failed message stays failed")
        }
    }

    @Test("a server that is away costs one attempt per pass: the rest of the batch is released untried")
    func released() async throws {
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(
                store, owners: ["ann@owners.test", "bob@owners.test", "cy@owners.test"])
            try await Self.enqueue(store, organization)
            let delivery = Self.delivery(store, port: try FreePort.next())
            #expect(try await delivery.tick(now: { Self.start }) == (0, 1))
            let messages = try await store.notifications.list(organization: organization)
            #expect(messages.map(\.attempts).sorted() == [0, 0, 1])
            #expect(messages.filter { $0.attempts == 0 }.allSatisfy { $0.status == .pending && $0.nextAttemptAt <= Self.start })
        }
    }

    @Test("a server that accepts and never answers: the attempt ends at the SMTP timeout and is retried")
    func hungServer() async throws {
        let held = try HeldPort()  // listening, never accepting: the greeting never comes
        defer { held.close() }
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(store, owners: ["ann@owners.test"])
            try await Self.enqueue(store, organization)
            let delivery = NotificationDelivery(
                store: store,
                sender: SMTPClient(configuration: .init(host: "127.0.0.1", port: held.port, timeout: .seconds(2))),
                from: "billing@chom.test", retry: DeliveryRetryPolicy(), logger: Logger(label: "chom.test.outbox"))
            let started = ContinuousClock.now
            #expect(try await delivery.tick(now: { Self.start }) == (0, 1))
            #expect(ContinuousClock.now - started < .seconds(30), "bounded by the 2 s timeout, not hung")
            let message = try #require(try await store.notifications.list(organization: organization).first)
            #expect(message.status == .pending && message.nextAttemptAt == Self.start + 30)
            #expect(try await store.notifications.attempts(of: message.id).first?.detail.contains("longer than") == true)
        }
    }

    @Test("implicit TLS (SMTPS): delivered when the server's certificate is trusted, refused when it is not")
    func tls() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-smtps")
        defer { TemporaryDirectory.remove(directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try await TestCommand.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ], timeout: .seconds(30))
        #expect(openssl.status == 0, "\(openssl.output)")
        try await ThrowawayPostgres.withStore { store in
            let organization = try await Self.organization(store, owners: ["ann@owners.test"])
            try await Self.enqueue(store, organization)
            try await SMTPTestServer.with(tls: (certificate, key)) { server in
                // Without the server's certificate among its roots, the client refuses it.
                let untrusted = Self.delivery(store, port: server.port, tls: "/etc/ssl/certs/ca-certificates.crt")
                #expect(try await untrusted.tick(now: { Self.start }) == (0, 1))
                #expect(server.messages().isEmpty)
                let trusted = Self.delivery(store, port: server.port, tls: certificate)
                #expect(try await trusted.tick(now: { Self.start + 3_600 }) == (1, 0))
                let received = try await server.waitForMessages(1)
                #expect(received[0].headers["to"] == "ann@owners.test")
            }
        }
    }
}
