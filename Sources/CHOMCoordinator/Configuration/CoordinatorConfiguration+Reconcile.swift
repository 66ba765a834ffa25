import Foundation

extension CoordinatorConfiguration {
    /// Reconciliation of the agents' inventories with the placement (`InventoryReconciler`).
    package struct Reconcile: Sendable, Codable, Equatable {
        /// How long after a site was placed on another agent the copy its previous agent still holds
        /// is removed: the fleet name's DNS TTL (60 s) plus 30 s for resolvers that keep a record a
        /// little longer, so a client that still resolves the old address is served meanwhile.
        /// Never before the site's migration or restore involving that agent has finished.
        package var staleGraceSeconds = 90.0
        package init() {}
    }
}

extension CoordinatorConfiguration.Reconcile {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        staleGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .staleGraceSeconds) ?? staleGraceSeconds
    }
}
