package import Foundation

/// When and how `chom` rotates the stored session token: a session that expires within
/// `max(5 minutes, a quarter of its lifetime)` is rotated (`POST /v1/auth/token/rotate`) before the
/// command uses it; an expired one needs `chom login`.
package enum SessionRotation {
    /// The least time before expiry at which a session is rotated.
    package static let minimumMargin: TimeInterval = 5 * 60

    package enum Decision: Sendable, Equatable {
        /// Use the token as it is.
        case keep
        /// Rotate it first.
        case rotate
        /// Too late to rotate: log in again.
        case expired
    }

    /// How long before `expiresAt` rotation starts: `max(5 minutes, lifetime / 4)`.
    package static func margin(createdAt: Date, expiresAt: Date) -> TimeInterval {
        max(minimumMargin, expiresAt.timeIntervalSince(createdAt) / 4)
    }

    package static func decide(createdAt: Date, expiresAt: Date, now: Date) -> Decision {
        let remaining = expiresAt.timeIntervalSince(now)
        if remaining <= 0 { return .expired }
        return remaining <= margin(createdAt: createdAt, expiresAt: expiresAt) ? .rotate : .keep
    }

    package static func decide(_ session: StoredSession, now: Date) -> Decision {
        decide(createdAt: session.createdAt, expiresAt: session.expiresAt, now: now)
    }

    package enum Outcome: Sendable, Equatable {
        /// No rotation was due.
        case current(StoredSession)
        /// Rotated: store the new session and use it.
        case rotated(StoredSession)
        /// The session cannot be used any more; the message tells the user to `chom login`.
        case loginRequired(String)
        /// Rotation failed but the token still works until it expires; the message says why.
        case failed(StoredSession, String)
    }

    /// Rotates `session` when it is due, using `client` (its address; the token is the session's).
    package static func refresh(_ session: StoredSession, client: AdminClient, now: Date = Date()) async -> Outcome {
        switch decide(session, now: now) {
        case .keep:
            return .current(session)
        case .expired:
            return .loginRequired(
                "the session of \(session.email) at \(session.coordinator) expired at "
                    + "\(session.expiresAt.formatted(.iso8601)); run `chom login` to sign in again")
        case .rotate:
            do {
                let issued = try await client.withToken(session.token).rotateToken()
                return .rotated(session.replacing(with: issued))
            } catch {
                switch error.status {
                case 401:
                    return .loginRequired(
                        "the session of \(session.email) at \(session.coordinator) is no longer valid "
                            + "(expired or revoked); run `chom login` to sign in again")
                case 409:
                    return .failed(session, "the session token was already rotated (by another chom?): \(error)")
                default:
                    return .failed(
                        session,
                        "cannot rotate the session token (\(error)); using it until it expires at "
                            + "\(session.expiresAt.formatted(.iso8601))")
                }
            }
        }
    }
}
