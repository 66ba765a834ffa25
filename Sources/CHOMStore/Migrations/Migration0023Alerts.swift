/// Alerts received from Alertmanager (`POST /v1/alerts/alertmanager`, the observability issue):
/// one row per alert occurrence, named by Alertmanager's fingerprint (a hash of its labels) and
/// the time it started firing. A site alert (labels `site` and `tenant` naming a site of that
/// tenant) is filed under the site's tenant and organization, and seen by that organization;
/// any other alert (an agent's disk, the coordinator) is the fleet's, seen by operators only.
enum Migration0023Alerts {
    static let migration = Migration(version: 23, name: "alerts", sql: """
        CREATE TABLE alerts (
            id uuid PRIMARY KEY,
            fingerprint text NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 64),
            alertname text NOT NULL CHECK (length(alertname) BETWEEN 1 AND 200),
            status text NOT NULL CHECK (status IN ('firing', 'resolved')),
            severity text NOT NULL DEFAULT '',
            organization_id uuid REFERENCES organizations(id),
            tenant_id uuid REFERENCES tenants(id),
            site_id uuid REFERENCES sites(id),
            labels jsonb NOT NULL,
            summary text NOT NULL DEFAULT '',
            description text NOT NULL DEFAULT '',
            runbook text NOT NULL DEFAULT '',
            starts_at timestamptz NOT NULL,
            ends_at timestamptz,
            received_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            UNIQUE (fingerprint, starts_at),
            CHECK ((tenant_id IS NULL) = (organization_id IS NULL))
        );
        CREATE INDEX alerts_organization ON alerts (organization_id, starts_at DESC);
        CREATE INDEX alerts_status ON alerts (status, starts_at DESC);
        """)
}
