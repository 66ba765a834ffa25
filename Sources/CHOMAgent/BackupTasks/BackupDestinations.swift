
package import CHOMBackup
package import CHOMCore
package import CHOMProtocol
import Foundation
package import Logging

/// The `BackupTarget` a task names: a directory on this machine or an S3 bucket.
package enum BackupDestinations {
    package static func target(_ destination: Chom_Agent_V1_BackupDestination, logger: Logger) throws(CHOMError) -> any BackupTarget {
        switch destination.target {
        case .local(let local):
            guard local.path.hasPrefix("/"), !local.path.contains("/../"), !local.path.hasSuffix("/..") else {
                throw CHOMError(.invalidInput, "a local backup directory must be an absolute path without '..'")
            }
            return LocalDirectoryTarget(root: URL(fileURLWithPath: local.path, isDirectory: true))
        case .s3(let bucket):
            guard let endpoint = URL(string: bucket.endpoint), endpoint.scheme == "https" || endpoint.scheme == "http" else {
                throw CHOMError(.invalidInput, "the S3 endpoint must be an http(s) URL")
            }
            let configuration = S3Target.Configuration(
                endpoint: endpoint, region: bucket.region.isEmpty ? "us-east-1" : bucket.region, bucket: bucket.bucket,
                credentials: .init(accessKeyID: bucket.accessKeyID, secretAccessKey: bucket.secretAccessKey),
                keyPrefix: bucket.prefix)
            return try S3Target(configuration: configuration, logger: logger)
        case nil:
            throw CHOMError(.invalidInput, "the task names no backup destination")
        }
    }

    /// `<tenant>/<domain>/<backup id>.tar.zst` (`.enc` added when encrypted): one folder per
    /// site, so a listing or a lifecycle rule can be per site.
    package static func objectKey(site: HostedSite, backupID: String, encrypted: Bool) -> String {
        let tenant = site.tenantID.isEmpty ? "no-tenant" : site.tenantID
        return "\(tenant)/\(site.domain)/\(backupID).tar.zst" + (encrypted ? ".enc" : "")
    }
}
