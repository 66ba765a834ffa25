import CHOMTransport
import X509

/// A parsed PEM CSR.
struct CertificateSigningRequestPEM {
    let request: CertificateSigningRequest

    init(_ pem: String) throws {
        guard pem.utf8.count <= 16_384 else { throw CHOMTransportInputTooLarge() }
        request = try AgentKeyPair.csr(pem: pem)
    }
}

struct CHOMTransportInputTooLarge: Error {}
