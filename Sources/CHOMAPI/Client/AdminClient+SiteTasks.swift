/// Site configuration, deploys from git, rollbacks, suspension, removal and backups. Every route
/// that queues work answers the task (or the backup, whose `taskId` is the task); follow it with
/// `task(id:)`.
extension AdminClient {
    /// Replaces the site's configuration (`PUT /v1/sites/{site}/config`).
    package func configureSite(_ site: String, _ config: SiteConfigRequest) async throws(AdminClientError)
        -> SiteTaskResponse
    {
        try await json(.put, "/v1/sites/\(segment(site))/config", body: config)
    }

    /// Deploys a git ref (the agent clones it).
    package func deploy(site: String, git: GitSourceBody, keepReleases: Int? = nil) async throws(AdminClientError)
        -> TaskResponse
    {
        try await json(
            .post, "/v1/sites/\(segment(site))/deploy", body: DeployRequest(keepReleases: keepReleases, git: git))
    }

    /// Back to `releaseID`, or to the release before the current one.
    package func rollback(site: String, releaseID: String? = nil) async throws(AdminClientError) -> TaskResponse {
        try await json(.post, "/v1/sites/\(segment(site))/rollback", body: RollbackRequest(releaseId: releaseID))
    }

    package func suspend(site: String) async throws(AdminClientError) -> TaskResponse {
        try await json(.post, "/v1/sites/\(segment(site))/suspend")
    }

    package func resume(site: String) async throws(AdminClientError) -> TaskResponse {
        try await json(.post, "/v1/sites/\(segment(site))/resume")
    }

    /// Removes the site from its agent, after a backup unless `force`.
    package func removeSite(_ site: String, force: Bool = false) async throws(AdminClientError) -> TaskResponse {
        try await json(.delete, "/v1/sites/\(segment(site))\(force ? "?force=true" : "")")
    }

    // MARK: Backups

    /// Every backup of the site, newest first, following the pages.
    package func backups(site: String) async throws(AdminClientError) -> [BackupResponse] {
        try await all("/v1/sites/\(segment(site))/backups")
    }

    package func createBackup(site: String, encrypt: Bool? = nil) async throws(AdminClientError) -> BackupResponse {
        try await json(.post, "/v1/sites/\(segment(site))/backups", body: CreateBackupRequest(encrypt: encrypt))
    }

    /// Restores a backup onto the site's agent, or (operators) onto `agentID`.
    package func restoreBackup(site: String, backup: String, agentID: String? = nil) async throws(AdminClientError)
        -> TaskResponse
    {
        try await json(
            .post, "/v1/sites/\(segment(site))/backups/\(segment(backup))/restore",
            body: RestoreBackupRequest(agentId: agentID))
    }

    package func verifyBackup(site: String, backup: String) async throws(AdminClientError) -> TaskResponse {
        try await json(.post, "/v1/sites/\(segment(site))/backups/\(segment(backup))/verify")
    }

    package func backupSchedule(site: String) async throws(AdminClientError) -> BackupScheduleResponse {
        try await json(.get, "/v1/sites/\(segment(site))/backup-schedule")
    }

    package func setBackupSchedule(site: String, _ schedule: BackupScheduleRequest) async throws(AdminClientError)
        -> BackupScheduleResponse
    {
        try await json(.put, "/v1/sites/\(segment(site))/backup-schedule", body: schedule)
    }
}

extension AdminClient {
    /// The last `tail` lines of the site's `kind` (access or error) log (`GET /v1/sites/{site}/logs`).
    /// The last `tail` lines of the site's `kind` log; with `after` (the `cursor` of an earlier
    /// answer), the lines written since, at most `tail` of them (1000 when nil).
    package func siteLogs(
        _ site: String, kind: String, tail: Int? = nil, after: String? = nil
    ) async throws(AdminClientError) -> SiteLogsResponse {
        let query = Self.query([("kind", kind), ("tail", tail.map(String.init)), ("after", after)])
        return try await json(.get, "/v1/sites/\(segment(site))/logs\(query)")
    }
}
