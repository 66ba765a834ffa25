package import Crypto
package import Foundation

/// How the store signs audit checkpoints: every `everyEntries` entries or every
/// `everyInterval` seconds, whichever comes first. Without a key no checkpoint is written.
package struct AuditSettings: Sendable {
    package var signingKey: Curve25519.Signing.PrivateKey?
    package var everyEntries: Int64
    package var everyInterval: TimeInterval
    /// One chaining run at a time for every store that shares these settings (one per process).
    package let gate = AuditChainGate()

    package init(signingKey: Curve25519.Signing.PrivateKey? = nil, everyEntries: Int64 = 1000, everyInterval: TimeInterval = 600) {
        self.signingKey = signingKey
        self.everyEntries = everyEntries
        self.everyInterval = everyInterval
    }
}
