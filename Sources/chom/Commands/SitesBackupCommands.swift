import ArgumentParser
import CHOMAPI
import Foundation

/// `chom sites backups | backup | restore | verify-backup | backup-schedule`.
extension SitesCommand {
    struct Backups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a site's backups, newest first.",
            discussion: """
                Example:
                  chom sites backups example.com
                  chom sites backups example.com --output json
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String

        func run() async throws {
            let backups = try await global.client().backups(site: site)
            if global.json { return try Console.json(ListResponse(items: backups)) }
            let now = Date()
            var table = Table(headers: ["ID", "STATE", "CREATED", "SIZE", "FILES", "ENCRYPTED", "VERIFIED", "NOTE"])
            for backup in backups {
                table.append([
                    backup.id, backup.state, Format.relative(backup.createdAt, now: now),
                    backup.sizeBytes.map { Format.bytes($0) } ?? "-", backup.fileCount.map { "\($0)" } ?? "-",
                    backup.encrypted ? "yes" : "no", backup.verifiedAt.map { Format.relative($0, now: now) } ?? "-",
                    backup.deletedAt != nil ? "deleted" : Format.orDash(backup.message),
                ])
            }
            Console.table(table)
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back a site up now.",
            discussion: """
                The archive (files, and the site's database if it has one) goes to the coordinator's \
                backup destination, encrypted with the tenant's key unless --no-encrypt. Follows the task.

                Example:
                  chom sites backup example.com
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Flag(help: "Store the archive unencrypted.") var noEncrypt = false
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            let backup = try await client.createBackup(site: site, encrypt: !noEncrypt)
            if !global.json { Console.out("backup \(backup.id)") }
            guard let taskID = backup.taskId else { return try Console.json(backup) }
            try await follow.follow(try await client.task(id: taskID), client: client, global: global)
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup onto the site's agent, or another one (admins; --agent: operators).",
            discussion: """
                The restored files become a new release and go live; a removed site comes back. \
                Follows the task.

                Example:
                  chom sites restore example.com 7c1e…
                  chom sites restore example.com 7c1e… --agent 5d0b…
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Argument(help: "The backup's ID (see `chom sites backups`).") var backup: String
        @Option(help: ArgumentHelp("Restore onto this agent (ID or ID prefix).", valueName: "agent")) var agent: String?
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            var agentID: String?
            if let agent { agentID = try await client.resolveAgent(agent) }
            let task = try await client.restoreBackup(site: site, backup: backup, agentID: agentID)
            try await follow.follow(task, client: client, global: global)
        }
    }

    struct VerifyBackup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-backup",
            abstract: "Check that a backup can be read back (a restore drill that touches nothing live).",
            discussion: """
                The agent fetches the archive, checks its SHA-256, decrypts it and checks every file \
                against the manifest. The backup shows as verified when it passes.

                Example:
                  chom sites verify-backup example.com 7c1e…
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Argument(help: "The backup's ID.") var backup: String
        @OptionGroup var follow: FollowOptions

        func run() async throws {
            let client = try await global.client()
            try await follow.follow(try await client.verifyBackup(site: site, backup: backup), client: client, global: global)
        }
    }

    struct BackupSchedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup-schedule",
            abstract: "Show, set (admins) or remove a site's backup schedule.",
            discussion: """
                Without --every, shows the schedule. With it, backs the site up every N hours and, \
                after each backup, keeps the last --keep-last plus one per day, week and month for \
                --keep-daily, --keep-weekly and --keep-monthly (never deleting the newest verified \
                one). --every 0 removes the schedule.

                Example:
                  chom sites backup-schedule example.com --every 24 --keep-last 7 --keep-daily 7 \\
                      --keep-weekly 4 --keep-monthly 6
                  chom sites backup-schedule example.com
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Option(help: ArgumentHelp("Hours between backups (1-8760; 0 removes the schedule).", valueName: "hours"))
        var every: Int?
        @Option(help: ArgumentHelp("Keep the newest N (default 7).", valueName: "n")) var keepLast: Int?
        @Option(help: ArgumentHelp("Keep one a day for N days (default 7).", valueName: "n")) var keepDaily: Int?
        @Option(help: ArgumentHelp("Keep one a week for N weeks (default 4).", valueName: "n")) var keepWeekly: Int?
        @Option(help: ArgumentHelp("Keep one a month for N months (default 6).", valueName: "n")) var keepMonthly: Int?
        @Flag(help: "Store scheduled archives unencrypted.") var noEncrypt = false

        func run() async throws {
            let client = try await global.client()
            let schedule: BackupScheduleResponse
            if let every {
                schedule = try await client.setBackupSchedule(
                    site: site,
                    BackupScheduleRequest(
                        everyHours: every, keepLast: keepLast, keepDaily: keepDaily, keepWeekly: keepWeekly,
                        keepMonthly: keepMonthly, encrypt: !noEncrypt))
            } else {
                schedule = try await client.backupSchedule(site: site)
            }
            if global.json { return try Console.json(schedule) }
            guard schedule.enabled else { return Console.out("no backup schedule") }
            Console.table(.keyValue([
                ("Every", "\(schedule.everyHours) h"), ("Keep last", "\(schedule.keepLast)"),
                ("Keep daily", "\(schedule.keepDaily)"), ("Keep weekly", "\(schedule.keepWeekly)"),
                ("Keep monthly", "\(schedule.keepMonthly)"), ("Encrypted", schedule.encrypt ? "yes" : "no"),
                ("Next run", Format.timestamp(schedule.nextRunAt)),
            ]))
        }
    }
}
