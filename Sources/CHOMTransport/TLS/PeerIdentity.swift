package import Foundation
package import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// The agent behind an RPC, taken only from the verified client certificate.
package struct PeerIdentity: Sendable {
    package var agentID: UUID
    package var serial: String
    package var notAfter: Date
    package var remoteAddress: String

    /// nil when the call carried no client certificate or no `chom-agent://` SAN.
    package init?(context: ServerContext) {
        guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
            let certificate = posix.peerCertificate,
            let agentID = AgentIdentity.agentID(from: certificate)
        else { return nil }
        self.agentID = agentID
        self.serial = AgentIdentity.serialHex(certificate)
        self.notAfter = certificate.notValidAfter
        self.remoteAddress = context.remotePeer
    }
}
