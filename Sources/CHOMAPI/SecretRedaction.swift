// The API types that carry a secret (a password, a token, a TOTP secret or code, recovery codes)
// show "<redacted>" in its place when printed, interpolated or dumped: `String(describing:)`,
// `String(reflecting:)` and `dump` all read the mirror. Their JSON encoding is unchanged.

private let redacted = "<redacted>"

extension LoginRequest: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["email": email, "password": redacted], displayStyle: .struct)
    }
}

extension LoginResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "status": status, "token": token.map { _ in redacted } as Any, "tokenInfo": tokenInfo as Any,
                "challenge": challenge.map { _ in redacted } as Any, "challengeExpiresAt": challengeExpiresAt as Any,
            ],
            displayStyle: .struct)
    }
}

extension TwoFactorLoginRequest: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["challenge": redacted, "code": redacted], displayStyle: .struct)
    }
}

extension IssuedTokenResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["token": redacted, "tokenInfo": tokenInfo], displayStyle: .struct)
    }
}

extension TwoFactorEnrollResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["secret": redacted, "otpauthUri": redacted], displayStyle: .struct)
    }
}

extension TwoFactorConfirmRequest: CustomReflectable {
    package var customMirror: Mirror { Mirror(self, children: ["code": redacted], displayStyle: .struct) }
}

extension RecoveryCodesResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["recoveryCodes": "<\(recoveryCodes.count) redacted>"], displayStyle: .struct)
    }
}

extension TwoFactorDisableRequest: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["password": redacted, "code": redacted], displayStyle: .struct)
    }
}

extension ChangePasswordRequest: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["currentPassword": redacted, "newPassword": redacted], displayStyle: .struct)
    }
}

extension CreatedNotificationChannelResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["channel": channel, "secret": redacted], displayStyle: .struct)
    }
}

extension CreatedInvitationResponse: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["invitation": invitation, "token": redacted], displayStyle: .struct)
    }
}

extension AcceptInvitationRequest: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(
            self, children: ["token": redacted, "password": redacted, "displayName": displayName as Any, "code": redacted],
            displayStyle: .struct)
    }
}
