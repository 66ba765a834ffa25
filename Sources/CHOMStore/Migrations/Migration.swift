/// One ordered schema change. Migrations are applied in `version` order, each in its
/// own transaction, and recorded in `schema_migrations`. Never edit a shipped one.
package struct Migration: Sendable {
    package var version: Int
    package var name: String
    package var sql: String
}

package enum Migrations {
    package static let all: [Migration] = [
        Migration0001Foundation.migration,
        Migration0002MetricsAddress.migration,
        Migration0003Identity.migration,
        Migration0004SiteTasks.migration,
    ]
}
