package import Crypto
package import GRPCNIOTransportHTTP2
import NIOSSL
import SwiftASN1
package import X509

/// The coordinator's two gRPC listeners' TLS settings. The server presents
/// [leaf, fleet CA] so that an enrolling agent can find the CA it pinned.
package enum CoordinatorTLS {
    /// Enrollment listener: server-authenticated TLS; no client certificate asked for.
    package static func enrollment(
        serverCertificate: Certificate, serverKey: P256.Signing.PrivateKey, caCertificate: Certificate
    ) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        .tls(
            certificateChain: try chain(serverCertificate, caCertificate),
            privateKey: .bytes(Array(serverKey.derRepresentation), format: .der))
    }

    /// Agent listener: mutual TLS; the handshake demands a client certificate that
    /// chains to the fleet CA. Identity is read from it by `PeerIdentity`.
    package static func agents(
        serverCertificate: Certificate, serverKey: P256.Signing.PrivateKey, caCertificate: Certificate
    ) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        let ca = try derBytes(caCertificate)
        return .mTLS(
            certificateChain: try chain(serverCertificate, caCertificate),
            privateKey: .bytes(Array(serverKey.derRepresentation), format: .der)
        ) { config in
            config.trustRoots = .certificates([.bytes(ca, format: .der)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    static func chain(_ leaf: Certificate, _ ca: Certificate) throws -> [TLSConfig.CertificateSource] {
        [.bytes(try derBytes(leaf), format: .der), .bytes(try derBytes(ca), format: .der)]
    }

    static func derBytes(_ certificate: Certificate) throws -> [UInt8] {
        try certificate.serializeAsPEM().derBytes
    }
}
