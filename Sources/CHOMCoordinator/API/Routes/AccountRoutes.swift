import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// The caller's own account: who am I, password, two-factor authentication.
extension AdminAPI {
    func addAccountRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/me", .meRead) { _, _, caller in
            let principal = try caller.signedIn
            let twoFactor = try await store.twoFactor.get(principal.user.id)?.confirmedAt != nil
            return try StrictJSON.response(MeResponse(
                user: principal.user.api(twoFactorEnabled: twoFactor), memberships: principal.memberships.map(\.api)))
        }
        routes.on(.post, "/v1/me/password", .changePassword) { request, _, caller in
            let principal = try caller.signedIn
            let body = try await StrictJSON.decode(
                ChangePasswordRequest.self, allowed: ChangePasswordRequest.fields, from: request)
            try identity.gate.attempt(account: principal.user.email, address: caller.sourceAddress, now: caller.now)
            guard try await identity.hasher.verify(body.currentPassword, hash: principal.user.passwordHash) else {
                throw CHOMError(.unauthorized, "the current password is wrong")
            }
            try PasswordHasher.validateNew(body.newPassword)
            let hash = try await identity.hasher.hash(body.newPassword)
            try await write(caller) { transaction in
                try await store.users.setPasswordHash(principal.user.id, hash: hash, now: caller.now, in: transaction)
                // Whoever knew the old password loses what they signed in with; this session stays.
                let revoked = try await store.tokens.revokeAll(
                    user: principal.user.id, except: principal.token.id, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "auth.password.change", target: "user:\(principal.user.id)",
                    details: ["tokens_revoked": "\(revoked)"]))
            }
            identity.gate.succeeded(account: principal.user.email, address: caller.sourceAddress, now: caller.now)
            return Response(status: .noContent)
        }
        routes.on(.post, "/v1/me/two-factor", .twoFactorEnroll) { _, _, caller in
            let principal = try caller.signedIn
            let secret = TOTP.generateSecret()
            let sealed = identity.secretBox.seal(
                plaintext: Data(secret), context: IdentityServices.totpContext(principal.user.id))
            try await write(caller) { transaction in
                try await store.twoFactor.begin(principal.user.id, secretSealed: sealed, now: caller.now, in: transaction)
                try await transaction.record(caller.audit("auth.2fa.enroll", target: "user:\(principal.user.id)"))
            }
            return try StrictJSON.response(TwoFactorEnrollResponse(
                secret: Base32.encode(secret),
                otpauthUri: TOTP.otpauthURI(issuer: "CHOM", account: principal.user.email, secret: secret)))
        }
        routes.on(.post, "/v1/me/two-factor/confirm", .twoFactorConfirm) { request, _, caller in
            let principal = try caller.signedIn
            let body = try await StrictJSON.decode(
                TwoFactorConfirmRequest.self, allowed: TwoFactorConfirmRequest.fields, from: request)
            guard let record = try await store.twoFactor.get(principal.user.id) else {
                throw CHOMError(.conflict, "start with POST /v1/me/two-factor")
            }
            guard record.confirmedAt == nil else { throw CHOMError(.conflict, "two-factor authentication is already on") }
            let secret: Data
            do {
                secret = try identity.secretBox.open(
                    record.secretSealed, context: IdentityServices.totpContext(principal.user.id))
            } catch {
                throw CHOMError(.internal, "the two-factor secret cannot be opened", underlying: error)
            }
            guard let step = TOTP.verify(code: body.code, secret: Array(secret), at: caller.now, lastUsedStep: nil) else {
                throw CHOMError(.invalidInput, "the code is not valid; check the device's clock")
            }
            let codes = RecoveryCodes.generate()
            try await write(caller) { transaction in
                try await store.twoFactor.confirm(
                    principal.user.id, step: step, recoveryCodeHashes: codes.hashes.map { Hex.encode($0) },
                    now: caller.now, in: transaction)
                try await transaction.record(caller.audit("auth.2fa.enable", target: "user:\(principal.user.id)"))
            }
            return try StrictJSON.response(RecoveryCodesResponse(recoveryCodes: codes.codes))
        }
        routes.on(.post, "/v1/me/two-factor/disable", .twoFactorDisable) { request, _, caller in
            let principal = try caller.signedIn
            let body = try await StrictJSON.decode(
                TwoFactorDisableRequest.self, allowed: TwoFactorDisableRequest.fields, from: request)
            try identity.gate.attempt(account: principal.user.email, address: caller.sourceAddress, now: caller.now)
            guard try await identity.hasher.verify(body.password, hash: principal.user.passwordHash),
                try await checkSecondFactor(body.code, user: principal.user.id, now: caller.now) != nil
            else {
                throw CHOMError(.unauthorized, "the password or the code is wrong")
            }
            try await write(caller) { transaction in
                try await store.twoFactor.disable(principal.user.id, in: transaction)
                try await transaction.record(caller.audit("auth.2fa.disable", target: "user:\(principal.user.id)"))
            }
            identity.gate.succeeded(account: principal.user.email, address: caller.sourceAddress, now: caller.now)
            return Response(status: .noContent)
        }
    }
}
