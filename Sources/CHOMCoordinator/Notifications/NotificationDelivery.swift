import CHOMCore
import CHOMStore
import Foundation
import Logging

/// Sends what the outbox holds (a leader loop, "notifications.deliver"): claims the due messages
/// with a lease, sends each through its channel (email by SMTP, webhooks by `WebhookDelivery`),
/// and records every attempt: delivered, retried later by `DeliveryRetryPolicy`, or given up (a
/// permanent refusal, or the last attempt failed). Email waits in the outbox while no SMTP server
/// is configured (`sender` nil).
///
/// Nothing here can change what enqueued the message: that change committed before, and a failed
/// channel only ever writes the outbox's own rows.
struct NotificationDelivery: Sendable {
    /// One way of sending an email (SMTP in production; the seam keeps the loop testable).
    protocol Sender: Sendable {
        func send(_ message: EmailMessage) async throws -> String
    }

    let store: Store
    let sender: (any Sender)?
    let from: String
    let retry: DeliveryRetryPolicy
    let logger: Logger
    var webhooks: WebhookDelivery?
    /// How long a claimed message is hidden from other attempts: longer than one send may take
    /// (the SMTP timeout), so that no other leader sends it meanwhile.
    var lease: TimeInterval = 300
    var batch = 20
    /// Webhook attempts at once.
    var webhookConcurrency = 8

    /// One pass: returns (delivered, failed) attempts. A transient failure of the mail server
    /// (unreachable, slow or refusing for its own reasons) ends the pass for email: the rest of the
    /// batch's email is released untried, without spending an attempt, so one dead server costs one
    /// timeout per pass. A webhook's failure is its own receiver's: the others are still tried.
    @discardableResult
    func tick(now: @escaping @Sendable () -> Date) async throws -> (delivered: Int, failed: Int) {
        var delivered = 0
        var failed = 0
        var channels: [String] = []
        if sender != nil { channels.append("email") }
        if webhooks != nil { channels.append("webhook") }
        guard !channels.isEmpty else { return (0, 0) }
        var claimed = try await store.notifications.claim(now: now(), lease: lease, limit: batch, channels: channels)
        // Webhooks side by side, at most `webhookConcurrency` at once: each receiver is its own
        // server, so a slow one holds up only its own slot (each attempt is bounded by its timeout).
        let hooks = claimed.filter { $0.channel == "webhook" }
        claimed.removeAll { $0.channel == "webhook" }
        var attempts: [Attempt] = []
        await withTaskGroup(of: Attempt.self) { group in
            var running = 0
            for record in hooks {
                if running == webhookConcurrency, let done = await group.next() {
                    attempts.append(done)
                    running -= 1
                }
                group.addTask { await attempt(record, now: now) }
                running += 1
            }
            for await done in group { attempts.append(done) }
        }
        for done in attempts {
            if try await finish(done) { delivered += 1 } else { failed += 1 }
        }
        // Email one by one: it all goes through one server.
        while !claimed.isEmpty {
            let done = await attempt(claimed.removeFirst(), now: now)
            if try await finish(done) {
                delivered += 1
                continue
            }
            failed += 1
            if !done.permanent {
                let untried = claimed
                claimed = []
                try await store.notifications.release(untried, now: done.finished)
                logger.warning("email paused until the next pass: the mail server failed", metadata: [
                    "chom.notification": "\(done.record.id)", "chom.released": "\(untried.count)",
                ])
            }
        }
        return (delivered, failed)
    }

    private struct Attempt: Sendable {
        var record: NotificationRecord
        var started: Date
        var finished: Date
        var delivered: Bool
        var permanent: Bool
        var detail: String
    }

    private func attempt(_ record: NotificationRecord, now: @Sendable () -> Date) async -> Attempt {
        let started = now()
        let (ok, permanent, detail) = await send(record, now: started)
        return Attempt(record: record, started: started, finished: now(), delivered: ok, permanent: permanent, detail: detail)
    }

    /// Records an attempt (delivered, retried later, or given up); true if it was delivered.
    private func finish(_ done: Attempt) async throws -> Bool {
        var retryAt: Date?
        if !done.delivered, !done.permanent,
            case .retry(let at) = retry.afterFailure(attempt: done.record.attempts, now: done.finished)
        {
            retryAt = at
        }
        try await store.notifications.finish(
            done.record, startedAt: done.started, finishedAt: done.finished, delivered: done.delivered, detail: done.detail,
            retryAt: retryAt)
        if !done.delivered {
            logger.warning("a notification was not delivered", metadata: [
                "chom.notification": "\(done.record.id)", "chom.channel": "\(done.record.channel)",
                "chom.attempt": "\(done.record.attempts)",
                "chom.retry_at": "\(retryAt.map { $0.formatted(.iso8601) } ?? "never")", "chom.error": "\(done.detail)",
            ])
        }
        return done.delivered
    }

    /// (delivered, permanent failure, detail) of one attempt.
    private func send(_ record: NotificationRecord, now: Date) async -> (Bool, Bool, String) {
        if record.channel == "webhook" {
            guard let webhooks else { return (false, false, "webhooks are not delivered by this coordinator") }
            switch await webhooks.deliver(record, now: now) {
            case .delivered(let detail): return (true, false, detail)
            case .failed(let detail, let permanent): return (false, permanent, detail)
            }
        }
        guard let sender else { return (false, false, "no SMTP server is configured (notifications.smtp)") }
        do {
            let message = try EmailMessage(
                from: from, to: record.recipient, subject: record.subject, body: record.body, date: record.createdAt,
                messageID: "\(record.id.uuidString.lowercased())@chom")
            return (true, false, try await sender.send(message))
        } catch let error as SMTPClient.Failure {
            return (false, error.permanent, error.description)
        } catch let error as CHOMError {
            return (false, error.code == .invalidInput, error.message)
        } catch {
            return (false, false, "\(error)")
        }
    }
}

extension SMTPClient: NotificationDelivery.Sender {}
