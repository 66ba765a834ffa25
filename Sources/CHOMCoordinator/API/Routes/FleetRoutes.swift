import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Foundation
import Hummingbird
import SwiftProtobuf

/// Platform operators' routes: agents, join tokens, Prometheus discovery.
extension AdminAPI {
    func addFleetRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/join-tokens", .joinTokenCreate) { request, _, caller in
            try await createJoinToken(request, caller)
        }
        routes.on(.get, "/v1/join-tokens", .joinTokensList) { request, _, _ in
            let page = try Page(request)
            let tokens = try await store.joinTokens.list(after: try page.afterUUID, limit: page.limit)
            return try page.response(tokens, key: { $0.id.description }, map: \.api)
        }
        routes.on(.delete, "/v1/join-tokens/:id", .joinTokenRevoke) { _, context, caller in
            let id = try parseID(JoinTokenID.self, context.parameters.get("id"), what: "join token")
            try await write(caller) { transaction in
                guard try await store.joinTokens.revoke(id, now: caller.now, in: transaction) else {
                    throw CHOMError(.notFound, "no join token \(id)")
                }
                try await transaction.record(caller.audit("join_token.revoke", target: "join_token:\(id)"))
            }
            return Response(status: .noContent)
        }
        routes.on(.get, "/v1/join-tokens/:id/uses", .joinTokenUses) { request, context, _ in
            let page = try Page(request)
            let id = try parseID(JoinTokenID.self, context.parameters.get("id"), what: "join token")
            guard try await store.joinTokens.get(id) != nil else { throw CHOMError(.notFound, "no join token \(id)") }
            let after = try page.after.map { text -> Int64 in
                guard let value = Int64(text) else { throw CHOMError(.invalidInput, "the cursor is not one this server issued") }
                return value
            }
            let uses = try await store.joinTokens.uses(of: id, after: after, limit: page.limit)
            return try page.response(uses, key: { String($0.id) }) {
                JoinTokenUseResponse(
                    usedAt: $0.usedAt, sourceAddress: $0.sourceAddress, outcome: $0.outcome,
                    agentId: $0.agentID?.description)
            }
        }
        routes.on(.get, "/v1/agents", .agentsList) { request, _, _ in
            let page = try Page(request)
            let agents = try await store.agents.list(after: try page.afterUUID, limit: page.limit)
            return try page.response(agents, key: { $0.id.description }, map: \.api)
        }
        routes.on(.get, "/v1/agents/:id", .agentRead) { _, context, _ in
            try StrictJSON.response(try await agent(context.parameters.get("id")).api)
        }
        routes.on(.delete, "/v1/agents/:id", .agentDelete) { _, context, caller in
            let agent = try await agent(context.parameters.get("id"))
            try await write(caller) { transaction in
                _ = try await store.agents.delete(agent.id, now: caller.now, in: transaction)
                try await transaction.record(
                    caller.audit("agent.remove", target: "agent:\(agent.id)", details: ["name": agent.name]))
            }
            return Response(status: .noContent)
        }
        routes.on(.post, "/v1/agents/:id/ping", .agentPing) { _, context, caller in
            let agent = try await agent(context.parameters.get("id"))
            let id = TaskID()
            var message = Chom_Agent_V1_Task()
            message.taskID = id.description
            message.ping = Chom_Agent_V1_PingTask()
            let task = NewTask(
                id: id, agentID: agent.id, siteID: nil, releaseID: nil, kind: .ping, payload: try message.serializedBytes(),
                maxAttempts: configuration.dispatch.maxDeliveryAttempts)
            let record = try await write(caller) { transaction in
                let record = try await store.tasks.enqueue(task, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "agent.ping", target: "agent:\(agent.id)", details: ["task": id.description]))
                return record
            }
            await connections.wake(agent.id)
            return try StrictJSON.response(record.api, status: .accepted)
        }
        routes.on(.get, "/v1/discovery/prometheus", .prometheusDiscovery) { _, _, _ in
            // Prometheus HTTP service discovery: one target group per agent that reported a metrics address.
            let groups = try await store.agents.list().filter { !$0.metricsAddress.isEmpty }.map {
                PrometheusTargetGroup(
                    targets: [$0.metricsAddress],
                    labels: [
                        "chom_agent_id": $0.id.description, "chom_agent_name": $0.name,
                        "chom_agent_state": $0.state.rawValue,
                    ])
            }
            return try StrictJSON.response(groups)
        }
    }

    private func createJoinToken(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await StrictJSON.decode(
            CreateJoinTokenRequest.self, allowed: CreateJoinTokenRequest.fields, from: request)
        let ttl = body.ttlSeconds ?? configuration.joinTokens.defaultTTLSeconds
        let maxUses = body.maxUses ?? configuration.joinTokens.defaultMaxUses
        guard ttl >= 60, ttl <= 30 * 86_400 else {
            throw CHOMError(.invalidInput, "ttlSeconds must be between 60 and 2592000")
        }
        guard (1...1000).contains(maxUses) else { throw CHOMError(.invalidInput, "maxUses must be between 1 and 1000") }
        let description = body.description ?? ""
        guard description.count <= 200 else { throw CHOMError(.invalidInput, "description is longer than 200 characters") }
        let secret = JoinTokenSecret.generate()
        let now = caller.now
        let record = try await write(caller) { transaction in
            let record = try await store.joinTokens.create(
                id: secret.id, secretSHA256: secret.secretSHA256, description: description, maxUses: maxUses,
                expiresAt: now.addingTimeInterval(ttl), now: now, in: transaction)
            try await transaction.record(caller.audit(
                "join_token.create", target: "join_token:\(secret.id)",
                details: ["max_uses": "\(maxUses)", "ttl_seconds": "\(Int(ttl))"]))
            return record
        }
        return try StrictJSON.response(
            CreatedJoinTokenResponse(
                joinToken: record.api, token: secret.token, caSHA256: keys.ca.fingerprintSHA256,
                enrollAddress: enrollAddress()),
            status: .created)
    }

    private func agent(_ parameter: String?) async throws -> AgentRecord {
        let id = try parseID(AgentID.self, parameter, what: "agent")
        guard let agent = try await store.agents.get(id), agent.state != .deleted else {
            throw CHOMError(.notFound, "no agent \(id)")
        }
        return agent
    }
}
