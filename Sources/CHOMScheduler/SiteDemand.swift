package import CHOMCore

/// A site to place: who owns it, how it is hosted, what it requests and where it may run.
package struct SiteDemand: Sendable, Hashable {
    package var siteID: SiteID
    package var tenantID: TenantID
    package var kind: SiteSettings.Kind
    package var requests: Resources
    package var constraints: [LabelConstraint]

    package init(
        siteID: SiteID, tenantID: TenantID, kind: SiteSettings.Kind, requests: Resources,
        constraints: [LabelConstraint] = []
    ) {
        self.siteID = siteID
        self.tenantID = tenantID
        self.kind = kind
        self.requests = requests
        self.constraints = constraints
    }
}

/// What a site requests when it says nothing itself: a default per kind, each dimension
/// overridable per site. Every site requests one site slot.
package struct SiteRequestDefaults: Sendable, Hashable, Codable {
    /// nginx serving files: a tenth of a core, 64 MiB, 1 GiB of disk.
    package var `static`: Resources
    /// php-fpm pool: half a core, 256 MiB, 5 GiB.
    package var php: Resources
    /// An app process behind nginx: half a core, 512 MiB, 5 GiB.
    package var app: Resources

    package init(
        static: Resources = Resources(cpuMillis: 100, memoryBytes: 64 << 20, diskBytes: 1 << 30, sites: 1),
        php: Resources = Resources(cpuMillis: 500, memoryBytes: 256 << 20, diskBytes: 5 << 30, sites: 1),
        app: Resources = Resources(cpuMillis: 500, memoryBytes: 512 << 20, diskBytes: 5 << 30, sites: 1)
    ) {
        self.static = `static`
        self.php = php
        self.app = app
    }

    package func requests(for kind: SiteSettings.Kind, override: PartialResources? = nil) -> Resources {
        var requests: Resources
        switch kind {
        case .static: requests = self.static
        case .php: requests = php
        case .app: requests = app
        }
        if let cpu = override?.cpuMillis { requests.cpuMillis = cpu }
        if let memory = override?.memoryBytes { requests.memoryBytes = memory }
        if let disk = override?.diskBytes { requests.diskBytes = disk }
        requests.sites = 1
        return requests
    }
}
