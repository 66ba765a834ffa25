import CHOMAPI
import CHOMCore
import CHOMStore
import Crypto
import Foundation
import Hummingbird

/// Sign-in: password (then a second factor when 2FA is on), token rotation, sign-out,
/// accepting an invitation. Failures answer alike whether or not the account exists.
extension AdminAPI {
    static let challengeLifetime: TimeInterval = 300
    static let challengeAttempts = 5

    func addAuthRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/auth/login", .login) { request, _, caller in
            let body = try await StrictJSON.decode(LoginRequest.self, allowed: LoginRequest.fields, from: request)
            return try StrictJSON.response(try await login(body, caller))
        }
        routes.on(.post, "/v1/auth/login/two-factor", .loginTwoFactor) { request, _, caller in
            let body = try await StrictJSON.decode(
                TwoFactorLoginRequest.self, allowed: TwoFactorLoginRequest.fields, from: request)
            return try StrictJSON.response(try await loginTwoFactor(body, caller))
        }
        routes.on(.post, "/v1/auth/token/rotate", .rotateToken) { _, _, caller in
            try StrictJSON.response(try await rotate(caller))
        }
        routes.on(.post, "/v1/auth/logout", .logout) { _, _, caller in
            let principal = try caller.signedIn
            try await write(caller) { transaction in
                _ = try await store.tokens.revoke(principal.token.id, user: principal.user.id, now: caller.now, in: transaction)
                try await transaction.record(caller.audit("auth.token.revoke", target: "token:\(principal.token.id)"))
            }
            return Response(status: .noContent)
        }
        routes.on(.post, "/v1/invitations/accept", .acceptInvitation) { request, _, caller in
            let body = try await StrictJSON.decode(
                AcceptInvitationRequest.self, allowed: AcceptInvitationRequest.fields, from: request)
            return try StrictJSON.response(try await acceptInvitation(body, caller))
        }
    }

    private func login(_ body: LoginRequest, _ caller: Caller) async throws -> LoginResponse {
        let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
        try identity.gate.attempt(account: email, address: caller.sourceAddress, now: caller.now)
        let user = email.utf8.count <= 254 ? try await store.users.get(email: email) : nil
        let passwordMatches = try await identity.hasher.verify(
            String(body.password.prefix(PasswordHasher.maximumLength)), hash: user?.passwordHash)
        guard let user, passwordMatches else {
            try await write(caller) { transaction in
                try await transaction.record(caller.audit(
                    "auth.login.failed", target: "email:\(email.prefix(254))", actor: "anonymous",
                    details: ["reason": "bad_credentials"]))
            }
            throw CHOMError(.unauthorized, "invalid email or password")
        }
        identity.gate.succeeded(account: email, address: caller.sourceAddress, now: caller.now)
        if let twoFactor = try await store.twoFactor.get(user.id), twoFactor.confirmedAt != nil {
            let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            let id = UUID()
            let expires = caller.now.addingTimeInterval(Self.challengeLifetime)
            try await store.twoFactor.createChallenge(LoginChallengeRecord(
                id: id, userID: user.id, secretSHA256: Array(SHA256.hash(data: secret)), expiresAt: expires,
                attempts: 0, consumedAt: nil))
            return .twoFactorRequired(challenge: "\(id.uuidString.lowercased()).\(Page.encodeBytes(secret))", expiresAt: expires)
        }
        return .authenticated(try await issueSession(for: user, caller, method: "password"))
    }

    private func loginTwoFactor(_ body: TwoFactorLoginRequest, _ caller: Caller) async throws -> LoginResponse {
        let parts = body.challenge.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let secret = Page.decode(String(parts[1])),
            let challenge = try await store.twoFactor.attemptChallenge(id, now: caller.now),
            challenge.attempts <= Self.challengeAttempts,
            JoinTokenPolicy.constantTimeEqual(Array(SHA256.hash(data: secret)), challenge.secretSHA256),
            let user = try await store.users.get(challenge.userID)
        else {
            throw CHOMError(.unauthorized, "the sign-in challenge is invalid or expired; sign in again")
        }
        try identity.gate.attempt(account: user.email, address: caller.sourceAddress, now: caller.now)
        guard let method = try await checkSecondFactor(body.code, user: user.id, now: caller.now) else {
            try await write(caller) { transaction in
                try await transaction.record(caller.audit(
                    "auth.login.failed", target: "user:\(user.id)", actor: "anonymous", details: ["reason": "second_factor"]))
            }
            throw CHOMError(.unauthorized, "the code is not valid")
        }
        guard try await store.twoFactor.consumeChallenge(id, now: caller.now) else {
            throw CHOMError(.unauthorized, "the sign-in challenge is invalid or expired; sign in again")
        }
        identity.gate.succeeded(account: user.email, address: caller.sourceAddress, now: caller.now)
        return .authenticated(try await issueSession(for: user, caller, method: method))
    }

    /// Checks a TOTP code (each time step at most once) or a recovery code (each at most once).
    /// Returns how the user proved it ("totp" or "recovery_code"), or nil.
    func checkSecondFactor(_ code: String, user: UserID, now: Date) async throws -> String? {
        guard let record = try await store.twoFactor.get(user), record.confirmedAt != nil else { return nil }
        let secret: Data
        do {
            secret = try identity.secretBox.open(record.secretSealed, context: IdentityServices.totpContext(user))
        } catch {
            throw CHOMError(.internal, "the two-factor secret cannot be opened", underlying: error)
        }
        let trimmed = code.trimmingCharacters(in: .whitespaces)
        if trimmed.utf8.count == TOTP.digits {
            guard let step = TOTP.verify(code: trimmed, secret: Array(secret), at: now, lastUsedStep: record.lastUsedStep),
                try await store.twoFactor.useStep(user, step: step)
            else { return nil }
            return "totp"
        }
        let hashes = record.recoveryCodeHashes.compactMap { Hex.decode($0) }
        guard let remaining = RecoveryCodes.consume(trimmed, hashes: hashes),
            try await store.twoFactor.consumeRecoveryCode(
                user, expected: record.recoveryCodeHashes, remaining: remaining.map { Hex.encode($0) })
        else { return nil }
        return "recovery_code"
    }

    func issueSession(for user: UserRecord, _ caller: Caller, method: String) async throws -> IssuedTokenResponse {
        let token = APIToken.generate()
        let stored = StoredToken(
            id: token.id, userID: user.id, kind: "session", name: "session", secretSHA256: token.secretSHA256,
            abilities: nil, createdAt: caller.now,
            expiresAt: identity.tokenPolicy.lifetime.sessionExpiry(issuedAt: caller.now), revokedAt: nil,
            rotatedAt: nil, lastUsedAt: nil)
        try await write(caller) { transaction in
            try await store.tokens.insert(stored, in: transaction)
            try await transaction.record(caller.audit(
                "auth.login.succeeded", target: "user:\(user.id)", actor: "user:\(user.id)",
                details: ["method": method, "token": token.id.description]))
        }
        return IssuedTokenResponse(token: token.token, tokenInfo: stored.api)
    }

    private func rotate(_ caller: Caller) async throws -> IssuedTokenResponse {
        let principal = try caller.signedIn
        let old = principal.token
        guard old.rotatedAt == nil else { throw CHOMError(.conflict, "this token was already rotated") }
        let token = APIToken.generate()
        let expires = old.kind == "session"
            ? identity.tokenPolicy.lifetime.sessionExpiry(issuedAt: caller.now) : old.expiresAt
        let new = StoredToken(
            id: token.id, userID: old.userID, kind: old.kind, name: old.name, secretSHA256: token.secretSHA256,
            abilities: old.abilities, createdAt: caller.now, expiresAt: expires, revokedAt: nil, rotatedAt: nil,
            lastUsedAt: nil)
        try await write(caller) { transaction in
            guard try await store.tokens.markRotated(old.id, now: caller.now, in: transaction) else {
                throw CHOMError(.conflict, "this token was already rotated")
            }
            try await store.tokens.insert(new, in: transaction)
            try await transaction.record(caller.audit(
                "auth.token.rotate", target: "token:\(old.id)", details: ["successor": token.id.description]))
        }
        return IssuedTokenResponse(token: token.token, tokenInfo: new.api)
    }

    private func acceptInvitation(_ body: AcceptInvitationRequest, _ caller: Caller) async throws -> MeResponse {
        let parts = body.token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let id = InvitationID(String(parts[0])), let secret = Page.decode(String(parts[1])),
            let invitation = try await store.memberships.invitation(id),
            JoinTokenPolicy.constantTimeEqual(Array(SHA256.hash(data: secret)), invitation.secretSHA256),
            invitation.acceptedAt == nil, invitation.revokedAt == nil, invitation.expiresAt > caller.now
        else {
            throw CHOMError(.notFound, "no open invitation for this token")
        }
        try identity.gate.attempt(account: invitation.email, address: caller.sourceAddress, now: caller.now)
        var user = try await store.users.get(email: invitation.email)
        if let existing = user {
            guard try await identity.hasher.verify(body.password, hash: existing.passwordHash) else {
                throw CHOMError(.unauthorized, "invalid email or password")
            }
            // The account's second factor guards this sign-in as it guards any other.
            if try await store.twoFactor.get(existing.id)?.confirmedAt != nil {
                guard let code = body.code,
                    try await checkSecondFactor(code, user: existing.id, now: caller.now) != nil
                else {
                    throw CHOMError(.unauthorized, "this account has two-factor authentication: give a current code")
                }
            }
            // An invitation adds someone to an organization; it never rewrites an existing membership
            // (roles change with PATCH …/members/{user}, where only owners touch the owner role).
            if try await store.memberships.membership(invitation.organizationID, user: existing.id) != nil {
                throw CHOMError(.conflict, "you are already a member of this organization; an admin changes roles")
            }
        } else {
            try PasswordHasher.validateNew(body.password)
        }
        let displayName = (body.displayName ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard displayName.count <= 100 else { throw CHOMError(.invalidInput, "displayName is longer than 100 characters") }
        let newHash = user == nil ? try await identity.hasher.hash(body.password) : ""
        let accepted: UserRecord = try await write(caller) { transaction in
            guard try await store.memberships.markAccepted(id, now: caller.now, in: transaction) else {
                throw CHOMError(.notFound, "no open invitation for this token")
            }
            let member: UserRecord
            if let user {
                member = user
            } else {
                member = try await store.users.create(
                    id: UserID(), email: invitation.email, displayName: displayName, passwordHash: newHash,
                    isOperator: false, now: caller.now, in: transaction)
            }
            try await store.memberships.put(
                invitation.organizationID, user: member.id, role: invitation.role, tenantIDs: invitation.tenantIDs,
                now: caller.now, in: transaction)
            try await transaction.record(caller.audit(
                "membership.invitation.accept", target: "user:\(member.id)", organization: invitation.organizationID,
                actor: "user:\(member.id)",
                details: ["invitation": id.description, "role": invitation.role.rawValue]))
            return member
        }
        user = accepted
        identity.gate.succeeded(account: invitation.email, address: caller.sourceAddress, now: caller.now)
        return MeResponse(
            user: accepted.api(twoFactorEnabled: try await store.twoFactor.get(accepted.id)?.confirmedAt != nil),
            memberships: try await store.memberships.memberships(of: accepted.id).map(\.api))
    }
}
