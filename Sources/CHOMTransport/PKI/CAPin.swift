// CAPin.swift
// First contact (enrollment): the agent has no CA yet, only the SHA-256 pin from
// its install command. It finds the pinned CA in the chain the server presents
// and verifies the server's leaf against it.

package import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) package import X509

package enum CAPin {
    /// Verifies `presentedChain` (leaf first) against the CA whose DER SHA-256 is `pinnedSHA256`.
    ///
    /// The pinned certificate must be in the chain and be a CA; the leaf (`presentedChain[0]`)
    /// must verify against it with swift-certificates' Verifier (RFC 5280 at `now`), carry the
    /// serverAuth EKU, and, when `hostnameOrIP` is given, name that host or IP.
    /// On success returns the pinned CA certificate, which the agent then stores.
    package static func verify(
        presentedChain: [Certificate],
        pinnedSHA256: String,
        hostnameOrIP: String?,
        now: Date
    ) async -> Result<Certificate, PinError> {
        guard let pin = normalizedPin(pinnedSHA256) else { return .failure(.malformedPin) }
        guard let leaf = presentedChain.first else { return .failure(.emptyChain) }
        guard let pinned = presentedChain.first(where: { fingerprint(of: $0) == pin }) else {
            return .failure(.pinnedCANotPresented(pinnedSHA256: pin))
        }
        guard case .isCertificateAuthority = try? pinned.extensions.basicConstraints else {
            return .failure(.pinnedCertificateNotCA)
        }
        let intermediates = CertificateStore(presentedChain.dropFirst().filter { $0 != pinned })
        let identity = hostnameOrIP.map(identityPolicy(for:))

        var verifier = Verifier(rootCertificates: CertificateStore([pinned])) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            ServerAuthLeafPolicy()
            if let identity {
                identity
            }
        }
        switch await verifier.validate(leaf: leaf, intermediates: intermediates) {
        case .validCertificate:
            return .success(pinned)
        case .couldNotValidate(let failures):
            let error = await explain(leaf: leaf, pinned: pinned, intermediates: intermediates,
                                      hostnameOrIP: hostnameOrIP, now: now, failures: failures)
            return .failure(error)
        }
    }

    /// Lowercase 64-digit hex, or nil. Accepts upper case and colon separators.
    static func normalizedPin(_ pin: String) -> String? {
        let hex = pin.lowercased().filter { $0 != ":" && !$0.isWhitespace }
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return hex
    }

    private static func fingerprint(of certificate: Certificate) -> String? {
        guard let der = try? FleetCA.derBytes(of: certificate, what: "certificate") else { return nil }
        return FleetCA.fingerprintSHA256(ofDER: der)
    }

    private static func identityPolicy(for hostOrIP: String) -> ServerIdentityPolicy {
        if IPAddressLiteral.bytes(hostOrIP) != nil {
            let bracketed = hostOrIP.hasPrefix("[") && hostOrIP.hasSuffix("]")
            let bare = bracketed ? String(hostOrIP.dropFirst().dropLast()) : hostOrIP
            return ServerIdentityPolicy(serverHostname: nil, serverIP: bare)
        }
        return ServerIdentityPolicy(serverHostname: hostOrIP, serverIP: nil)
    }

    /// Picks the clearest typed error for a chain the Verifier already refused.
    private static func explain(
        leaf: Certificate,
        pinned: Certificate,
        intermediates: CertificateStore,
        hostnameOrIP: String?,
        now: Date,
        failures: [CertificateValidationResult.PolicyFailure]
    ) async -> PinError {
        if failures.isEmpty {
            // No candidate chain was evaluated at all.
            if pinned.publicKey.isValidSignature(leaf.signature, for: leaf) {
                return .chainRejected(reason: "the server certificate has a critical extension the verifier does not handle")
            }
            return .leafNotIssuedByPinnedCA
        }
        if now > leaf.notValidAfter { return .leafExpired(notValidAfter: leaf.notValidAfter) }
        if now < leaf.notValidBefore { return .leafNotYetValid(notValidBefore: leaf.notValidBefore) }
        if let problem = ValidityWindow.problem(with: pinned, at: now, role: "CA certificate") {
            return .pinnedCAOutsideValidity(problem)
        }
        if ServerAuthLeafPolicy.problem(with: leaf) != nil { return .leafNotServerCertificate }
        if let hostnameOrIP {
            // Everything but the name check passes? Then the name is the problem.
            var withoutIdentity = Verifier(rootCertificates: CertificateStore([pinned])) {
                RFC5280Policy(fixedExpiryValidationTime: now)
                ServerAuthLeafPolicy()
            }
            if case .validCertificate = await withoutIdentity.validate(leaf: leaf, intermediates: intermediates) {
                return .nameMismatch(expected: hostnameOrIP)
            }
        }
        return .chainRejected(reason: failures[0].policyFailureReason.description)
    }
}

/// The leaf must be a server certificate: serverAuth EKU and not a CA.
struct ServerAuthLeafPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        if let problem = Self.problem(with: chain.leaf) {
            return .failsToMeetPolicy(reason: problem)
        }
        return .meetsPolicy
    }

    static func problem(with leaf: Certificate) -> String? {
        if case .isCertificateAuthority = try? leaf.extensions.basicConstraints {
            return "a CA certificate cannot be a server certificate"
        }
        guard let usages = try? leaf.extensions.extendedKeyUsage, usages.contains(.serverAuth) else {
            return "certificate lacks the serverAuth extended key usage"
        }
        return nil
    }
}
