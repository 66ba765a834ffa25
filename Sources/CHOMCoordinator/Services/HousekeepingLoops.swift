import CHOMCore
import CHOMStore
import Foundation
import Logging
import NIOCore

/// The upkeep that must run once per fleet, as leader loops: marking silent agents offline, the
/// failure detector's pass (`FailureDetection`),
/// signing the audit checkpoint that the age rule makes due (and exporting checkpoints), verifying
/// the whole audit chain (`audit.verify`, a gauge the alert rules read), and the
/// backup schedule, the close of billing periods that have ended, and the notifications outbox's delivery. Each write checks the leader's epoch in its transaction. A new leader loop
/// (rebalance, reconciliation, DNS upkeep, the migration runner) is one more element here.
struct HousekeepingLoops {
    let store: Store
    let configuration: CoordinatorConfiguration
    let backups: BackupScheduler
    let metrics: CoordinatorMetrics
    /// The leader's periodic verification of the audit chain.
    let auditCheck: AuditSelfCheck
    let clock: any WallClock
    let logger: Logger

    /// How often silent agents and due checkpoints are looked for: at least twice per offline grace.
    var upkeepInterval: Duration {
        let agents = configuration.agents
        return .seconds(max(0.2, min(agents.heartbeatIntervalSeconds, agents.offlineGraceSeconds / 2)))
    }

    var loops: [LeaderLoop] {
        // Appends what was signed since its last export, including while another replica led.
        let exporter = AuditCheckpointExporter(directory: configuration.audit.exportDirectory)
        let detection = FailureDetection(
            store: store, agents: configuration.agents, metrics: metrics, clock: clock, logger: logger)
        return [
            LeaderLoop(name: "agents.offline", interval: upkeepInterval) { [store, clock, configuration, logger] epoch in
                let cutoff = clock.now().addingTimeInterval(-configuration.agents.offlineGraceSeconds)
                let marked = try await store.markSilentAgentsOffline(before: cutoff, epoch: epoch)
                if marked > 0 { logger.info("silent agents marked offline", metadata: ["chom.agents": "\(marked)"]) }
            },
            LeaderLoop(name: "agents.health", interval: upkeepInterval) { [detection] epoch in
                try await detection.pass(epoch: epoch)
            },
            LeaderLoop(name: "audit.checkpoints", interval: upkeepInterval) { [store, clock, exporter] epoch in
                try await store.checkpointIfDue(now: clock.now(), epoch: epoch)
                try await exporter.export(store.audit)
            },
            LeaderLoop(name: "audit.verify", interval: .seconds(max(1, configuration.audit.verifyEveryMinutes * 60))) {
                [auditCheck, metrics, clock] _ in
                try await auditCheck.run(metrics: metrics, now: clock.now())
            },
            LeaderLoop(name: "billing.close", interval: .seconds(max(1, configuration.billing.closeIntervalSeconds))) {
                [store, configuration, clock, logger] epoch in
                try await BillingClose(
                    store: store, quotas: BillingQuotas(store: store, configuration: configuration.billing),
                    issuer: configuration.billing.issuer, logger: logger,
                    delay: configuration.billing.closeDelaySeconds
                ).tick(now: clock.now(), epoch: epoch)
            },
            LeaderLoop(name: "billing.dunning", interval: .seconds(max(1, configuration.billing.closeIntervalSeconds))) {
                [store, configuration, clock, logger, backups] epoch in
                try await BillingDunning(
                    store: store, quotas: BillingQuotas(store: store, configuration: configuration.billing),
                    tasks: backups.tasks, connections: backups.connections, grace: configuration.billing.graceDays * 86_400,
                    logger: logger
                ).tick(now: clock.now(), epoch: epoch)
            },
            LeaderLoop(name: "billing.stripe", interval: .seconds(max(1, configuration.billing.closeIntervalSeconds))) {
                [store, configuration, clock, logger, backups] _ in
                // Without a Stripe secret key (chom-coordinator stripe-configure), CHOM bills on its own.
                let box = SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false))
                guard let settings = try await StripeSettings.load(store: store, box: box), let key = settings.secretKey
                else { return }
                try await StripeSync(
                    store: store, processor: StripeProcessor(api: StripeAPI(base: settings.apiBase, secretKey: key)),
                    dunning: BillingDunning(
                        store: store, quotas: BillingQuotas(store: store, configuration: configuration.billing),
                        tasks: backups.tasks, connections: backups.connections,
                        grace: configuration.billing.graceDays * 86_400, logger: logger),
                    logger: logger
                ).tick(now: clock.now())
            },
            LeaderLoop(name: "notifications.deliver", interval: .seconds(configuration.notifications.deliveryIntervalSeconds)) {
                [store, configuration, clock, logger] _ in
                // Without SMTP configured, email waits in the outbox; webhooks go out regardless.
                let notifications = configuration.notifications
                let webhooks = !notifications.webhooks.enabled ? nil : WebhookDelivery(
                    channels: store.notificationChannels,
                    box: SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false)),
                    policy: WebhookAddressPolicy(
                        allowPrivateAddresses: notifications.webhooks.allowPrivateAddresses,
                        allowPlainHTTP: notifications.webhooks.allowPlainHTTP),
                    timeout: .milliseconds(Int64(notifications.webhooks.timeoutSeconds * 1000)))
                var delivery = NotificationDelivery(
                    store: store, sender: try notifications.smtp.map { SMTPClient(configuration: try $0.client()) },
                    from: notifications.smtp?.from ?? "", retry: notifications.retry, logger: logger, webhooks: webhooks)
                // The lease outlasts a whole batch's attempts, so no other leader takes them meanwhile.
                delivery.lease = max(
                    300, 2 * (notifications.smtp?.timeoutSeconds ?? 0) + 60,
                    Double(delivery.batch) * (notifications.webhooks.timeoutSeconds + 5))
                try await delivery.tick(now: { clock.now() })
            },
            LeaderLoop(name: "backups.schedule", interval: .seconds(max(1, configuration.backups.scheduleIntervalSeconds))) {
                [backups, clock] epoch in
                try await backups.tick(now: clock.now(), epoch: epoch)
            },
        ]
    }
}
