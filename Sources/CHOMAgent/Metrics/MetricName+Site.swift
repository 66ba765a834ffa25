package import CHOMCore

/// Per-site metric names. Every series carries exactly two labels, `site` (the domain) and
/// `tenant` (the tenant id), plus at most one bounded label (`result`, `class` or `release`).
extension MetricName {
    /// Gauge: bytes allocated under the site's tree (a `du` walk, refreshed in the background).
    package static let siteDiskBytes = "chom_site_disk_bytes"
    /// Gauge, `{release}`: 1 for the release serving the site; older releases have no series.
    package static let siteReleaseInfo = "chom_site_release_info"
    /// Gauge: Unix time the last deploy finished, whatever its result.
    package static let siteLastDeploy = "chom_site_last_deploy_timestamp_seconds"
    /// Gauge: 1 if the last deploy succeeded, else 0.
    package static let siteLastDeploySuccess = "chom_site_last_deploy_success"
    /// Counter, `{result}`: deploys by result (succeeded, failed, rolled_back).
    package static let siteDeploys = "chom_site_deploys_total"
    /// Gauge: Unix time of the last successful backup.
    package static let siteLastBackup = "chom_site_last_backup_timestamp_seconds"
    /// Gauge: size in bytes of the last successful backup.
    package static let siteLastBackupSize = "chom_site_last_backup_size_bytes"
    /// Gauge: how long the last successful backup took, in seconds.
    package static let siteLastBackupDuration = "chom_site_last_backup_duration_seconds"
    /// Gauge: Unix time of the last backup that was restored and verified.
    package static let siteLastVerifiedBackup = "chom_site_last_verified_backup_timestamp_seconds"
    /// Counter, `{class}`: requests in the site's nginx access log by status class (1xx … 5xx).
    package static let siteRequests = "chom_site_requests_total"
    /// Counter: access log lines whose status could not be read.
    package static let siteAccessLogUnparsed = "chom_site_access_log_unparsed_lines_total"
    /// Gauge: 1 if the agent's last health probe of the site got the expected status, else 0.
    /// Absent for a suspended site (it answers 503 maintenance on purpose).
    package static let siteUp = "chom_site_up"
    /// Gauge: how long the last health probe of the site took, in seconds (to its deadline when it failed).
    package static let siteProbeDuration = "chom_site_probe_duration_seconds"
    /// Gauge: Unix time the site's certificate chain stops being valid (its earliest notAfter).
    package static let siteCertificateExpiry = "chom_site_certificate_expiry_timestamp_seconds"
}
