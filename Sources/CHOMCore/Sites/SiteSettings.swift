/// How a site is hosted, as its tenant configures it (`PUT /v1/sites/{site}/config`): the kind,
/// extra names, the app process, shared paths, build hooks, the health check, the public
/// directory and how many releases to keep. Stored as JSON beside the site; the TLS key is not
/// part of it (it is sealed apart and never leaves the coordinator except inside a task).
package struct SiteSettings: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case `static`, php, app
    }

    /// A command run by /bin/sh as the site's user in a new release, before it goes live.
    package struct Hook: Sendable, Equatable, Codable {
        package var name: String
        package var command: String
        package var timeoutSeconds: Int

        package init(name: String, command: String, timeoutSeconds: Int) {
            self.name = name
            self.command = command
            self.timeoutSeconds = timeoutSeconds
        }
    }

    package struct HealthCheck: Sendable, Equatable, Codable {
        package var path: String
        package var expectedStatus: Int
        package var timeoutMs: Int

        package init(path: String, expectedStatus: Int = 200, timeoutMs: Int = 5000) {
            self.path = path
            self.expectedStatus = expectedStatus
            self.timeoutMs = timeoutMs
        }
    }

    package var kind: Kind
    package var aliases: [String]
    package var appPort: Int?
    package var appCommand: String?
    package var sharedPaths: [String]
    package var hooks: [Hook]
    package var healthCheck: HealthCheck?
    package var publicDirectory: String?
    package var keepReleases: Int?

    package init(
        kind: Kind = .static, aliases: [String] = [], appPort: Int? = nil, appCommand: String? = nil,
        sharedPaths: [String] = [], hooks: [Hook] = [], healthCheck: HealthCheck? = nil,
        publicDirectory: String? = nil, keepReleases: Int? = nil
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
    }

    /// Every key optional, so that `{}` (a site never configured) is the default static site.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            kind: try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .static,
            aliases: try c.decodeIfPresent([String].self, forKey: .aliases) ?? [],
            appPort: try c.decodeIfPresent(Int.self, forKey: .appPort),
            appCommand: try c.decodeIfPresent(String.self, forKey: .appCommand),
            sharedPaths: try c.decodeIfPresent([String].self, forKey: .sharedPaths) ?? [],
            hooks: try c.decodeIfPresent([Hook].self, forKey: .hooks) ?? [],
            healthCheck: try c.decodeIfPresent(HealthCheck.self, forKey: .healthCheck),
            publicDirectory: try c.decodeIfPresent(String.self, forKey: .publicDirectory),
            keepReleases: try c.decodeIfPresent(Int.self, forKey: .keepReleases))
    }
}
