import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// Organizations and their tenants. A foreign organization or tenant answers 404.
extension AdminAPI {
    func addOrganizationRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/organizations", .organizationsList) { request, _, caller in
            let page = try Page(request)
            let visible = try caller.signedIn.organizations(atLeast: .viewer)
            let organizations = try await store.organizations.list(visible: visible, after: try page.afterUUID, limit: page.limit)
            return try page.response(organizations, key: { $0.id.description }, map: \.api)
        }
        routes.on(.post, "/v1/organizations", .organizationCreate) { request, _, caller in
            let body = try await StrictJSON.decode(
                CreateOrganizationRequest.self, allowed: CreateOrganizationRequest.fields, from: request)
            let name = try Self.validName(body.name)
            var owner: UserRecord?
            if let email = body.ownerEmail {
                guard let user = try await store.users.get(email: email) else {
                    throw CHOMError(.invalidInput, "no user with the email \(email); invite them instead")
                }
                owner = user
            }
            let organization = try await write(caller) { transaction in
                let organization = try await store.organizations.create(
                    id: OrganizationID(), name: name, now: caller.now, in: transaction)
                let (_, plan) = try await quotas.subscription(organization.id, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "organization.create", target: "organization:\(organization.id)", organization: organization.id,
                    details: ["name": name, "plan": plan.code]))
                if let owner {
                    try await store.memberships.put(
                        organization.id, user: owner.id, role: .owner, tenantIDs: [], now: caller.now, in: transaction)
                    try await transaction.record(caller.audit(
                        "membership.put", target: "user:\(owner.id)", organization: organization.id,
                        details: ["role": "owner"]))
                }
                return organization
            }
            return try StrictJSON.response(organization.api, status: .created)
        }
        routes.on(.get, "/v1/organizations/:org", .organizationRead) { _, context, caller in
            try StrictJSON.response(try await organization(context.parameters.get("org"), caller, minimum: .viewer).api)
        }
        routes.on(.patch, "/v1/organizations/:org", .organizationUpdate) { request, context, caller in
            let existing = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let body = try await StrictJSON.decode(
                UpdateOrganizationRequest.self, allowed: UpdateOrganizationRequest.fields, from: request)
            let name = try Self.validName(body.name)
            let renamed = try await write(caller) { transaction in
                guard let renamed = try await store.organizations.rename(existing.id, name: name, now: caller.now, in: transaction)
                else { throw CHOMError(.notFound, "no organization \(existing.id)") }
                try await transaction.record(caller.audit(
                    "organization.update", target: "organization:\(existing.id)", organization: existing.id,
                    details: ["name": name]))
                return renamed
            }
            return try StrictJSON.response(renamed.api)
        }
        routes.on(.get, "/v1/organizations/:org/tenants", .tenantsList) { request, context, caller in
            let page = try Page(request)
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .viewer)
            let principal = try caller.signedIn
            var visible: [TenantID]?
            if !principal.isOperator, let membership = principal.memberships.first(where: { $0.organizationID == organization.id }),
                !membership.tenantIDs.isEmpty
            {
                visible = membership.tenantIDs
            }
            let tenants = try await store.organizations.tenants(
                of: organization.id, visible: visible, after: try page.afterUUID, limit: page.limit)
            return try page.response(tenants, key: { $0.id.description }, map: \.api)
        }
        routes.on(.post, "/v1/organizations/:org/tenants", .tenantCreate) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .admin)
            let body = try await StrictJSON.decode(CreateTenantRequest.self, allowed: CreateTenantRequest.fields, from: request)
            let name = try Self.validName(body.name)
            let tenant = try await write(caller) { transaction in
                let tenant = try await store.organizations.createTenant(
                    id: TenantID(), organization: organization.id, name: name, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "tenant.create", target: "tenant:\(tenant.id)", organization: organization.id, tenant: tenant.id,
                    details: ["name": name]))
                return tenant
            }
            return try StrictJSON.response(tenant.api, status: .created)
        }
        routes.on(.get, "/v1/tenants/:tenant", .tenantRead) { _, context, caller in
            try StrictJSON.response(try await visibleTenant(context.parameters.get("tenant"), caller, minimum: .viewer).api)
        }
    }

    /// An organization the caller belongs to (404 otherwise), held to `minimum` (403).
    func organization(_ parameter: String?, _ caller: Caller, minimum: OrganizationRole) async throws
        -> OrganizationRecord
    {
        let id = try parseID(OrganizationID.self, parameter, what: "organization")
        try caller.signedIn.require(minimum, in: id)
        guard let organization = try await store.organizations.get(id) else {
            throw CHOMError(.notFound, "no organization \(id)")
        }
        return organization
    }

    static func validName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(trimmed.count),
            !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else {
            throw CHOMError(.invalidInput, "a name is 1 to 100 printable characters")
        }
        return trimmed
    }
}
