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

    /// One pass: returns (delivered, failed) attempts. A transient failure of the mail server
    /// (unreachable, slow or refusing for its own reasons) ends the pass for email: the rest of the
    /// batch's email is released untried, without spending an attempt, so one dead server costs one
    /// timeout per pass. A webhook's failure is its own receiver's: the others are still tried.
    @discardableResult
    func tick(now: @Sendable () -> Date) async throws -> (delivered: Int, failed: Int) {
        var delivered = 0
        var failed = 0
        var channels: [String] = []
        if sender != nil { channels.append("email") }
        if webhooks != nil { channels.append("webhook") }
        guard !channels.isEmpty else { return (0, 0) }
        var claimed = try await store.notifications.claim(now: now(), lease: lease, limit: batch, channels: channels)
        while !claimed.isEmpty {
            let record = claimed.removeFirst()
            let started = now()
            let (ok, permanent, detail) = await send(record, now: started)
            let finished = now()
            var retryAt: Date?
            if !ok, !permanent, case .retry(let at) = retry.afterFailure(attempt: record.attempts, now: finished) {
                retryAt = at
            }
            try await store.notifications.finish(
                record, startedAt: started, finishedAt: finished, delivered: ok, detail: detail, retryAt: retryAt)
            if ok {
                delivered += 1
                continue
            }
            failed += 1
            let metadata: Logger.Metadata = [
                "chom.notification": "\(record.id)", "chom.channel": "\(record.channel)", "chom.attempt": "\(record.attempts)",
                "chom.retry_at": "\(retryAt.map { $0.formatted(.iso8601) } ?? "never")", "chom.error": "\(detail)",
            ]
            if record.channel == "email", !permanent {
                let untried = claimed.filter { $0.channel == "email" }
                claimed.removeAll { $0.channel == "email" }
                try await store.notifications.release(untried, now: finished)
                logger.warning("email paused until the next pass: the mail server failed", metadata: metadata.merging(
                    ["chom.released": "\(untried.count)"]) { first, _ in first })
            } else {
                logger.warning("a notification was not delivered", metadata: metadata)
            }
        }
        return (delivered, failed)
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
