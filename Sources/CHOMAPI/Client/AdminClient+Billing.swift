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

    /// Cancels the subscription when its current period ends (owners and operators).
    package func cancelSubscription(organizationID: String) async throws(AdminClientError) -> SubscriptionResponse {
        try await json(.post, "/v1/organizations/\(segment(organizationID))/subscription/cancel")
    }

    package func changeSubscription(organizationID: String, plan: String, effective: String? = nil)
        async throws(AdminClientError) -> SubscriptionResponse
    {
        try await json(
            .put, "/v1/organizations/\(segment(organizationID))/subscription",
            body: ChangeSubscriptionRequest(plan: plan, effective: effective))
    }
}

extension AdminClient {
    package func invoices(organizationID: String, cursor: String? = nil, limit: Int? = nil)
        async throws(AdminClientError) -> ListResponse<InvoiceResponse>
    {
        try await page("/v1/organizations/\(segment(organizationID))/invoices", cursor: cursor, limit: limit)
    }

    package func allInvoices(organizationID: String) async throws(AdminClientError) -> [InvoiceResponse] {
        try await all("/v1/organizations/\(segment(organizationID))/invoices")
    }

    package func invoice(organizationID: String, id: String) async throws(AdminClientError) -> InvoiceResponse {
        try await json(.get, "/v1/organizations/\(segment(organizationID))/invoices/\(segment(id))")
    }

    /// The invoice rendered as `csv` or `html`, as the coordinator wrote it.
    package func invoiceDocument(organizationID: String, id: String, format: String) async throws(AdminClientError)
        -> String
    {
        try await text(.get, "/v1/organizations/\(segment(organizationID))/invoices/\(segment(id))?format=\(format)")
    }

    /// Operators only: `paid` or `failed`.
    package func recordPayment(organizationID: String, invoiceID: String, status: String)
        async throws(AdminClientError) -> InvoiceResponse
    {
        try await json(
            .put, "/v1/organizations/\(segment(organizationID))/invoices/\(segment(invoiceID))/payment",
            body: RecordPaymentRequest(status: status))
    }

    /// Operators only.
    package func createCreditNote(organizationID: String, invoiceID: String, amountMinor: Int64, reason: String)
        async throws(AdminClientError) -> CreditNoteResponse
    {
        try await json(
            .post, "/v1/organizations/\(segment(organizationID))/invoices/\(segment(invoiceID))/credit-notes",
            body: CreateCreditNoteRequest(amountMinor: amountMinor, reason: reason))
    }
}
