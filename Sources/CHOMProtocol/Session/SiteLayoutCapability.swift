/// The site-tree layout an agent keeps (SECURITY.md): an agent announces `site_layout_v2` in
/// `Hello.capabilities` when it keeps the hostile-tenant layout (root-owned skeleton, logs outside
/// the tree, `disable_symlinks`) and converges an older tree on the site's next configure. The
/// coordinator answers an agent's first such hello with a configure task for each of its sites, so
/// an upgraded agent converges every tree at once instead of site by site as tasks happen by.
package enum SiteLayoutCapability {
    package static let name = "site_layout_v2"
    package static let version = 2
}
