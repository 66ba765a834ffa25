package import CHOMCore
import Foundation

/// The tenants a caller may reach. Tenant-scoped data (sites, releases, tasks) is read and
/// written only through `ScopedSiteRepository`, which cannot be built without one; its SQL
/// applies the scope in one place (`ScopedSiteRepository.scopeClause`).
package struct TenantScope: Sendable, Equatable {
    /// nil: every tenant (the fleet itself: platform operators, the agent gateway).
    package let tenantIDs: [TenantID]?

    /// Every tenant. For platform operators and the coordinator's own fleet work.
    package static let fleet = TenantScope(tenantIDs: nil)

    package init(tenants: some Sequence<TenantID>) {
        tenantIDs = Array(Set(tenants)).sorted { $0.uuid.uuidString < $1.uuid.uuidString }
    }

    private init(tenantIDs: [TenantID]?) {
        self.tenantIDs = tenantIDs
    }

    package func contains(_ tenant: TenantID) -> Bool {
        tenantIDs?.contains(tenant) ?? true
    }
}
