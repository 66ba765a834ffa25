import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// What a stolen password or a second organization's invitation must not get around.
@Suite("Account security: password changes and invitations to two-factor accounts", .serialized)
struct AccountSecurityTests {
    @Test("changing the password revokes the user's other sessions and tokens, not the one that changed it")
    func passwordChangeRevokesOtherTokens() async throws {
        try await TestCoordinator.with { coordinator in
            let organization = try await coordinator.client.createOrganization(name: "Passwords")
            let user = try await IdentityFixtures.account(
                coordinator, invitedBy: coordinator.operatorToken, into: organization.id, email: "pw@chom.test",
                role: "member")
            let other = try await IdentityFixtures.signIn(coordinator, "pw@chom.test")
            let pat = try await coordinator.client(token: user.token).createToken(
                name: "ci", abilities: ["sites:read"], expiresAt: Date().addingTimeInterval(86_400))
            try await coordinator.client(token: user.token).changePassword(
                currentPassword: IdentityFixtures.password, newPassword: "a-brand-new-password-42")
            let me = try await coordinator.client(token: user.token).me()
            #expect(me.user.email == "pw@chom.test")
            for token in [other.token, pat.token] {
                await #expect(throws: AdminClientError.self) { try await coordinator.client(token: token).me() }
            }
            let old = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/auth/login"),
                body: Data(#"{"email":"pw@chom.test","password":"\#(IdentityFixtures.password)"}"#.utf8))
            #expect(old.status == 401)
            _ = try await coordinator.client(token: nil).login(email: "pw@chom.test", password: "a-brand-new-password-42")
        }
    }

    @Test("accepting an invitation as an existing account with 2FA needs a valid code besides the password")
    func invitationNeedsTheSecondFactor() async throws {
        let clock = ManualWallClock(Date())
        try await TestCoordinator.with(clock: clock) { coordinator in
            let first = try await coordinator.client.createOrganization(name: "First")
            let second = try await coordinator.client.createOrganization(name: "Second")
            let user = try await IdentityFixtures.account(
                coordinator, invitedBy: coordinator.operatorToken, into: first.id, email: "2fa@chom.test",
                role: "viewer")
            let client = coordinator.client(token: user.token)
            let secret = try #require(Base32.decode(try await client.enrollTwoFactor().secret))
            _ = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
            let invitation = try await coordinator.client.createInvitation(
                organizationID: second.id, email: "2fa@chom.test", role: "member")
            let anonymous = coordinator.client(token: nil)
            for code in [nil, "000000"] as [String?] {
                await #expect(throws: AdminClientError.self) {
                    try await anonymous.acceptInvitation(
                        token: invitation.token, password: IdentityFixtures.password, code: code)
                }
            }
            #expect(try await coordinator.client.allMembers(organizationID: second.id).isEmpty)
            clock.advance(by: 30)
            let me = try await anonymous.acceptInvitation(
                token: invitation.token, password: IdentityFixtures.password,
                code: TOTP.code(secret: secret, at: clock.now()))
            #expect(Set(me.memberships.map(\.organizationId)) == [first.id, second.id])
        }
    }
}
