import CHOMCore
import Foundation
import Logging
import PostgresNIO

/// Names and app ports unique across the fleet. `site_names` holds every name a live site answers
/// to (its domain and each alias, one row each) and `site_ports` the port each app site listens
/// on, per agent; their primary keys are the arbiters, so two concurrent claims of one name or
/// port cannot both commit. A removed site holds neither (its row keeps its domain, which is why
/// `sites.domain` is no longer UNIQUE). Existing duplicates refuse the migration with a report
/// (`Migration0005SiteNames.conflicts`), see coordinator-config/README.md.
enum Migration0005SiteNames {
    static let migration = Migration(version: 5, name: "site_names", sql: """
        CREATE TABLE site_names (
            name text PRIMARY KEY,
            site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE
        );
        CREATE INDEX site_names_site ON site_names (site_id);

        CREATE TABLE site_ports (
            agent_id uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
            site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            PRIMARY KEY (agent_id, port)
        );
        CREATE INDEX site_ports_site ON site_ports (site_id);

        INSERT INTO site_names (name, site_id)
        SELECT DISTINCT ON (name) name, id FROM (\(liveNames)) n ORDER BY name, id;

        INSERT INTO site_ports (agent_id, port, site_id)
        SELECT agent_id, port, id FROM (\(livePorts)) p;

        ALTER TABLE sites DROP CONSTRAINT sites_domain_key;
        CREATE INDEX sites_domain ON sites (domain, id);
        """, check: { connection, logger in
            let report = try await conflicts(on: connection, logger: logger)
            guard report.isEmpty else {
                throw CHOMError(.configuration, """
                    migration 5 (site_names) refused: names or app ports are used by more than one site, and each \
                    must belong to one site only. Change or remove all but one of each, then start again \
                    (coordinator-config/README.md, "Duplicate site names or ports"):
                    \(report.map { "  - " + $0 }.joined(separator: "\n"))
                    """)
            }
        })

    /// Every name of every site not removed: (id, domain, name).
    static let liveNames = """
        SELECT s.id, s.domain, lower(s.domain) AS name FROM sites s WHERE s.state <> 'removed'
        UNION ALL
        SELECT s.id, s.domain, lower(alias) FROM sites s,
            jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(s.config -> 'aliases') = 'array' THEN s.config -> 'aliases' ELSE '[]' END) alias
        WHERE s.state <> 'removed'
        """

    /// The port of every app site not removed, on its agent: (id, domain, agent_id, port).
    static let livePorts = """
        SELECT s.id, s.domain, s.agent_id, (s.config ->> 'appPort')::integer AS port FROM sites s
        WHERE s.state <> 'removed' AND s.kind = 'app' AND s.agent_id IS NOT NULL
          AND jsonb_typeof(s.config -> 'appPort') = 'number'
        """

    /// One line per name or port held by more than one site, naming them all; empty when none.
    static func conflicts(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var lines: [String] = []
        let names = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT name, string_agg(DISTINCT domain || ' (' || id || ')', ', ' ORDER BY domain || ' (' || id || ')') FROM (\(liveNames)) n
            GROUP BY name HAVING count(DISTINCT id) > 1 ORDER BY name
            """), logger: logger)
        for try await (name, sites) in names.decode((String, String).self) {
            lines.append("name \(name) is used by the sites \(sites)")
        }
        let ports = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT agent_id, port, string_agg(DISTINCT domain || ' (' || id || ')', ', ' ORDER BY domain || ' (' || id || ')') FROM (\(livePorts)) p
            GROUP BY agent_id, port HAVING count(DISTINCT id) > 1 ORDER BY agent_id, port
            """), logger: logger)
        for try await (agent, port, sites) in ports.decode((UUID, Int, String).self) {
            lines.append("port \(port) on agent \(agent.uuidString.lowercased()) is used by the app sites \(sites)")
        }
        return lines
    }
}
