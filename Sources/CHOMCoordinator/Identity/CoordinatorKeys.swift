import CHOMCore
package import CHOMProtocol
package import CHOMTransport
package import Crypto
package import Foundation
package import X509

/// The coordinator's key material under `<data-dir>/pki` (directory 0700, files 0600):
/// the fleet CA, the gRPC server key and certificate, and the Ed25519 envelope-signing key.
/// Created on first start, loaded afterwards. The server certificate is re-issued at each
/// start so that it always matches the advertised names.
package struct CoordinatorKeys: Sendable {
    package let ca: FleetCA
    package let serverKey: P256.Signing.PrivateKey
    package let serverCertificate: Certificate
    package let signer: EnvelopeSigner

    package static let serverValidity: TimeInterval = 365 * 24 * 3600

    package static func loadOrCreate(
        dataDirectory: URL, hostnames: [String], addresses: [String], now: Date
    ) throws -> CoordinatorKeys {
        let pki = dataDirectory.appendingPathComponent("pki")
        let ca = try FleetCAStore.loadOrCreate(directory: pki, commonName: "CHOM fleet CA", now: now)
        let serverKeyURL = pki.appendingPathComponent("server-key.pem")
        let serverKey: P256.Signing.PrivateKey
        if FileManager.default.fileExists(atPath: serverKeyURL.path) {
            serverKey = try AgentKeyPair.privateKey(pem: String(decoding: try PrivateFile.read(serverKeyURL), as: UTF8.self))
        } else {
            serverKey = AgentKeyPair.generate()
            try PrivateFile.write(Data(AgentKeyPair.pem(of: serverKey).utf8), to: serverKeyURL)
        }
        let serverCertificate = try ca.issueServerCertificate(
            publicKey: serverKey.publicKey, hostnames: hostnames, ipAddresses: addresses, now: now,
            validity: serverValidity)
        try PrivateFile.write(
            Data(AgentKeyPair.pem(of: serverCertificate).utf8), to: pki.appendingPathComponent("server.pem"))
        let signingURL = pki.appendingPathComponent("envelope-signing-ed25519.key")
        let signingKey: Curve25519.Signing.PrivateKey
        if FileManager.default.fileExists(atPath: signingURL.path) {
            signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: try PrivateFile.read(signingURL))
        } else {
            signingKey = Curve25519.Signing.PrivateKey()
            try PrivateFile.write(signingKey.rawRepresentation, to: signingURL)
        }
        return CoordinatorKeys(
            ca: ca, serverKey: serverKey, serverCertificate: serverCertificate,
            signer: EnvelopeSigner(privateKey: signingKey))
    }
}
