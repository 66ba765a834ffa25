package import Foundation

/// `PUT /v1/sites/{site}/config`: the whole configuration. Fields left out take their defaults,
/// except TLS: both `tlsCertificate` and `tlsPrivateKey` replace it, both empty ("") remove it,
/// neither keeps what is stored.
package struct SiteConfigRequest: Codable, Sendable, Equatable {
    package var kind: String
    package var aliases: [String]?
    package var appPort: Int?
    package var appCommand: String?
    package var sharedPaths: [String]?
    package var hooks: [BuildHookBody]?
    package var healthCheck: HealthCheckBody?
    package var publicDirectory: String?
    package var keepReleases: Int?
    package var tlsCertificate: String?
    package var tlsPrivateKey: String?

    package static let fields: Set<String> = [
        "kind", "aliases", "appPort", "appCommand", "sharedPaths", "hooks", "healthCheck", "publicDirectory",
        "keepReleases", "tlsCertificate", "tlsPrivateKey",
    ]

    package init(
        kind: String, aliases: [String]? = nil, appPort: Int? = nil, appCommand: String? = nil,
        sharedPaths: [String]? = nil, hooks: [BuildHookBody]? = nil, healthCheck: HealthCheckBody? = nil,
        publicDirectory: String? = nil, keepReleases: Int? = nil, tlsCertificate: String? = nil,
        tlsPrivateKey: String? = nil
    ) {
        self.kind = kind
        self.aliases = aliases
        self.appPort = appPort
        self.appCommand = appCommand
        self.sharedPaths = sharedPaths
        self.hooks = hooks
        self.healthCheck = healthCheck
        self.publicDirectory = publicDirectory
        self.keepReleases = keepReleases
        self.tlsCertificate = tlsCertificate
        self.tlsPrivateKey = tlsPrivateKey
    }
}

package struct BuildHookBody: Codable, Sendable, Equatable {
    package var name: String
    package var command: String
    package var timeoutSeconds: Int?
    package init(name: String, command: String, timeoutSeconds: Int? = nil) {
        self.name = name
        self.command = command
        self.timeoutSeconds = timeoutSeconds
    }
}

package struct HealthCheckBody: Codable, Sendable, Equatable {
    package var path: String
    package var expectedStatus: Int?
    package var timeoutMs: Int?
    package init(path: String, expectedStatus: Int? = nil, timeoutMs: Int? = nil) {
        self.path = path
        self.expectedStatus = expectedStatus
        self.timeoutMs = timeoutMs
    }
}

/// A site's configuration as answers show it: the certificate chain, never the private key.
package struct SiteConfigResponse: Codable, Sendable, Equatable {
    package var aliases: [String]
    package var appPort: Int?
    package var appCommand: String?
    package var sharedPaths: [String]
    package var hooks: [BuildHookBody]
    package var healthCheck: HealthCheckBody?
    package var publicDirectory: String?
    package var keepReleases: Int?
    package var tlsCertificate: String?
    package init(
        aliases: [String] = [], appPort: Int? = nil, appCommand: String? = nil, sharedPaths: [String] = [],
        hooks: [BuildHookBody] = [], healthCheck: HealthCheckBody? = nil, publicDirectory: String? = nil,
        keepReleases: Int? = nil, tlsCertificate: String? = nil
    ) {
        self.aliases = aliases
        self.appPort = appPort
        self.appCommand = appCommand
        self.sharedPaths = sharedPaths
        self.hooks = hooks
        self.healthCheck = healthCheck
        self.publicDirectory = publicDirectory
        self.keepReleases = keepReleases
        self.tlsCertificate = tlsCertificate
    }
}

/// The answer to a configuration change: the stored site and the queued configure task.
package struct SiteTaskResponse: Codable, Sendable, Equatable {
    package var site: SiteResponse
    package var task: TaskResponse
    package init(site: SiteResponse, task: TaskResponse) {
        self.site = site
        self.task = task
    }
}

/// `POST /v1/sites/{site}/rollback`: back to `releaseId`, or (without it) the previous release.
package struct RollbackRequest: Codable, Sendable, Equatable {
    package var releaseId: String?
    package static let fields: Set<String> = ["releaseId"]
    package init(releaseId: String? = nil) { self.releaseId = releaseId }
}
