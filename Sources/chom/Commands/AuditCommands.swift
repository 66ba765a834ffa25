import ArgumentParser
import CHOMAPI
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the tamper-evident audit log, verify its hash chain, export its checkpoints.",
        discussion: """
            Every change made through the API is an audit entry; each entry's hash covers the one \
            before it, and the coordinator signs checkpoints of the chain. Organization admins see \
            their organization's entries; platform operators see all, and verify and export.

            Example:
              chom audit list --since 24h --action site.create
              chom audit checkpoints --output-file checkpoints.jsonl
              chom audit verify --checkpoints checkpoints.jsonl
            """,
        subcommands: [List.self, Verify.self, Checkpoints.self]
    )
}

extension AuditCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List audit entries, filtered by action, actor and time.",
            discussion: """
                --since and --until take an ISO-8601 time (2026-11-26T19:30:00Z), a date \
                (2026-11-26) or a duration meaning that long ago (90m, 24h, 7d). Without --all, one \
                page is shown (--limit entries, 1 to 200; the coordinator's default otherwise) and a \
                note says when there are more; --cursor continues from a page's nextCursor.

                Example:
                  chom audit list --actor alice@acme.example --since 7d --all
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Only entries with this action, e.g. site.create.", valueName: "action"))
        var action: String?

        @Option(help: ArgumentHelp("Only entries by this actor.", valueName: "actor"))
        var actor: String?

        @Option(help: ArgumentHelp("Only entries at or after this time.", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only entries before this time.", valueName: "time"))
        var until: String?

        @Option(help: ArgumentHelp("Entries per page (1 to 200).", valueName: "n"))
        var limit: Int?

        @Option(help: ArgumentHelp("Continue from this nextCursor.", valueName: "cursor"))
        var cursor: String?

        @Flag(help: "Fetch every page.")
        var all = false

        func validate() throws {
            if let limit, !(1...AdminClient.pageSizeForAll).contains(limit) {
                throw ValidationError("--limit must be 1 to \(AdminClient.pageSizeForAll)")
            }
            if all, limit != nil || cursor != nil { throw ValidationError("--all fetches every page: drop --limit and --cursor") }
            for (name, text) in [("--since", since), ("--until", until)] {
                if let text, TimestampText.dateOrAgo(text, now: Date()) == nil {
                    throw ValidationError("\(name) '\(text)' is not an ISO-8601 time, a date or a duration such as 24h")
                }
            }
        }

        func run() async throws {
            let now = Date()
            let filter = AuditFilter(
                action: action, actor: actor, since: since.flatMap { TimestampText.dateOrAgo($0, now: now) },
                until: until.flatMap { TimestampText.dateOrAgo($0, now: now) })
            let client = try await global.client()
            let page: ListResponse<AuditEntryResponse>
            if all {
                page = ListResponse(items: try await client.allAuditEntries(filter))
            } else {
                page = try await client.auditEntries(filter, cursor: cursor, limit: limit)
            }
            if global.json { return try Console.json(page) }
            var table = Table(headers: ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "SOURCE"])
            for entry in page.items {
                table.append([
                    "\(entry.sequence)", entry.time.formatted(.iso8601), entry.actor, entry.action, entry.target,
                    entry.sourceAddress,
                ])
            }
            Console.table(table)
            if let next = page.nextCursor {
                Console.error("chom: more entries: --all for every page, or --cursor \(next) for the next one")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the audit chain, and against exported checkpoints (operators).",
            discussion: """
                Recomputes every entry's hash and link. With --checkpoints, also checks the chain \
                against checkpoints kept elsewhere: a JSON-lines file exactly as `chom audit \
                checkpoints` exports it (each checkpoint's signature and the chain at its sequence). \
                Prints "intact: …" and exits 0, or "BROKEN at #sequence: reason — detail" and exits 1.

                Example:
                  chom audit verify --checkpoints checkpoints.jsonl
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("A JSON-lines checkpoint file, as exported.", valueName: "file"))
        var checkpoints: String?

        func run() async throws {
            var exported: String?
            if let checkpoints {
                guard let data = FileManager.default.contents(atPath: checkpoints) else {
                    throw CLIError("cannot read \(checkpoints)")
                }
                guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(checkpoints) is not UTF-8 text") }
                exported = text
            }
            let result = try await global.client().auditVerify(checkpoints: exported)
            if global.json {
                try Console.json(result)
            } else {
                Console.out(Self.summary(result))
            }
            if !result.intact { throw ExitCode.failure }
        }

        static func summary(_ result: AuditVerifyResponse) -> String {
            if result.intact {
                let entries = result.entries == 1 ? "1 entry" : "\(result.entries) entries"
                let checked = result.checkpointsChecked == 1 ? "1 checkpoint" : "\(result.checkpointsChecked) checkpoints"
                return "intact: \(entries), head #\(result.headSequence) \(result.headHash), \(checked) checked"
            }
            let at = result.firstBrokenSequence.map { "#\($0)" } ?? "an unknown entry"
            let reason = result.reason ?? "unknown"
            let detail = result.detail.flatMap { $0.isEmpty ? nil : " — \($0)" } ?? ""
            return "BROKEN at \(at): \(reason)\(detail)"
        }
    }

    struct Checkpoints: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the signed checkpoints as JSON lines (operators).",
            discussion: """
                Writes the checkpoints to --output-file (replaced atomically), or to stdout. Keep \
                the file somewhere the coordinator cannot change, and check the log against it \
                later with `chom audit verify --checkpoints FILE`.

                Example:
                  chom audit checkpoints --output-file checkpoints-$(date +%F).jsonl
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Write the checkpoints to this file instead of stdout.", valueName: "file"))
        var outputFile: String?

        func run() async throws {
            let text = try await global.client().auditCheckpoints()
            guard let outputFile else {
                FileHandle.standardOutput.write(Data(text.utf8))
                if !text.isEmpty, !text.hasSuffix("\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
                return
            }
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: outputFile), options: .atomic)
            } catch {
                throw CLIError("cannot write \(outputFile): \(error.localizedDescription)")
            }
            let count = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }.count
            if !global.json { Console.out("wrote \(count) checkpoint\(count == 1 ? "" : "s") to \(outputFile)") }
        }
    }
}
