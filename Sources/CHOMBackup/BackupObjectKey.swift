/// Where a site's backup archive lives in its destination: `<tenant>/<domain>/<backup id>.tar.zst`,
/// `.enc` added when encrypted. One folder per site, so a listing or a lifecycle rule can be per
/// site. The coordinator names it in presigned tasks; an agent writing a local directory uses the same.
package enum BackupObjectKey {
    package static func make(tenantID: String, domain: String, backupID: String, encrypted: Bool) -> String {
        let tenant = tenantID.isEmpty ? "no-tenant" : tenantID
        return "\(tenant)/\(domain)/\(backupID).tar.zst" + (encrypted ? ".enc" : "")
    }

    /// The folder of one site's backups, ending in `/`.
    package static func siteFolder(tenantID: String, domain: String) -> String {
        "\(tenantID.isEmpty ? "no-tenant" : tenantID)/\(domain)/"
    }
}
