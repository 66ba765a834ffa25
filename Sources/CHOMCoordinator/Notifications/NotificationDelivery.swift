import CHOMCore
import CHOMStore
import Foundation
import Logging

/// Sends what the outbox holds (a leader loop, "notifications.deliver"): claims the due messages
/// with a lease, sends each through its channel, and records every attempt: delivered, retried
/// later by `DeliveryRetryPolicy`, or given up (a permanent refusal, or the last attempt failed).
///
/// Nothing here can change what enqueued the message: that change committed before, and a failed
/// channel only ever writes the outbox's own rows.
struct NotificationDelivery: Sendable {
    /// One way of sending an email (SMTP in production; the seam keeps the loop testable).
    protocol Sender: Sendable {
        func send(_ message: EmailMessage) async throws -> String
    }

    let store: Store
    let sender: any Sender
    let from: String
    let retry: DeliveryRetryPolicy
    let logger: Logger
    /// How long a claimed message is hidden from other attempts: longer than one send may take
    /// (the SMTP timeout), so that no other leader sends it meanwhile.
    var lease: TimeInterval = 300
    var batch = 20

    /// One pass: returns (delivered, failed) attempts. A transient failure (the server unreachable,
    /// slow or refusing for its own reasons) ends the pass: the rest of the batch is released
    /// untried, without spending an attempt, so one dead server costs one timeout per pass.
    @discardableResult
    func tick(now: @Sendable () -> Date) async throws -> (delivered: Int, failed: Int) {
        var delivered = 0
        var failed = 0
        let claimed = try await store.notifications.claim(now: now(), lease: lease, limit: batch)
        for (index, record) in claimed.enumerated() {
            let started = now()
            var ok = false
            var permanent = false
            var detail: String
            do {
                let message = try EmailMessage(
                    from: from, to: record.recipient, subject: record.subject, body: record.body, date: record.createdAt,
                    messageID: "\(record.id.uuidString.lowercased())@chom")
                detail = try await sender.send(message)
                ok = true
            } catch let error as SMTPClient.Failure {
                detail = error.description
                permanent = error.permanent
            } catch let error as CHOMError {
                detail = error.message
                permanent = error.code == .invalidInput
            } catch {
                detail = "\(error)"
            }
            let finished = now()
            var retryAt: Date?
            if !ok, !permanent, case .retry(let at) = retry.afterFailure(attempt: record.attempts, now: finished) {
                retryAt = at
            }
            try await store.notifications.finish(
                record, startedAt: started, finishedAt: finished, delivered: ok, detail: detail, retryAt: retryAt)
            if !ok, !permanent {
                let untried = Array(claimed[(index + 1)...])
                try await store.notifications.release(untried, now: finished)
                failed += 1
                logger.warning("notifications paused until the next pass: the mail server failed", metadata: [
                    "chom.notification": "\(record.id)", "chom.attempt": "\(record.attempts)",
                    "chom.retry_at": "\(retryAt.map { $0.formatted(.iso8601) } ?? "never")", "chom.error": "\(detail)",
                    "chom.released": "\(untried.count)",
                ])
                break
            }
            if ok {
                delivered += 1
            } else {
                failed += 1
                logger.warning("a notification was not delivered", metadata: [
                    "chom.notification": "\(record.id)", "chom.attempt": "\(record.attempts)",
                    "chom.retry_at": "\(retryAt.map { $0.formatted(.iso8601) } ?? "never")", "chom.error": "\(detail)",
                ])
            }
        }
        return (delivered, failed)
    }
}

extension SMTPClient: NotificationDelivery.Sender {}
