/// The audit log: entries, chain verification and signed checkpoints.
extension AdminClient {
    package func auditEntries(_ filter: AuditFilter = AuditFilter(), cursor: String? = nil, limit: Int? = nil)
        async throws(AdminClientError) -> ListResponse<AuditEntryResponse>
    {
        try await page("/v1/audit", cursor: cursor, limit: limit, filters: filter.queryItems)
    }

    package func allAuditEntries(_ filter: AuditFilter = AuditFilter()) async throws(AdminClientError)
        -> [AuditEntryResponse]
    {
        try await all("/v1/audit", filters: filter.queryItems)
    }

    /// Verifies the chain (`GET /v1/audit/verify`), and against `checkpoints` (JSON lines as
    /// `auditCheckpoints()` returns them) when given (`POST /v1/audit/verify`).
    package func auditVerify(checkpoints: String? = nil) async throws(AdminClientError) -> AuditVerifyResponse {
        guard let checkpoints else { return try await json(.get, "/v1/audit/verify") }
        return try await json(.post, "/v1/audit/verify", body: AuditVerifyRequest(checkpoints: checkpoints))
    }

    /// The signed checkpoints, one JSON object per line, as the coordinator exports them.
    package func auditCheckpoints() async throws(AdminClientError) -> String {
        try await text(.get, "/v1/audit/checkpoints")
    }
}
