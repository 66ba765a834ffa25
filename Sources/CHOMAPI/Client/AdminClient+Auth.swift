package import Foundation

/// Signing in and out, the caller's account, two-factor and personal access tokens.
extension AdminClient {
    /// The same client with another bearer token (nil: none), e.g. the session token `login` returned.
    package func withToken(_ token: String?) -> AdminClient {
        AdminClient(baseURL: baseURL, token: token, session: session)
    }

    // MARK: Sign-in (sent without a bearer token)

    /// `POST /v1/auth/login`: a session token, or a challenge when the user has two-factor on.
    package func login(email: String, password: String) async throws(AdminClientError) -> LoginResponse {
        try await json(
            .post, "/v1/auth/login", body: LoginRequest(email: email, password: password), authenticated: false)
    }

    /// `POST /v1/auth/login/two-factor`: answers a login challenge with a TOTP or recovery code.
    package func loginTwoFactor(challenge: String, code: String) async throws(AdminClientError) -> LoginResponse {
        try await json(
            .post, "/v1/auth/login/two-factor", body: TwoFactorLoginRequest(challenge: challenge, code: code),
            authenticated: false)
    }

    // MARK: The presented token

    /// `POST /v1/auth/token/rotate`: a new token; the presented one stays valid for the grace period.
    package func rotateToken() async throws(AdminClientError) -> IssuedTokenResponse {
        try await json(.post, "/v1/auth/token/rotate")
    }

    /// `POST /v1/auth/logout`: revokes the presented token.
    package func logout() async throws(AdminClientError) {
        try await noContent(.post, "/v1/auth/logout")
    }

    // MARK: The caller's account

    package func me() async throws(AdminClientError) -> MeResponse {
        try await json(.get, "/v1/me")
    }

    package func changePassword(currentPassword: String, newPassword: String) async throws(AdminClientError) {
        try await noContent(
            .post, "/v1/me/password",
            body: ChangePasswordRequest(currentPassword: currentPassword, newPassword: newPassword))
    }

    /// `POST /v1/me/two-factor`: starts enrollment (409 when two-factor is already on).
    package func enrollTwoFactor() async throws(AdminClientError) -> TwoFactorEnrollResponse {
        try await json(.post, "/v1/me/two-factor")
    }

    /// `POST /v1/me/two-factor/confirm`: turns two-factor on; the answer holds the recovery codes, shown once.
    package func confirmTwoFactor(code: String) async throws(AdminClientError) -> RecoveryCodesResponse {
        try await json(.post, "/v1/me/two-factor/confirm", body: TwoFactorConfirmRequest(code: code))
    }

    package func disableTwoFactor(password: String, code: String) async throws(AdminClientError) {
        try await noContent(
            .post, "/v1/me/two-factor/disable", body: TwoFactorDisableRequest(password: password, code: code))
    }

    // MARK: Tokens (the caller's own)

    package func tokens(cursor: String? = nil, limit: Int? = nil) async throws(AdminClientError)
        -> ListResponse<TokenResponse>
    {
        try await page("/v1/tokens", cursor: cursor, limit: limit)
    }

    package func allTokens() async throws(AdminClientError) -> [TokenResponse] {
        try await all("/v1/tokens")
    }

    /// `POST /v1/tokens`: a personal access token limited to `abilities`
    /// (from `CreateTokenRequest.knownAbilities`).
    package func createToken(name: String, abilities: [String], expiresAt: Date) async throws(AdminClientError)
        -> IssuedTokenResponse
    {
        try await json(
            .post, "/v1/tokens", body: CreateTokenRequest(name: name, abilities: abilities, expiresAt: expiresAt))
    }

    package func revokeToken(id: String) async throws(AdminClientError) {
        try await noContent(.delete, "/v1/tokens/\(segment(id))")
    }

    /// `POST /v1/tokens/revoke-all`: every token of the caller, the presented one too.
    package func revokeAllTokens() async throws(AdminClientError) {
        try await noContent(.post, "/v1/tokens/revoke-all")
    }
}
