package import CHOMCore
import Logging
import PostgresNIO

extension ScopedSiteRepository {
    /// The lines a finished `read_site_logs` task of `site` brought back, erased from its row as
    /// they are taken (a site's logs hold its visitors' addresses: they are not kept). Nil when
    /// the task is not the site's, not in scope, or its lines were taken already.
    package func takeSiteLogs(_ task: TaskID, site: SiteRecord) async throws -> TaskReport.SiteLogs? {
        guard scope.contains(site.tenantID) else { return nil }
        let rows = try await client.query("""
            WITH taken AS (
                SELECT id, result_lines, result_truncated, result_log_position, result_log_gap FROM tasks
                WHERE id = \(task.uuid) AND site_id = \(site.id.uuid) AND kind = 'read_site_logs'
                  AND result_lines IS NOT NULL
                FOR UPDATE
            )
            UPDATE tasks t SET result_lines = NULL, result_log_position = NULL FROM taken WHERE t.id = taken.id
            RETURNING taken.result_lines, taken.result_truncated, taken.result_log_position, taken.result_log_gap
            """, logger: logger)
        for try await (lines, truncated, position, gap) in rows.decode(([String], Bool, String?, Bool).self) {
            return TaskReport.SiteLogs(
                lines: lines, truncated: truncated, position: position.flatMap { SiteLogPosition($0) }, gap: gap)
        }
        return nil
    }
}
