// AgentTLS.swift
// The agent's side of TLS: first contact pinned by the CA's SHA-256 (enrollment), then
// mutual TLS with the agent's own key and certificate against the fleet CA.

package import Foundation
package import GRPCNIOTransportHTTP2
import NIOCore
import NIOSSL
import SwiftASN1
import Synchronization
package import X509

package enum AgentTLS {
    /// Server-authenticated TLS for `Enroll`, where the agent has no CA yet, only a pin.
    ///
    /// The chain the server presents is handed to `CAPin.verify`; the handshake succeeds only
    /// when the pinned CA is in it and the leaf verifies against it for `hostnameOrIP`. NIOSSL's
    /// own chain and hostname checks are replaced by that callback (the system trust store is
    /// never consulted). The outcome is recorded in `observer`, so a refused handshake can be
    /// reported as the pin error it was rather than as a bare "unavailable".
    package static func enrollment(
        pinnedSHA256: String,
        hostnameOrIP: String?,
        observer: PinObserver,
        now: @escaping @Sendable () -> Date
    ) -> HTTP2ClientTransport.Posix.TransportSecurity {
        .tls { config in
            config.serverCertificateVerification = .noHostnameVerification
            config.customVerificationCallback = { certificates, promise in
                promise.completeWithTask {
                    let chain: [Certificate]
                    do {
                        chain = try certificates.map { try Certificate(derEncoded: try $0.toDERBytes()) }
                    } catch {
                        observer.record(.failure(.chainRejected(reason: "the server sent an unparsable certificate")))
                        return .failed
                    }
                    let result = await CAPin.verify(
                        presentedChain: chain, pinnedSHA256: pinnedSHA256, hostnameOrIP: hostnameOrIP, now: now())
                    observer.record(result)
                    switch result {
                    case .success:
                        return .certificateVerified(VerificationMetadata(ValidatedCertificateChain(certificates)))
                    case .failure:
                        return .failed
                    }
                }
            }
        }
    }

    /// Mutual TLS for `Connect` and `FetchArtifact`: the agent presents its key and client
    /// certificate and trusts only the fleet CA, with full verification (chain and host/IP).
    package static func mutual(
        certificatePEM: String,
        privateKeyPEM: String,
        caPEM: String
    ) -> HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.bytes(Array(certificatePEM.utf8), format: .pem)],
            privateKey: .bytes(Array(privateKeyPEM.utf8), format: .pem)
        ) { config in
            config.trustRoots = .certificates([.bytes(Array(caPEM.utf8), format: .pem)])
            config.serverCertificateVerification = .fullVerification
        }
    }

    /// What the enrollment handshake's pin check concluded (the last handshake wins).
    package final class PinObserver: Sendable {
        private let state = Mutex<Result<Certificate, PinError>?>(nil)

        package init() {}

        func record(_ result: Result<Certificate, PinError>) {
            state.withLock { $0 = result }
        }

        /// The pinned CA, once a handshake verified against it.
        package var verifiedCA: Certificate? {
            state.withLock { if case .success(let ca) = $0 { ca } else { nil } }
        }

        /// Why the last handshake was refused, if it was.
        package var failure: PinError? {
            state.withLock { if case .failure(let error) = $0 { error } else { nil } }
        }
    }
}

extension AgentTLS {
    /// Lowercase hex SHA-256 of a certificate's DER (the value `--ca-sha256` pins), or nil when
    /// it cannot be serialized.
    package static func fingerprintSHA256(of certificate: Certificate) -> String? {
        guard let der = try? FleetCA.derBytes(of: certificate, what: "certificate") else { return nil }
        return FleetCA.fingerprintSHA256(ofDER: der)
    }

    /// The pin in canonical form (64 lowercase hex digits; colons, spaces and case tolerated), or nil.
    package static func normalizedPin(_ pin: String) -> String? {
        CAPin.normalizedPin(pin)
    }
}
