package import CHOMProtocol
import Foundation
import GRPCCore

/// Where a deploy gets its artifact bytes. The agent fetches from the coordinator over mTLS
/// (`GRPCArtifactSource`); tests read a local file.
package protocol ArtifactSource: Sendable {
    /// Streams the artifact of `releaseID` into `sink`, chunk by chunk.
    func fetch(releaseID: String, into sink: ArtifactSink) async throws
}

/// `FetchArtifact` on the agent listener (mutual TLS; the coordinator checks the release belongs
/// to a site placed on this agent).
package struct GRPCArtifactSource<Client: Chom_Agent_V1_AgentGateway.ClientProtocol>: ArtifactSource {
    package let client: Client

    package init(client: Client) {
        self.client = client
    }

    package func fetch(releaseID: String, into sink: ArtifactSink) async throws {
        var request = Chom_Agent_V1_FetchArtifactRequest()
        request.releaseID = releaseID
        var options = CallOptions.defaults
        options.waitForReady = false
        try await client.fetchArtifact(request, options: options) { response in
            for try await chunk in response.messages {
                try sink.write(chunk.data)
            }
        }
    }
}
