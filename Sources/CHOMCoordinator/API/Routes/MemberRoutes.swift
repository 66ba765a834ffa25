import CHOMAPI
import CHOMCore
import CHOMStore
import Crypto
import Foundation
import Hummingbird

/// Members of an organization and invitations to join it. Only owners grant or take the owner
/// role, and an organization always keeps one owner.
extension AdminAPI {
    func addMemberRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/organizations/:org/members", .membersList) { request, context, caller in
            let page = try Page(request)
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .viewer)
            let members = try await store.memberships.members(of: organization.id, after: try page.afterUUID, limit: page.limit)
            return try page.response(members, key: { $0.userID.description }, map: \.api)
        }
        routes.on(.patch, "/v1/organizations/:org/members/:user", .memberUpdate) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let userID = try parseID(UserID.self, context.parameters.get("user"), what: "member")
            let body = try await StrictJSON.decode(UpdateMemberRequest.self, allowed: UpdateMemberRequest.fields, from: request)
            guard let current = try await store.memberships.membership(organization.id, user: userID) else {
                throw CHOMError(.notFound, "no member \(userID)")
            }
            let role = try body.role.map(Self.role) ?? current.role
            var tenants = current.tenantIDs
            if let requested = body.tenantIds { tenants = try await tenantIDs(requested, in: organization.id) }
            let principal = try caller.signedIn
            if role == .owner || current.role == .owner { try principal.require(.owner, in: organization.id) }
            try Self.requireReach(principal, in: organization.id, over: current.tenantIDs)
            try Self.requireReach(principal, in: organization.id, over: tenants)
            try await write(caller) { transaction in
                if current.role == .owner, role != .owner,
                    try await store.memberships.ownerCount(organization.id, in: transaction) <= 1
                {
                    throw CHOMError(.conflict, "an organization keeps at least one owner")
                }
                try await store.memberships.put(
                    organization.id, user: userID, role: role, tenantIDs: tenants, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "membership.update", target: "user:\(userID)", organization: organization.id,
                    details: [
                        "role": role.rawValue, "previous_role": current.role.rawValue,
                        "tenants": tenants.map(\.description).joined(separator: " "),
                    ]))
            }
            guard let updated = try await store.memberships.membership(organization.id, user: userID) else {
                throw CHOMError(.notFound, "no member \(userID)")
            }
            return try StrictJSON.response(updated.api)
        }
        routes.on(.delete, "/v1/organizations/:org/members/:user", .memberRemove) { _, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let userID = try parseID(UserID.self, context.parameters.get("user"), what: "member")
            guard let current = try await store.memberships.membership(organization.id, user: userID) else {
                throw CHOMError(.notFound, "no member \(userID)")
            }
            if current.role == .owner { try caller.signedIn.require(.owner, in: organization.id) }
            try Self.requireReach(caller.signedIn, in: organization.id, over: current.tenantIDs)
            try await write(caller) { transaction in
                if current.role == .owner, try await store.memberships.ownerCount(organization.id, in: transaction) <= 1 {
                    throw CHOMError(.conflict, "an organization keeps at least one owner")
                }
                _ = try await store.memberships.remove(organization.id, user: userID, in: transaction)
                try await transaction.record(caller.audit(
                    "membership.remove", target: "user:\(userID)", organization: organization.id,
                    details: ["role": current.role.rawValue]))
            }
            return Response(status: .noContent)
        }
        routes.on(.get, "/v1/organizations/:org/invitations", .invitationsList) { request, context, caller in
            let page = try Page(request)
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let invitations = try await store.memberships.invitations(
                of: organization.id, after: try page.afterUUID, limit: page.limit)
            return try page.response(invitations, key: { $0.id.description }, map: \.api)
        }
        routes.on(.post, "/v1/organizations/:org/invitations", .invitationCreate) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let body = try await StrictJSON.decode(
                CreateInvitationRequest.self, allowed: CreateInvitationRequest.fields, from: request)
            let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
            guard Self.plausibleEmail(email) else { throw CHOMError(.invalidInput, "'\(body.email)' is not an email address") }
            let role = try Self.role(body.role)
            if role == .owner { try caller.signedIn.require(.owner, in: organization.id) }
            let tenants = try await tenantIDs(body.tenantIds ?? [], in: organization.id)
            try Self.requireReach(caller.signedIn, in: organization.id, over: tenants)
            let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            let invitation = InvitationRecord(
                id: InvitationID(), organizationID: organization.id, email: email, role: role, tenantIDs: tenants,
                secretSHA256: Array(SHA256.hash(data: secret)), createdAt: caller.now,
                expiresAt: caller.now.addingTimeInterval(identity.invitationTTL), acceptedAt: nil, revokedAt: nil)
            let principal = try caller.signedIn
            try await write(caller) { transaction in
                try await quotas.check(.members, organization: organization.id, now: caller.now, in: transaction)
                try await store.memberships.invite(invitation, invitedBy: principal.user.id, in: transaction)
                try await transaction.record(caller.audit(
                    "membership.invitation.create", target: "invitation:\(invitation.id)", organization: organization.id,
                    details: ["email": email, "role": role.rawValue]))
            }
            return try StrictJSON.response(
                CreatedInvitationResponse(
                    invitation: invitation.api, token: "\(invitation.id).\(Page.encodeBytes(secret))"),
                status: .created)
        }
        routes.on(.delete, "/v1/organizations/:org/invitations/:id", .invitationDelete) { _, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let id = try parseID(InvitationID.self, context.parameters.get("id"), what: "invitation")
            if let invitation = try await store.memberships.invitation(id), invitation.organizationID == organization.id {
                try Self.requireReach(caller.signedIn, in: organization.id, over: invitation.tenantIDs)
            }
            try await write(caller) { transaction in
                guard try await store.memberships.revokeInvitation(id, organization: organization.id, now: caller.now, in: transaction)
                else { throw CHOMError(.notFound, "no open invitation \(id)") }
                try await transaction.record(caller.audit(
                    "membership.invitation.revoke", target: "invitation:\(id)", organization: organization.id))
            }
            return Response(status: .noContent)
        }
    }

    /// A caller whose membership is limited to some of the organization's tenants gives, changes and
    /// takes access only within them: `tenants` (empty meaning every tenant) must be a subset of theirs.
    static func requireReach(_ principal: Principal, in organization: OrganizationID, over tenants: [TenantID]) throws {
        guard !principal.isOperator,
            let mine = principal.memberships.first(where: { $0.organizationID == organization })?.tenantIDs,
            !mine.isEmpty
        else { return }
        guard !tenants.isEmpty, Set(tenants).isSubset(of: Set(mine)) else {
            throw CHOMError(.forbidden, "your membership is limited to some tenants: you manage access only within them")
        }
    }

    /// Tenant ids from a request, each of which must belong to the organization.
    private func tenantIDs(_ values: [String], in organization: OrganizationID) async throws -> [TenantID] {
        guard values.count <= 100 else { throw CHOMError(.invalidInput, "at most 100 tenants") }
        var ids: [TenantID] = []
        for value in values {
            guard let id = TenantID(value), let tenant = try await store.organizations.tenant(id),
                tenant.organizationID == organization
            else { throw CHOMError(.invalidInput, "no tenant \(value) in this organization") }
            ids.append(id)
        }
        return ids
    }

    static func role(_ value: String) throws -> OrganizationRole {
        guard let role = OrganizationRole(rawValue: value) else {
            throw CHOMError(.invalidInput, "role must be one of owner, admin, member, viewer")
        }
        return role
    }

    static func plausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !email.contains(where: { $0.isWhitespace || $0.isNewline })
    }
}
