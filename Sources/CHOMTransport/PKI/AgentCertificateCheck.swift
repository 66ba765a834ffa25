// AgentCertificateCheck.swift
// The outcome of checking a presented agent client certificate against the fleet CA.

package import Foundation

package enum AgentCertificateCheck: Equatable, Sendable, CustomStringConvertible {
    /// Chains to the fleet CA, is within its validity period, carries clientAuth and one agent SAN.
    case valid(agentID: UUID, serial: String)
    /// Rejected; `reason` is a human-readable explanation (no key material).
    case invalid(reason: String)

    package var isValid: Bool {
        if case .valid = self { return true }
        return false
    }

    package var description: String {
        switch self {
        case .valid(let agentID, let serial):
            return "valid agent certificate (agent \(agentID.uuidString.lowercased()), serial \(serial))"
        case .invalid(let reason):
            return "invalid agent certificate: \(reason)"
        }
    }
}
