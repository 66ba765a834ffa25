import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Foundation
import Hummingbird

/// `PUT /v1/sites/{site}/config`: validate, store (the TLS key sealed), enqueue a configure task.
extension AdminAPI {
    func addSiteConfigRoutes(_ routes: RouteTable) {
        routes.on(.put, "/v1/sites/:site/config", .siteConfigure) { request, context, caller in
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .member)
            let body = try await StrictJSON.decode(SiteConfigRequest.self, allowed: SiteConfigRequest.fields, from: request)
            let spec = try Self.spec(from: body).validated(domain: target.site.domain)
            let tls = try tlsChange(body, site: target.site.id)
            var updated = target.site
            updated.spec = spec
            // The store raises the version with this change: the task carries the raised one.
            updated.configVersion += 1
            switch tls {
            case .keep: break
            case .remove: (updated.tlsCertificate, updated.tlsKeySealed) = (nil, nil)
            case .set(let certificate, let sealedKey): (updated.tlsCertificate, updated.tlsKeySealed) = (certificate, sealedKey)
            }
            let configured = updated
            let task = try siteTasks.task(.configure, site: configured, agent: target.agent) { message in
                var configure = Chom_Agent_V1_ConfigureSiteTask()
                configure.site = try siteTasks.siteConfig(configured)
                message.configure = configure
            }
            try await claiming(caller) { try await write(caller) { transaction in
                try await target.scoped.configure(
                    target.site, spec: spec, tls: tls, task: task, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "site.configure", target: "site:\(target.site.id)", organization: target.organization,
                    tenant: target.site.tenantID,
                    details: [
                        "kind": spec.kind.rawValue, "aliases": spec.aliases.joined(separator: ","),
                        "hooks": "\(spec.hooks.count)", "tls": Self.describe(tls), "task": task.id.description,
                    ]))
            } }
            await connections.wake(target.agent)
            guard let site = try await target.scoped.get(target.site.id), let record = try await target.scoped.task(task.id)
            else { throw CHOMError(.internal, "the configured site vanished") }
            return try StrictJSON.response(SiteTaskResponse(site: site.api, task: record.api))
        }
    }

    /// The request as a configuration (defaults filled in); `validated` checks it.
    static func spec(from body: SiteConfigRequest) throws -> SiteSettings {
        guard let kind = SiteSettings.Kind(rawValue: body.kind) else {
            throw CHOMError(.invalidInput, "site configuration: kind must be static, php or app")
        }
        return SiteSettings(
            kind: kind, aliases: body.aliases ?? [], appPort: body.appPort, appCommand: body.appCommand,
            sharedPaths: body.sharedPaths ?? [],
            hooks: (body.hooks ?? []).map {
                SiteSettings.Hook(name: $0.name, command: $0.command, timeoutSeconds: $0.timeoutSeconds ?? 600)
            },
            healthCheck: body.healthCheck.map {
                SiteSettings.HealthCheck(path: $0.path, expectedStatus: $0.expectedStatus ?? 200, timeoutMs: $0.timeoutMs ?? 5000)
            },
            publicDirectory: body.publicDirectory, keepReleases: body.keepReleases)
    }

    /// Both TLS fields: replace (checked, the key sealed); both empty: remove; neither: keep.
    private func tlsChange(_ body: SiteConfigRequest, site: SiteID) throws -> TLSChange {
        switch (body.tlsCertificate, body.tlsPrivateKey) {
        case (nil, nil):
            return .keep
        case ("", ""):
            return .remove
        case (let certificate?, let key?) where !certificate.isEmpty && !key.isEmpty:
            try TLSKeyPair.check(certificateChain: certificate, privateKey: key)
            return .set(certificate: certificate, sealedKey: siteTasks.sealTLSKey(key, site: site))
        default:
            throw CHOMError(
                .invalidInput, "give tlsCertificate and tlsPrivateKey together (both empty to remove the certificate)")
        }
    }

    private static func describe(_ tls: TLSChange) -> String {
        switch tls {
        case .keep: "kept"
        case .remove: "removed"
        case .set: "set"
        }
    }
}
