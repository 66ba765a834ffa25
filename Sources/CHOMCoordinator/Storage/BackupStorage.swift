import CHOMBackup
import CHOMCore
import CHOMProtocol
import Foundation
import Logging

/// The fleet's backup destination as the coordinator sees it. With object storage, the coordinator
/// alone holds the credentials: it presigns each agent request for one task's object and does the
/// retention deletes itself. Agents get a `PresignedObject` in their tasks, never a key.
struct BackupStorage: Sendable {
    let configuration: CoordinatorConfiguration.Backups
    let logger: Logger

    /// A presigned URL lives this long unless configured (`backups.destination.s3.presignLifetimeSeconds`).
    static let defaultPresignLifetime = 900
    static let defaultPartSize = 16 * 1024 * 1024

    var isObjectStorage: Bool { configuration.destination.s3 != nil }

    var presignLifetimeSeconds: Int {
        configuration.destination.s3?.presignLifetimeSeconds ?? Self.defaultPresignLifetime
    }

    /// The bucket with the coordinator's credentials (the secret read now, from the environment,
    /// the file or inline); nil for a local-directory destination.
    func target() throws -> S3Target? {
        guard let s3 = configuration.destination.s3 else { return nil }
        guard let endpoint = URL(string: s3.endpoint) else {
            throw CHOMError(.configuration, "backups.destination.s3.endpoint is not a URL")
        }
        let configuration = S3Target.Configuration(
            endpoint: endpoint, region: s3.region.isEmpty ? "us-east-1" : s3.region, bucket: s3.bucket,
            pathStyle: s3.pathStyle ?? true,
            credentials: .init(accessKeyID: s3.accessKeyId, secretAccessKey: try s3.resolvedSecret() ?? ""),
            keyPrefix: s3.prefix ?? "")
        return try S3Target(configuration: configuration, logger: logger)
    }

    /// Where a task's archive goes or comes from: `objectKey` through presigned URLs, or the
    /// agent's local directory (where the agent derives the same key).
    func destination(objectKey: String) -> Chom_Agent_V1_BackupDestination {
        var destination = Chom_Agent_V1_BackupDestination()
        if isObjectStorage {
            var object = Chom_Agent_V1_PresignedObject()
            object.objectKey = objectKey
            object.multipartThreshold = UInt64(Self.defaultPartSize)
            object.partSize = UInt64(Self.defaultPartSize)
            destination.presigned = object
        } else {
            var local = Chom_Agent_V1_LocalDirectory()
            local.path = configuration.destination.path
            destination.local = local
        }
        return destination
    }

    /// Signs `operation` on `objectKey` for `lifetime` from `now`.
    func presign(_ operation: PresignedOperation, objectKey: String, now: Date) throws -> [PresignedHTTPRequest] {
        guard let target = try target() else {
            throw CHOMError(.conflict, "this fleet keeps backups in local directories: nothing to presign")
        }
        return try target.presign(operation, key: objectKey, lifetimeSeconds: presignLifetimeSeconds, now: now)
    }
}
