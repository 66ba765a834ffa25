/// Organizations, tenants, members and invitations.
extension AdminClient {
    // MARK: Organizations

    package func organizations(cursor: String? = nil, limit: Int? = nil) async throws(AdminClientError)
        -> ListResponse<OrganizationResponse>
    {
        try await page("/v1/organizations", cursor: cursor, limit: limit)
    }

    package func allOrganizations() async throws(AdminClientError) -> [OrganizationResponse] {
        try await all("/v1/organizations")
    }

    /// Operators only; `ownerEmail` names an existing user, made the owner.
    package func createOrganization(name: String, ownerEmail: String? = nil) async throws(AdminClientError)
        -> OrganizationResponse
    {
        try await json(.post, "/v1/organizations", body: CreateOrganizationRequest(name: name, ownerEmail: ownerEmail))
    }

    package func organization(id: String) async throws(AdminClientError) -> OrganizationResponse {
        try await json(.get, "/v1/organizations/\(segment(id))")
    }

    package func updateOrganization(id: String, name: String) async throws(AdminClientError) -> OrganizationResponse {
        try await json(.patch, "/v1/organizations/\(segment(id))", body: UpdateOrganizationRequest(name: name))
    }

    // MARK: Tenants

    package func tenants(organizationID: String, cursor: String? = nil, limit: Int? = nil)
        async throws(AdminClientError) -> ListResponse<TenantResponse>
    {
        try await page("/v1/organizations/\(segment(organizationID))/tenants", cursor: cursor, limit: limit)
    }

    package func allTenants(organizationID: String) async throws(AdminClientError) -> [TenantResponse] {
        try await all("/v1/organizations/\(segment(organizationID))/tenants")
    }

    package func createTenant(organizationID: String, name: String) async throws(AdminClientError) -> TenantResponse {
        try await json(
            .post, "/v1/organizations/\(segment(organizationID))/tenants", body: CreateTenantRequest(name: name))
    }

    package func tenant(id: String) async throws(AdminClientError) -> TenantResponse {
        try await json(.get, "/v1/tenants/\(segment(id))")
    }

    // MARK: Members

    package func members(organizationID: String, cursor: String? = nil, limit: Int? = nil)
        async throws(AdminClientError) -> ListResponse<MembershipResponse>
    {
        try await page("/v1/organizations/\(segment(organizationID))/members", cursor: cursor, limit: limit)
    }

    package func allMembers(organizationID: String) async throws(AdminClientError) -> [MembershipResponse] {
        try await all("/v1/organizations/\(segment(organizationID))/members")
    }

    /// Changes the role, the tenants (empty: all of the organization's), or both; nil leaves it as it is.
    package func updateMember(organizationID: String, userID: String, role: String? = nil, tenantIDs: [String]? = nil)
        async throws(AdminClientError) -> MembershipResponse
    {
        try await json(
            .patch, "/v1/organizations/\(segment(organizationID))/members/\(segment(userID))",
            body: UpdateMemberRequest(role: role, tenantIds: tenantIDs))
    }

    package func removeMember(organizationID: String, userID: String) async throws(AdminClientError) {
        try await noContent(.delete, "/v1/organizations/\(segment(organizationID))/members/\(segment(userID))")
    }

    // MARK: Invitations

    package func invitations(organizationID: String, cursor: String? = nil, limit: Int? = nil)
        async throws(AdminClientError) -> ListResponse<InvitationResponse>
    {
        try await page("/v1/organizations/\(segment(organizationID))/invitations", cursor: cursor, limit: limit)
    }

    package func allInvitations(organizationID: String) async throws(AdminClientError) -> [InvitationResponse] {
        try await all("/v1/organizations/\(segment(organizationID))/invitations")
    }

    /// The answer holds the invitation's token, shown only this once.
    package func createInvitation(organizationID: String, email: String, role: String, tenantIDs: [String]? = nil)
        async throws(AdminClientError) -> CreatedInvitationResponse
    {
        try await json(
            .post, "/v1/organizations/\(segment(organizationID))/invitations",
            body: CreateInvitationRequest(email: email, role: role, tenantIds: tenantIDs))
    }

    package func deleteInvitation(organizationID: String, invitationID: String) async throws(AdminClientError) {
        try await noContent(
            .delete, "/v1/organizations/\(segment(organizationID))/invitations/\(segment(invitationID))")
    }

    /// `POST /v1/invitations/accept`, sent without a bearer token.
    package func acceptInvitation(token: String, password: String, displayName: String? = nil, code: String? = nil)
        async throws(AdminClientError) -> MeResponse
    {
        try await json(
            .post, "/v1/invitations/accept",
            body: AcceptInvitationRequest(token: token, password: password, displayName: displayName, code: code),
            authenticated: false)
    }
}
