package import Foundation

/// What a site's organization is told when a job on the site ends badly or a move ends (pure text;
/// the outbox sends it): deploy failed, backup failed, migration or failover done. The subject
/// names the site's domain (CHOM's own record); the agent's message goes into the body and the
/// webhook's `data`, cut to 500 characters, control characters removed. No fleet detail (agent
/// names, addresses) is in it: that is the hosting company's business.
package struct SiteNotice: Sendable, Equatable {
    package var siteID: String
    package var domain: String
    package var tenantID: String
    package var tenantName: String

    package init(siteID: String, domain: String, tenantID: String, tenantName: String) {
        self.siteID = siteID
        self.domain = domain
        self.tenantID = tenantID
        self.tenantName = tenantName
    }

    package func deployFailed(task: String, step: String?, message: String) -> NotificationContent {
        var data = base(["task_id": task, "message": Self.clean(message)])
        if let step { data["step"] = Self.clean(step) }
        return content(
            .deployFailed, subject: "[CHOM] Deploy failed: \(domain)",
            lines: [
                "A deploy of \(domain) (tenant \(tenantName)) failed\(step.map { " at \(Self.clean($0))" } ?? "").",
                "The site serves its previous release, if it had one.", "",
                "Reason: \(Self.clean(message))", "Task: \(task)", "",
                "`chom tasks show \(task)` shows the task; `chom sites deploy` tries again.",
            ], data: data)
    }

    package func backupFailed(task: String, backup: String, message: String) -> NotificationContent {
        content(
            .backupFailed, subject: "[CHOM] Backup failed: \(domain)",
            lines: [
                "A backup of \(domain) (tenant \(tenantName)) failed.", "",
                "Reason: \(Self.clean(message))", "Backup: \(backup)", "Task: \(task)", "",
                "`chom sites backups \(domain)` lists the site's backups; `chom sites backup \(domain)` tries again.",
            ], data: base(["task_id": task, "backup_id": backup, "message": Self.clean(message)]))
    }

    /// A migration or failover that ended: `failedStep` when it failed; recovery figures (seconds)
    /// when a failover succeeded.
    package func moveDone(
        failover: Bool, succeeded: Bool, migration: String, failedStep: String?,
        recoveryPointSeconds: Double?, recoveryTimeSeconds: Double?
    ) -> NotificationContent {
        let noun = failover ? "failover" : "migration"
        var data = base(["migration_id": migration, "outcome": succeeded ? "succeeded" : "failed"])
        var lines: [String]
        if succeeded {
            lines = [
                failover
                    ? "\(domain) (tenant \(tenantName)) was failed over: its server stopped answering, and the site was restored from its latest backup on another server."
                    : "\(domain) (tenant \(tenantName)) was moved to another server.",
            ]
            if let point = recoveryPointSeconds, let time = recoveryTimeSeconds {
                data["recovery_point_seconds"] = String(format: "%.1f", point)
                data["recovery_time_seconds"] = String(format: "%.1f", time)
                lines.append("Changes made in the \(Int(point.rounded())) s before the failure may be lost; the site was back after \(Int(time.rounded())) s.")
            }
        } else {
            // The runner's message names agents and their errors: the fleet's business, not the tenant's.
            if let failedStep { data["failed_step"] = Self.clean(failedStep) }
            lines = [
                "The \(noun) of \(domain) (tenant \(tenantName)) failed\(failedStep.map { " at \(Self.clean($0))" } ?? "").",
                failover ? "The site stays where it was." : "The site stays on its server and keeps serving.",
                "The hosting company's operators see why in `chom fleet migrations`.",
            ]
        }
        lines.append("Migration: \(migration)")
        return content(
            failover ? .failoverDone : .migrationDone,
            subject: "[CHOM] \(failover ? "Failover" : "Migration") \(succeeded ? "done" : "failed"): \(domain)",
            lines: lines, data: data)
    }

    private func base(_ extra: [String: String]) -> [String: String] {
        extra.merging(["site_id": siteID, "site": domain, "tenant_id": tenantID, "tenant": tenantName]) { first, _ in first }
    }

    private func content(_ event: NotificationEvent, subject: String, lines: [String], data: [String: String])
        -> NotificationContent
    {
        NotificationContent(event: event, subject: subject, body: lines.joined(separator: "\n") + "\n", data: data)
    }

    /// One line, at most 500 characters, without control characters.
    static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).prefix(500))
    }
}
