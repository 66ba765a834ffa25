package import CHOMCore
import CHOMTransport
package import Crypto
package import Foundation
package import X509

/// When and how the agent renews its client certificate: at a fraction of its lifetime (2/3 by
/// default), with a new key generated locally, over the Connect stream.
package enum CertificateRenewal {
    /// `issued + fraction × (notAfter − issued)`, where `issued` is `notBefore` plus the fleet
    /// CA's clock-skew backdating (certificates are valid from a little before they were issued;
    /// counting that slack as lifetime would make short-lived certificates due at once).
    package static func dueDate(for certificate: Certificate, fraction: Double) -> Date {
        var issued = certificate.notValidBefore.addingTimeInterval(FleetCA.clockSkewAllowance)
        if issued >= certificate.notValidAfter { issued = certificate.notValidBefore }
        let lifetime = certificate.notValidAfter.timeIntervalSince(issued)
        return issued.addingTimeInterval(lifetime * min(max(fraction, 0), 1))
    }

    /// A fresh key and the PEM CSR for it.
    package static func makeRequest(agentID: AgentID) throws -> (key: P256.Signing.PrivateKey, csrPEM: String) {
        let key = AgentKeyPair.generate()
        let csr = try AgentKeyPair.makeCSR(privateKey: key, commonName: agentID.description)
        return (key, try AgentKeyPair.pem(of: csr))
    }

    /// Checks a renewed certificate before it replaces the current one: it is for `key`, names
    /// this agent, and is signed by the fleet CA the agent already trusts.
    package static func validate(
        certificatePEM: String, key: P256.Signing.PrivateKey, identity: EnrolledIdentity, now: Date
    ) throws -> Certificate {
        let certificate: Certificate
        do {
            certificate = try AgentKeyPair.certificate(pem: certificatePEM)
        } catch {
            throw CHOMError(.integrity, "the renewed certificate is not a PEM certificate")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw CHOMError(.integrity, "the renewed certificate is not for the key the agent generated")
        }
        guard AgentIdentity.agentID(from: certificate) == identity.agentID.uuid else {
            throw CHOMError(.integrity, "the renewed certificate names another agent")
        }
        let ca = identity.caCertificate
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw CHOMError(.integrity, "the renewed certificate was not issued by the fleet CA")
        }
        guard certificate.notValidAfter > now else {
            throw CHOMError(.integrity, "the renewed certificate has already expired")
        }
        return certificate
    }
}
