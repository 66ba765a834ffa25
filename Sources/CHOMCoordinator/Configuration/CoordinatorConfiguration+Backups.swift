import CHOMCore
import Foundation

extension CoordinatorConfiguration {
    /// Where agents put site backups, and how often the coordinator looks for due schedules.
    package struct Backups: Sendable, Codable, Equatable {
        package struct Destination: Sendable, Codable, Equatable {
            /// A directory on each agent; used unless `s3` is set.
            package var path = "/var/backups/chom"
            package var s3: S3?
            package init() {}
        }

        /// An S3-compatible bucket. The secret comes from `CHOM_BACKUPS_S3_SECRET_ACCESS_KEY`, else
        /// `secretAccessKeyFile` (read when a task is built), else `secretAccessKey` inline.
        package struct S3: Sendable, Codable, Equatable {
            package var endpoint: String
            package var region: String
            package var bucket: String
            package var accessKeyId: String
            package var secretAccessKey: String?
            package var secretAccessKeyFile: String?
            package var prefix: String?
            /// `endpoint/bucket/key` (true, the default: MinIO, Ceph, moto) or `bucket.endpoint/key`.
            package var pathStyle: Bool?
            /// How long a URL presigned for an agent stays valid; 900 s when absent, at most 604,800.
            package var presignLifetimeSeconds: Int?
            package init(endpoint: String, region: String, bucket: String, accessKeyId: String) {
                self.endpoint = endpoint
                self.region = region
                self.bucket = bucket
                self.accessKeyId = accessKeyId
            }
        }

        package var destination = Destination()
        package var scheduleIntervalSeconds = 60.0
        package init() {}
    }
}

extension CoordinatorConfiguration.Backups {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        destination = try c.decodeIfPresent(Destination.self, forKey: .destination) ?? destination
        scheduleIntervalSeconds =
            try c.decodeIfPresent(Double.self, forKey: .scheduleIntervalSeconds) ?? scheduleIntervalSeconds
    }
}

extension CoordinatorConfiguration.Backups.Destination {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        s3 = try c.decodeIfPresent(CoordinatorConfiguration.Backups.S3.self, forKey: .s3)
    }
}

extension CoordinatorConfiguration.Backups.S3 {
    /// The secret access key from the environment, the file, or inline; nil when none is set.
    func resolvedSecret(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let value = environment["CHOM_BACKUPS_S3_SECRET_ACCESS_KEY"], !value.isEmpty { return value }
        if let file = secretAccessKeyFile {
            do {
                return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CHOMError(.configuration, "cannot read backups.destination.s3.secretAccessKeyFile \(file)")
            }
        }
        return secretAccessKey
    }
}
