// AgentIdentity.swift
// How an agent's identity is written into and read out of its certificate:
// one URI SAN `chom-agent://<lowercased uuid>`, subject CN = the same uuid.

import CHOMCore
package import Foundation
package import X509

package enum AgentIdentity {
    /// The URI scheme prefix of the agent SAN.
    package static let uriPrefix = "chom-agent://"

    /// `chom-agent://<lowercased uuid>`.
    package static func uri(for agentID: UUID) -> String {
        uriPrefix + agentID.uuidString.lowercased()
    }

    /// The subject common name of an agent certificate: the lowercased uuid.
    package static func commonName(for agentID: UUID) -> String {
        agentID.uuidString.lowercased()
    }

    /// The agent id from the certificate's `chom-agent://` URI SAN; nil when there is
    /// none, when it does not hold a UUID, or when there is more than one (ambiguous).
    package static func agentID(from certificate: Certificate) -> UUID? {
        guard let names = try? certificate.extensions.subjectAlternativeNames else {
            return nil
        }
        var found: [UUID] = []
        for name in names {
            guard case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(uriPrefix) else {
                continue
            }
            guard let id = UUID(uuidString: String(uri.dropFirst(uriPrefix.count))) else {
                return nil
            }
            found.append(id)
        }
        return found.count == 1 ? found[0] : nil
    }

    /// Lowercase hex of the serial number's bytes (as encoded, no separators).
    package static func serialHex(_ certificate: Certificate) -> String {
        Hex.encode(certificate.serialNumber.bytes)
    }
}
