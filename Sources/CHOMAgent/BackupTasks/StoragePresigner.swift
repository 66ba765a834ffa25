package import CHOMCore
package import CHOMProtocol
import Foundation
import GRPCCore

/// Asks the coordinator to presign a request on the object of one of this agent's tasks. The agent
/// holds no storage credentials: this is its only way into object storage.
package protocol StoragePresigner: Sendable {
    func presign(taskID: String, _ operation: PresignedOperation) async throws -> [PresignedHTTPRequest]
}

/// `PresignStorage` on the agent listener (mutual TLS; the coordinator signs only the object of a
/// sent or accepted task of this agent, and only the operations its kind needs).
package struct GRPCStoragePresigner<Client: Chom_Agent_V1_AgentGateway.ClientProtocol>: StoragePresigner {
    package let client: Client

    package init(client: Client) {
        self.client = client
    }

    package func presign(taskID: String, _ operation: PresignedOperation) async throws -> [PresignedHTTPRequest] {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.timeout = .seconds(30)
        do {
            let response = try await client.presignStorage(operation.request(taskID: taskID), options: options)
            return response.requests.map(PresignedHTTPRequest.init)
        } catch let error as RPCError {
            throw CHOMError(.unavailable, "the coordinator did not presign \(operation): \(error.message)")
        }
    }
}
