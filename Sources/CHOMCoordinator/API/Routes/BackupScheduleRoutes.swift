import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// A site's backup schedule: read it (viewers), set or remove it (admins).
extension AdminAPI {
    func addBackupScheduleRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/sites/:site/backup-schedule", .backupScheduleRead) { _, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            let schedule = try await store.backups(in: try caller.signedIn.scope(atLeast: .viewer)).schedule(site: site)
            return try StrictJSON.response(schedule?.api ?? BackupScheduleRecord.disabled(site.id))
        }
        routes.on(.put, "/v1/sites/:site/backup-schedule", .backupScheduleUpdate) { request, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .admin)
            let body = try await StrictJSON.decode(
                BackupScheduleRequest.self, allowed: BackupScheduleRequest.fields, from: request)
            let backups = store.backups(in: try caller.signedIn.scope(atLeast: .admin))
            let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
            guard body.everyHours != 0 else {
                try await write(caller) { transaction in
                    try await backups.removeSchedule(site: site, in: transaction)
                    try await transaction.record(caller.audit(
                        "backup.schedule.remove", target: "site:\(site.id)", organization: organization,
                        tenant: site.tenantID))
                }
                return try StrictJSON.response(BackupScheduleRecord.disabled(site.id))
            }
            let policy = try BackupPolicy(
                everyHours: body.everyHours, keepLast: body.keepLast ?? 7, keepDaily: body.keepDaily ?? 7,
                keepWeekly: body.keepWeekly ?? 4, keepMonthly: body.keepMonthly ?? 6, encrypt: body.encrypt ?? true)
            let schedule = try await write(caller) { transaction in
                let schedule = try await backups.setSchedule(
                    site: site, policy: policy, nextRunAt: caller.now.addingTimeInterval(Double(policy.everyHours) * 3600),
                    now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "backup.schedule.set", target: "site:\(site.id)", organization: organization, tenant: site.tenantID,
                    details: [
                        "every_hours": "\(policy.everyHours)", "keep_last": "\(policy.keepLast)",
                        "keep_daily": "\(policy.keepDaily)", "keep_weekly": "\(policy.keepWeekly)",
                        "keep_monthly": "\(policy.keepMonthly)", "encrypt": "\(policy.encrypt)",
                    ]))
                return schedule
            }
            return try StrictJSON.response(schedule.api)
        }
    }
}
