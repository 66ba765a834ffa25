package import CHOMCore
package import Foundation

package struct AgentRecord: Sendable, Equatable {
    package var id: AgentID
    package var name: String
    package var state: AgentState
    package var certificateSerial: String
    package var certificateNotAfter: Date
    package var agentVersion: String
    package var hostFacts: HostFacts
    package var maxSites: Int
    /// Sites the coordinator placed on this agent.
    package var placedSites: Int
    package var nextSequence: Int64
    /// host:port of the agent's /metrics, as it reported it ("" if unknown).
    package var metricsAddress: String
    package var lastHeartbeatAt: Date?
    package var enrolledAt: Date
    /// schedulable, cordoned, draining or drained (`agents.scheduling`), independent of `state`.
    package var scheduling: String = "schedulable"
    package var labels: [String: String] = [:]
    /// Where its sites are reached (DNS, a migrated site's proxy); reported by the agent.
    package var publicAddresses: [String] = []
    /// The port its nginx serves sites on.
    package var httpPort: Int = 80
    /// What it announced in its last hello (site kinds among them).
    package var capabilities: [String] = []
    /// The leader's failure detector's verdict: online, suspect or offline (`agents.health`).
    package var health: String = "online"
    /// Sites its last inventory reported at configuration version 0, whose nginx configuration may
    /// lack the fence include (`agents.unfenced_sites`).
    package var unfencedSites: Set<SiteID> = []
}

/// What enrollment inserts.
package struct NewAgent: Sendable {
    package var id: AgentID
    package var name: String
    package var certificateSerial: String
    package var certificateNotAfter: Date
    package var agentVersion: String
    package var hostFacts: HostFacts
    /// The raw 32-byte X25519 key from `EnrollRequest.sealing_public_key`; nil for an older agent.
    package var sealingPublicKey: [UInt8]?

    package init(
        id: AgentID, name: String, certificateSerial: String, certificateNotAfter: Date, agentVersion: String,
        hostFacts: HostFacts, sealingPublicKey: [UInt8]? = nil
    ) {
        self.sealingPublicKey = sealingPublicKey
        self.id = id
        self.name = name
        self.certificateSerial = certificateSerial
        self.certificateNotAfter = certificateNotAfter
        self.agentVersion = agentVersion
        self.hostFacts = hostFacts
    }
}
