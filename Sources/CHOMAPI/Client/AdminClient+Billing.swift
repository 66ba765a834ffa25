/// Plans, an organization's billing and its subscription.
extension AdminClient {
    package func plans() async throws(AdminClientError) -> ListResponse<PlanResponse> {
        try await json(.get, "/v1/billing/plans")
    }

    /// Operators only.
    package func createPlan(_ request: PlanRequest) async throws(AdminClientError) -> PlanResponse {
        try await json(.post, "/v1/billing/plans", body: request)
    }

    /// Operators only; `request.code` must be `code`.
    package func updatePlan(code: String, _ request: PlanRequest) async throws(AdminClientError) -> PlanResponse {
        try await json(.put, "/v1/billing/plans/\(segment(code))", body: request)
    }

    package func billing(organizationID: String) async throws(AdminClientError) -> BillingResponse {
        try await json(.get, "/v1/organizations/\(segment(organizationID))/billing")
    }

    package func changeSubscription(organizationID: String, plan: String, effective: String? = nil)
        async throws(AdminClientError) -> SubscriptionResponse
    {
        try await json(
            .put, "/v1/organizations/\(segment(organizationID))/subscription",
            body: ChangeSubscriptionRequest(plan: plan, effective: effective))
    }
}
