package import Logging
package import PostgresNIO

/// One ordered schema change. Migrations are applied in `version` order, each in its
/// own transaction, and recorded in `schema_migrations`. Never edit a shipped one.
package struct Migration: Sendable {
    /// Runs in the migration's transaction before its SQL; throwing refuses the migration (and so
    /// the start-up) with nothing changed, e.g. when existing rows would break a new constraint.
    package typealias Check = @Sendable (PostgresConnection, Logger) async throws -> Void

    package var version: Int
    package var name: String
    package var sql: String
    package var check: Check?

    package init(version: Int, name: String, sql: String, check: Check? = nil) {
        self.version = version
        self.name = name
        self.sql = sql
        self.check = check
    }
}

package enum Migrations {
    package static let all: [Migration] = [
        Migration0001Foundation.migration,
        Migration0002MetricsAddress.migration,
        Migration0003Identity.migration,
        Migration0004SiteTasks.migration,
        Migration0005SiteNames.migration,
        Migration0006SealingKeys.migration,
        Migration0007SiteLogLines.migration,
        Migration0008SiteLayout.migration,
        Migration0009Fleet.migration,
        Migration0010Leadership.migration,
        Migration0011SuspensionReasons.migration,
        Migration0012Inventory.migration,
        Migration0013AgentHealth.migration,
        Migration0014Failover.migration,
        Migration0015SiteFailover.migration,
        Migration0016AuditPending.migration,
        Migration0017UnfencedSites.migration,
        Migration0018Billing.migration,
        Migration0019Invoices.migration,
        Migration0020StripeEvents.migration,
        Migration0021Notifications.migration,
        Migration0022StripeLedger.migration,
        Migration0023Alerts.migration,
        Migration0024NotificationChannels.migration,
        Migration0025TaskTrace.migration,
        Migration0026SiteLogPosition.migration,
    ]
}
