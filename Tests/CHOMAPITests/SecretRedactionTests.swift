import CHOMAPI
import Foundation
import Testing

@Suite("Secrets in API types")
struct SecretRedactionTests {
    private static let info = TokenResponse(
        id: "tok-id", kind: "session", name: "login", abilities: nil, createdAt: .distantPast,
        expiresAt: .distantFuture, lastUsedAt: nil, revokedAt: nil, rotatedAt: nil)

    /// Each value holds the secret "s3cret" (and, where it has one, the visible text "visible").
    static let values: [any Sendable] = [
        LoginRequest(email: "visible@a.test", password: "s3cret"),
        LoginResponse(status: .authenticated, token: "chom_s3cret", tokenInfo: info),
        LoginResponse.twoFactorRequired(challenge: "s3cret", expiresAt: .distantFuture),
        TwoFactorLoginRequest(challenge: "s3cret", code: "s3cret"),
        IssuedTokenResponse(token: "chom_s3cret", tokenInfo: info),
        TwoFactorEnrollResponse(secret: "s3cret", otpauthUri: "otpauth://totp/chom?secret=s3cret"),
        TwoFactorConfirmRequest(code: "s3cret"),
        RecoveryCodesResponse(recoveryCodes: ["s3cret-1", "s3cret-2"]),
        TwoFactorDisableRequest(password: "s3cret", code: "s3cret"),
        ChangePasswordRequest(currentPassword: "s3cret", newPassword: "s3cret-too"),
        CreatedInvitationResponse(
            invitation: InvitationResponse(
                id: "i", organizationId: "o", email: "visible@a.test", role: "member", tenantIds: [],
                createdAt: .distantPast, expiresAt: .distantFuture, acceptedAt: nil),
            token: "s3cret"),
        AcceptInvitationRequest(token: "s3cret", password: "s3cret", displayName: "visible"),
    ]

    @Test("printing, reflecting or dumping a secret-bearing value never shows the secret", arguments: 0..<values.count)
    func redacted(index: Int) {
        let value = Self.values[index]
        var dumped = ""
        dump(value, to: &dumped)
        for text in [String(describing: value), String(reflecting: value), "\(value)", dumped] {
            #expect(!text.contains("s3cret"), "\(text)")
            #expect(text.contains("redacted"))
        }
    }

    @Test("what is not secret still shows")
    func visible() {
        #expect(String(describing: LoginRequest(email: "visible@a.test", password: "x")).contains("visible@a.test"))
        #expect(String(describing: IssuedTokenResponse(token: "chom_x", tokenInfo: Self.info)).contains("tok-id"))
    }

    @Test("the JSON encoding still carries the secret")
    func encodingUnchanged() throws {
        let json = try APIJSON.encoder().encode(LoginRequest(email: "a@b.test", password: "s3cret"))
        #expect(String(decoding: json, as: UTF8.self) == #"{"email":"a@b.test","password":"s3cret"}"#)
    }
}
