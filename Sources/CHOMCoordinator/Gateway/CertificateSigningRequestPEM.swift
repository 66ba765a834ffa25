import CHOMCore
import CHOMTransport
import X509

/// A parsed PEM CSR, bounded in size before parsing.
struct CertificateSigningRequestPEM {
    let request: CertificateSigningRequest

    init(_ pem: String) throws {
        guard pem.utf8.count <= 16_384 else { throw CHOMError(.invalidInput, "the CSR is larger than 16 KiB") }
        request = try AgentKeyPair.csr(pem: pem)
    }
}
