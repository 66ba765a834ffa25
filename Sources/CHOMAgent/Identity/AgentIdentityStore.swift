import CHOMCore
import CHOMTransport
package import Crypto
package import Foundation
import X509
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes `<state>/identity/` (directory 0700, files 0600):
/// `agent.json`, `key.pem`, `cert.pem`, `ca.pem`, `envelope-keys.json`, and `sealing.key` (the raw
/// 32-byte X25519 private key that secrets in tasks are sealed to).
///
/// A renewal writes `key.previous.pem` (the old key) before `key.pem` and `cert.pem`, so a crash
/// between the two leaves a key that matches the certificate; `load` picks whichever does.
package struct AgentIdentityStore: Sendable {
    package let directory: URL

    package static let recordFile = "agent.json"
    package static let keyFile = "key.pem"
    package static let previousKeyFile = "key.previous.pem"
    package static let certificateFile = "cert.pem"
    package static let caFile = "ca.pem"
    package static let envelopeKeysFile = "envelope-keys.json"
    package static let sealingKeyFile = "sealing.key"

    package init(directory: URL) {
        self.directory = directory
    }

    /// True when `agent.json` exists: the agent has enrolled.
    package var exists: Bool {
        FileManager.default.fileExists(atPath: url(Self.recordFile).path)
    }

    /// The stored identity, or nil when the agent never enrolled.
    package func load() throws -> EnrolledIdentity? {
        guard exists else { return nil }
        let decoder = JSONDecoder()
        let record: AgentIdentityRecord
        let keys: [EnvelopeKeyRecord]
        do {
            record = try decoder.decode(AgentIdentityRecord.self, from: try PrivateFile.read(url(Self.recordFile)))
            keys = try decoder.decode([EnvelopeKeyRecord].self, from: try PrivateFile.read(url(Self.envelopeKeysFile)))
        } catch {
            throw CHOMError(.integrity, "cannot read the identity in \(directory.path)", underlying: error)
        }
        let certificatePEM = try text(Self.certificateFile)
        let caPEM = try text(Self.caFile)
        let certificate = try? AgentKeyPair.certificate(pem: certificatePEM)
        var candidates = [Self.keyFile]
        if FileManager.default.fileExists(atPath: url(Self.previousKeyFile).path) {
            candidates.append(Self.previousKeyFile)
        }
        for name in candidates {
            guard let key = try? P256.Signing.PrivateKey(pemRepresentation: try text(name)) else { continue }
            if let certificate, certificate.publicKey == Certificate.PublicKey(key.publicKey) {
                return try EnrolledIdentity(
                    record: record, privateKey: key, certificatePEM: certificatePEM, caPEM: caPEM, envelopeKeys: keys)
            }
        }
        throw CHOMError(.integrity, "no stored private key matches \(url(Self.certificateFile).path); enroll again")
    }

    /// Writes a whole identity (enrollment). The key goes first: a crash never leaves a
    /// certificate whose key is lost.
    package func save(_ identity: EnrolledIdentity) throws {
        try ensureDirectory()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try PrivateFile.write(Data(identity.privateKeyPEM.utf8), to: url(Self.keyFile))
        try PrivateFile.write(Data(identity.certificatePEM.utf8), to: url(Self.certificateFile))
        try PrivateFile.write(Data(identity.caPEM.utf8), to: url(Self.caFile))
        try PrivateFile.write(try encoder.encode(identity.envelopeKeys), to: url(Self.envelopeKeysFile))
        // agent.json last: its presence means "enrolled".
        try PrivateFile.write(try encoder.encode(identity.record), to: url(Self.recordFile))
    }

    /// Stores a renewed key and certificate, keeping the old key as `key.previous.pem`.
    package func saveRenewal(privateKey: P256.Signing.PrivateKey, certificatePEM: String, previous: EnrolledIdentity) throws
    {
        try PrivateFile.write(Data(previous.privateKeyPEM.utf8), to: url(Self.previousKeyFile))
        try PrivateFile.write(Data(privateKey.pemRepresentation.utf8), to: url(Self.keyFile))
        try PrivateFile.write(Data(certificatePEM.utf8), to: url(Self.certificateFile))
    }

    /// The stored sealing key, or nil when the agent has none (it enrolled before sealed secrets).
    package func loadSealingKey() throws -> Curve25519.KeyAgreement.PrivateKey? {
        guard FileManager.default.fileExists(atPath: url(Self.sealingKeyFile).path) else { return nil }
        do {
            return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: try PrivateFile.read(url(Self.sealingKeyFile)))
        } catch {
            throw CHOMError(.integrity, "cannot read the sealing key in \(directory.path)", underlying: error)
        }
    }

    /// Writes the sealing key (0600).
    package func saveSealingKey(_ key: Curve25519.KeyAgreement.PrivateKey) throws {
        try ensureDirectory()
        try PrivateFile.write(key.rawRepresentation, to: url(Self.sealingKeyFile))
    }

    /// The stored sealing key, generated and stored first when there is none.
    package func loadOrCreateSealingKey() throws -> (key: Curve25519.KeyAgreement.PrivateKey, created: Bool) {
        if let key = try loadSealingKey() { return (key, false) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        try saveSealingKey(key)
        return (key, true)
    }

    private func ensureDirectory() throws {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CHOMError(.configuration, "cannot create \(directory.path)", underlying: error)
        }
        guard chmod(directory.path, 0o700) == 0 else {
            throw CHOMError(.configuration, "cannot set mode 0700 on \(directory.path)")
        }
    }

    private func url(_ name: String) -> URL {
        directory.appendingPathComponent(name, isDirectory: false)
    }

    private func text(_ name: String) throws -> String {
        guard let text = String(data: try PrivateFile.read(url(name)), encoding: .utf8) else {
            throw CHOMError(.integrity, "\(url(name).path) is not UTF-8 text")
        }
        return text
    }
}
