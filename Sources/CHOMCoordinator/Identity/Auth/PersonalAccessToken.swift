import CHOMCore
package import Foundation

/// What a personal access token for automation is allowed: its name, its abilities, and an explicit
/// expiry that is required, in the future, and at most `TokenLifetime.personalAccessTokenMaximum` away.
/// Built only through `validated`, so one that exists has passed the rules.
package struct PersonalAccessToken: Sendable, Equatable {
    package static let maximumNameLength = 100

    package let name: String
    package let abilities: Set<Ability>
    package let expiresAt: Date

    /// Checks a creation request. `expiresAt` is optional here because a client may omit it, and that
    /// is refused: personal access tokens never live forever.
    package static func validated(
        name: String, abilities: Set<Ability>, expiresAt: Date?, now: Date, lifetime: TokenLifetime = TokenLifetime()
    ) throws -> PersonalAccessToken {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximumNameLength,
            !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else {
            throw CHOMError(.invalidInput, "a token name is 1 to \(maximumNameLength) printable characters")
        }
        guard !abilities.isEmpty else {
            throw CHOMError(.invalidInput, "a personal access token needs at least one ability")
        }
        guard let expiresAt else {
            throw CHOMError(.invalidInput, "a personal access token needs an expiry")
        }
        guard expiresAt > now else {
            throw CHOMError(.invalidInput, "a personal access token's expiry must be in the future")
        }
        guard expiresAt <= lifetime.latestPersonalAccessTokenExpiry(now: now) else {
            throw CHOMError(.invalidInput, "a personal access token's expiry is too far away")
        }
        return PersonalAccessToken(name: trimmed, abilities: abilities, expiresAt: expiresAt)
    }

    private init(name: String, abilities: Set<Ability>, expiresAt: Date) {
        self.name = name
        self.abilities = abilities
        self.expiresAt = expiresAt
    }

    /// Whether this token may do `needed`.
    package func allows(_ needed: Ability) -> Bool {
        TokenPolicy.ability(needed, in: abilities)
    }
}
