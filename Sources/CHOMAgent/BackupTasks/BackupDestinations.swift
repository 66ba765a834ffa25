
package import CHOMBackup
package import CHOMCore
package import CHOMProtocol
import Foundation
package import Logging

/// The `BackupTarget` a task names: a directory on this machine or an S3 bucket.
package enum BackupDestinations {
    /// `presign` asks the coordinator for URLs for the task's object; nil where no coordinator
    /// stands behind the agent (tests of local destinations), and a presigned destination is then refused.
    package static func target(
        _ destination: Chom_Agent_V1_BackupDestination, presign: PresignedS3Target.Presign?, logger: Logger
    ) throws(CHOMError) -> any BackupTarget {
        switch destination.target {
        case .local(let local):
            guard local.path.hasPrefix("/"), !local.path.contains("/../"), !local.path.hasSuffix("/..") else {
                throw CHOMError(.invalidInput, "a local backup directory must be an absolute path without '..'")
            }
            return LocalDirectoryTarget(root: URL(fileURLWithPath: local.path, isDirectory: true))
        case .presigned(let object):
            guard let presign else {
                throw CHOMError(.invalidInput, "this agent has no coordinator to presign object storage URLs")
            }
            let threshold = object.multipartThreshold == 0 ? 16 * 1024 * 1024 : Int(clamping: object.multipartThreshold)
            let partSize = object.partSize == 0 ? 16 * 1024 * 1024 : Int(clamping: object.partSize)
            return try PresignedS3Target(
                objectKey: object.objectKey, multipartThreshold: threshold, partSize: partSize, logger: logger,
                presign: presign)
        case .s3:
            throw CHOMError(
                .invalidInput,
                "storage credentials in a task are refused: agents reach object storage only through presigned URLs")
        case nil:
            throw CHOMError(.invalidInput, "the task names no backup destination")
        }
    }

    /// `BackupObjectKey.make` for this site.
    package static func objectKey(site: HostedSite, backupID: String, encrypted: Bool) -> String {
        BackupObjectKey.make(tenantID: site.tenantID, domain: site.domain, backupID: backupID, encrypted: encrypted)
    }
}
