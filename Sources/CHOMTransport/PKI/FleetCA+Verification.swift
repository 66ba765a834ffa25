// FleetCA+Verification.swift
// Checking an agent's client certificate with swift-certificates' Verifier:
// RFC 5280 at a fixed time, the fleet CA as the only root, plus the CHOM agent
// rules (clientAuth EKU, exactly one chom-agent:// URI SAN, not a CA).

package import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) package import X509

extension FleetCA {
    /// Verifies `certificate` as an agent client certificate issued by this CA, at `now`.
    package func verifyAgentCertificate(_ certificate: Certificate, now: Date) async -> AgentCertificateCheck {
        var verifier = Verifier(rootCertificates: CertificateStore([self.certificate])) {
            // RFC5280Policy(validationTime:) is deprecated in swift-certificates 1.21;
            // the fixed-time initializer is behind this SPI.
            RFC5280Policy(fixedExpiryValidationTime: now)
            AgentClientCertificatePolicy()
        }
        let result = await verifier.validate(leaf: certificate, intermediates: CertificateStore())
        switch result {
        case .validCertificate:
            guard let agentID = AgentIdentity.agentID(from: certificate) else {
                // The policy already demands the SAN; keep the type system honest anyway.
                return .invalid(reason: "certificate has no chom-agent:// URI SAN")
            }
            return .valid(agentID: agentID, serial: AgentIdentity.serialHex(certificate))
        case .couldNotValidate(let failures):
            return .invalid(reason: explainRejection(of: certificate, now: now, failures: failures))
        }
    }

    /// Turns a Verifier rejection into one clear sentence. The Verifier has already
    /// decided; this only picks the most useful explanation.
    private func explainRejection(
        of leaf: Certificate,
        now: Date,
        failures: [CertificateValidationResult.PolicyFailure]
    ) -> String {
        if leaf.issuer != certificate.subject || !certificate.publicKey.isValidSignature(leaf.signature, for: leaf) {
            return "certificate was not issued by this fleet CA (issuer \(leaf.issuer))"
        }
        if let timing = ValidityWindow.problem(with: leaf, at: now, role: "certificate") {
            return timing
        }
        if let timing = ValidityWindow.problem(with: certificate, at: now, role: "fleet CA certificate") {
            return timing
        }
        if let first = failures.first {
            return first.policyFailureReason.description
        }
        return "certificate does not chain to the fleet CA"
    }
}

/// CHOM's rules for an agent client certificate, applied to the chain's leaf.
struct AgentClientCertificatePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        let leaf = chain.leaf
        if case .isCertificateAuthority = try? leaf.extensions.basicConstraints {
            return .failsToMeetPolicy(reason: "a CA certificate cannot be an agent certificate")
        }
        guard let usages = try? leaf.extensions.extendedKeyUsage, usages.contains(.clientAuth) else {
            return .failsToMeetPolicy(reason: "certificate lacks the clientAuth extended key usage")
        }
        guard AgentIdentity.agentID(from: leaf) != nil else {
            return .failsToMeetPolicy(reason: "certificate has no single chom-agent:// URI SAN holding an agent id")
        }
        return .meetsPolicy
    }
}
