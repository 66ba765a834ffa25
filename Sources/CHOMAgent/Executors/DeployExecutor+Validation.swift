import CHOMCore
import CHOMProtocol
import Foundation

extension DeployExecutor {
    /// Checks every field a path or a limit depends on; returns the release id in lowercase and
    /// the site as it is to be hosted.
    func validate(_ task: Chom_Agent_V1_DeployTask) throws(DeployFailure) -> (String, HostedSite) {
        guard DomainName.isValid(task.domain) else {
            throw DeployFailure(step: .validate, reason: "domain \"\(task.domain.prefix(64))\" is not a valid lowercase DNS name")
        }
        guard let uuid = UUID(uuidString: task.releaseID) else {
            throw DeployFailure(step: .validate, reason: "release id \"\(task.releaseID.prefix(64))\" is not a UUID")
        }
        let site: HostedSite
        if task.hasSite {
            do {
                site = try HostedSite(task.site)
            } catch {
                throw DeployFailure(step: .validate, reason: error.message)
            }
            guard site.domain == task.domain, site.siteID.description == task.siteID.lowercased() else {
                throw DeployFailure(step: .validate, reason: "the site configuration is for another site")
            }
        } else {
            guard let id = SiteID(task.siteID) else {
                throw DeployFailure(step: .validate, reason: "site id \"\(task.siteID.prefix(64))\" is not a UUID")
            }
            site = HostedSite(siteID: id, domain: task.domain)
        }
        if task.hasGit {
            guard GitCheckout.isAllowedURL(task.git.url) else {
                throw DeployFailure(step: .validate, reason: "git URL \"\(task.git.url.prefix(80))\" is not allowed")
            }
            guard GitCheckout.isAllowedRef(task.git.ref) else {
                throw DeployFailure(step: .validate, reason: "git ref \"\(task.git.ref.prefix(80))\" is not a valid ref")
            }
            return (uuid.uuidString.lowercased(), site)
        }
        let hex = task.artifactSha256
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw DeployFailure(step: .validate, reason: "artifact_sha256 must be 64 lowercase hex digits")
        }
        guard task.artifactSize > 0, task.artifactSize <= limits.maxArtifactBytes else {
            throw DeployFailure(
                step: .validate, reason: "artifact size \(task.artifactSize) is outside 1…\(limits.maxArtifactBytes) bytes")
        }
        guard task.artifactFormat == .tarZstd || task.artifactFormat == .tarGzip else {
            throw DeployFailure(step: .validate, reason: "artifact format must be tar.zst or tar.gz")
        }
        return (uuid.uuidString.lowercased(), site)
    }
}
