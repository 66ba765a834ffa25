package import Foundation

/// How long tokens live. Pure rules over dates passed in; the configuration sets the numbers.
package struct TokenLifetime: Sendable, Equatable {
    /// A session token's life from issue (or from rotation, for the new token).
    package var session: TimeInterval = 60 * 60
    /// How long a rotated token keeps working after `rotatedAt`.
    package var rotationGrace: TimeInterval = 60
    /// The longest a personal access token may live, in calendar time (UTC).
    package var personalAccessTokenMaximum: DateComponents = DateComponents(year: 1)

    package init() {}

    package init(session: TimeInterval, rotationGrace: TimeInterval) {
        self.session = session
        self.rotationGrace = rotationGrace
    }

    /// When a session token issued at `issuedAt` expires.
    package func sessionExpiry(issuedAt: Date) -> Date {
        issuedAt.addingTimeInterval(session)
    }

    /// The latest expiry a personal access token created at `now` may ask for.
    package func latestPersonalAccessTokenExpiry(now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(byAdding: personalAccessTokenMaximum, to: now) ?? now
    }

    /// When a token rotated at `rotatedAt` stops working: the end of the grace, or its own expiry if sooner.
    package func effectiveExpiry(expiresAt: Date, rotatedAt: Date?) -> Date {
        guard let rotatedAt else { return expiresAt }
        return min(expiresAt, rotatedAt.addingTimeInterval(rotationGrace))
    }
}
