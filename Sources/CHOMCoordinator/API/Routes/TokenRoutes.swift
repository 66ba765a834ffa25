import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// The caller's own tokens: list, personal access tokens with abilities and an expiry, revocation.
extension AdminAPI {
    func addTokenRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/tokens", .tokensList) { request, _, caller in
            let page = try Page(request)
            let tokens = try await store.tokens.list(
                user: try caller.signedIn.user.id, now: caller.now, after: try page.afterUUID, limit: page.limit)
            return try page.response(tokens, key: { $0.id.description }, map: \.api)
        }
        routes.on(.post, "/v1/tokens", .tokenCreate) { request, _, caller in
            let principal = try caller.signedIn
            let body = try await StrictJSON.decode(CreateTokenRequest.self, allowed: CreateTokenRequest.fields, from: request)
            guard let abilities = Ability.parse(body.abilities) else {
                throw CHOMError(.invalidInput, "unknown ability; known: \(Ability.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            // A token never carries more than the token that creates it.
            if let parent = principal.token.abilities.flatMap({ Ability.parse($0) }),
                let extra = abilities.first(where: { !TokenPolicy.ability($0, in: parent) })
            {
                throw CHOMError(.forbidden, "the token creating this one does not carry \(extra.rawValue)")
            }
            let validated = try PersonalAccessToken.validated(
                name: body.name, abilities: abilities, expiresAt: body.expiresAt, now: caller.now,
                lifetime: identity.tokenPolicy.lifetime)
            let token = APIToken.generate()
            let stored = StoredToken(
                id: token.id, userID: principal.user.id, kind: "personal_access", name: validated.name,
                secretSHA256: token.secretSHA256, abilities: validated.abilities.map(\.rawValue).sorted(),
                createdAt: caller.now, expiresAt: validated.expiresAt, revokedAt: nil, rotatedAt: nil, lastUsedAt: nil)
            try await write(caller) { transaction in
                try await store.tokens.insert(stored, in: transaction)
                try await transaction.record(caller.audit(
                    "auth.token.create", target: "token:\(token.id)",
                    details: ["abilities": stored.abilities?.joined(separator: " ") ?? "", "name": validated.name]))
            }
            return try StrictJSON.response(IssuedTokenResponse(token: token.token, tokenInfo: stored.api), status: .created)
        }
        routes.on(.delete, "/v1/tokens/:id", .tokenRevoke) { _, context, caller in
            let principal = try caller.signedIn
            let id = try parseID(APITokenID.self, context.parameters.get("id"), what: "token")
            try await write(caller) { transaction in
                guard try await store.tokens.revoke(id, user: principal.user.id, now: caller.now, in: transaction) else {
                    throw CHOMError(.notFound, "no token \(id)")
                }
                try await transaction.record(caller.audit("auth.token.revoke", target: "token:\(id)"))
            }
            return Response(status: .noContent)
        }
        routes.on(.post, "/v1/tokens/revoke-all", .tokensRevokeAll) { _, _, caller in
            let principal = try caller.signedIn
            try await write(caller) { transaction in
                let count = try await store.tokens.revokeAll(user: principal.user.id, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "auth.token.revoke_all", target: "user:\(principal.user.id)", details: ["count": "\(count)"]))
            }
            return Response(status: .noContent)
        }
    }
}
