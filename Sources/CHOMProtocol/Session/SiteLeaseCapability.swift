/// The site lease (Protocol/README.md, "Failure detection, failover and fencing"): an agent that
/// hosts sites announces `site_lease_v1` in `Hello.capabilities` when it keeps the lease the
/// coordinator grants in every `HeartbeatAnswer` and fences its sites (503) once the lease runs out.
/// The coordinator never fails over a site of an agent that did not announce it: cut off, such an
/// agent would go on serving its copy while the restored one took writes.
package enum SiteLeaseCapability {
    package static let name = "site_lease_v1"
}
