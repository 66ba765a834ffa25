#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// `chom-bench backup [--size-mb 1024] [--dir /var/tmp/chom-bench] [--keep-tree] [--rounds 2]`
///
/// Backs up and restores one generated tree (`BenchTree`) with CHOM (`BackupWriter`,
/// `BackupReader`, each in a child `backup-worker` process), with `tar | zstd -3` and with
/// `restic`, and prints wall time, throughput, peak RSS and archive size, with CHOM's ratios
/// against the peers measured in the same run. Every measurement is a fresh child process after
/// `sync()` (earlier writes are on disk), its peak RSS read by `/usr/bin/time` (see `ChildRun`). The
/// tools alternate within a round (the order reversed in even rounds); the table shows the best
/// time and the largest peak RSS over the rounds. Figures, not assertions.
enum BackupBench {
    struct Configuration {
        var sizeMB = 1024
        var directory = URL(fileURLWithPath: "/var/tmp/chom-bench")
        var keepTree = false
        var rounds = 2
    }

    /// One row of the table.
    struct Row: Hashable {
        var tool: String
        var operation: String
    }

    struct Figures {
        var best: Duration?
        var times: [Duration] = []
        var peakRSSKiB: [Int] = []
        var archiveBytes: UInt64?

        mutating func add(_ run: ChildRun) {
            best = best.map { min($0, run.wall) } ?? run.wall
            times.append(run.wall)
            if peakRSSKiB.isEmpty { peakRSSKiB = run.peakRSSKiB }
            peakRSSKiB = zip(peakRSSKiB, run.peakRSSKiB).map { max($0, $1) }
        }

        var maxRSSKiB: Int { peakRSSKiB.max() ?? 0 }
    }

    static let chomBackup = Row(tool: "CHOM", operation: "backup")
    static let peerBackup = Row(tool: "tar | zstd -3", operation: "backup")
    static let resticBackup = Row(tool: "restic", operation: "backup")
    static let chomEncryptedBackup = Row(tool: "CHOM + AES-GCM", operation: "backup")
    static let chomRestore = Row(tool: "CHOM", operation: "restore")
    static let peerRestore = Row(tool: "zstd -d | tar", operation: "restore")
    static let resticRestore = Row(tool: "restic", operation: "restore")
    static let chomEncryptedRestore = Row(tool: "CHOM + AES-GCM", operation: "restore")
    static let order = [
        chomBackup, peerBackup, resticBackup, chomEncryptedBackup,
        chomRestore, peerRestore, resticRestore, chomEncryptedRestore,
    ]

    static let resticPassword = "chom-bench-password"

    static func main(_ arguments: [String]) throws {
        var options = Options(arguments)
        var configuration = Configuration()
        if let size = try options.optionalValue("--size-mb") {
            guard let value = Int(size), value >= 16 else { throw ChildFailure(description: "--size-mb: at least 16") }
            configuration.sizeMB = value
        }
        if let directory = try options.optionalValue("--dir") { configuration.directory = URL(fileURLWithPath: directory) }
        if let rounds = try options.optionalValue("--rounds") {
            guard let value = Int(rounds), value >= 1 else { throw ChildFailure(description: "--rounds: at least 1") }
            configuration.rounds = value
        }
        configuration.keepTree = options.flag("--keep-tree")
        try options.finish()
        try run(configuration)
    }

    static func run(_ configuration: Configuration) throws {
        for tool in ["tar", "zstd"] where ChildProcess.which(tool) == nil {
            throw ChildFailure(description: "\(tool) is not on PATH")
        }
        guard access(ChildProcess.timeProgram, X_OK) == 0 else {
            throw ChildFailure(description: "\(ChildProcess.timeProgram) is missing (apt-get install -y time)")
        }
        let restic = ChildProcess.which("restic")
        let base = configuration.directory
        let work = base.appendingPathComponent("run")
        let logs = base.appendingPathComponent("logs")
        try? FileManager.default.removeItem(at: work)
        try? FileManager.default.removeItem(at: logs)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)

        // The tree, generated once and reused while its marker matches.
        let tree = BenchTree(root: base.appendingPathComponent("tree-\(configuration.sizeMB)mb"), sizeMB: configuration.sizeMB)
        let stats: BenchTree.Stats
        if let existing = tree.existing() {
            stats = existing
            print("tree: reusing \(tree.root.path)")
        } else {
            print("tree: generating \(tree.root.path) …")
            let start = ContinuousClock.now
            stats = try tree.generate()
            print("tree: generated in \(format(seconds(ContinuousClock.now - start), 1)) s")
        }
        let treeBytes = Double(stats.bytes)
        print(
            "tree: \(stats.files) files (\(format(treeBytes / 1e6, 1)) MB), \(stats.directories) directories, "
                + "\(stats.symlinks) symlinks")
        print("machine: \(machine())")
        print("tools: \(versionLine(["tar", "--version"], logs)); \(versionLine(["zstd", "--version"], logs)); "
            + (restic.map { _ in versionLine(["restic", "version"], logs) } ?? "restic: not installed (apt-get install -y restic), rows skipped"))

        let worker = ChildProcess.selfExecutable()
        var figures: [Row: Figures] = [:]
        var identical: [Row: String] = [:]
        let resticEnvironment = [
            "RESTIC_PASSWORD": resticPassword,
            "RESTIC_REPOSITORY": work.appendingPathComponent("restic-repo").path,
            "RESTIC_CACHE_DIR": work.appendingPathComponent("restic-cache").path,
        ]

        for round in 1...configuration.rounds {
            print("round \(round) of \(configuration.rounds) …")
            func log(_ row: Row) -> String {
                let name = "\(row.tool)-\(row.operation)-r\(round)".lowercased()
                    .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
                return logs.appendingPathComponent(String(name) + ".log").path
            }
            let chomArchive = work.appendingPathComponent("chom.tar.zst").path
            let chomEncrypted = work.appendingPathComponent("chom-aes.tar.zst.enc").path
            let peerArchive = work.appendingPathComponent("peer.tar.zst").path
            let repository = resticEnvironment["RESTIC_REPOSITORY"]!
            var backups: [(Row, [Command], String?)] = [
                (chomBackup, [Command(argv: [worker, "backup-worker", "write", "--tree", tree.root.path, "--out", chomArchive], log: log(chomBackup))], chomArchive),
                (peerBackup, [
                    Command(argv: ["tar", "-cf", "-", "-C", tree.root.path, "."], log: log(peerBackup)),
                    Command(argv: ["zstd", "-3", "-q", "-o", peerArchive], log: log(peerBackup)),
                ], peerArchive),
                (chomEncryptedBackup, [Command(argv: [worker, "backup-worker", "write", "--tree", tree.root.path, "--out", chomEncrypted, "--encrypt"], log: log(chomEncryptedBackup))], chomEncrypted),
            ]
            if restic != nil {
                backups.insert(
                    (resticBackup, [Command(argv: ["restic", "backup", tree.root.path], environment: resticEnvironment, log: log(resticBackup))], repository),
                    at: 2)
                _ = try ChildProcess.run([Command(argv: ["restic", "init"], environment: resticEnvironment, log: log(resticBackup))])
            }
            for (row, commands, output) in round % 2 == 0 ? backups.reversed() : backups {
                sync()
                let run = try ChildProcess.run(commands)
                figures[row, default: Figures()].add(run)
                if let output { figures[row]!.archiveBytes = try byteCount(output) }
            }

            // Each tool restores into a directory of its own, and the restored trees are removed only
            // after the round: on this VM's disk (ext4 mounted with online discard) removing a 537 MB
            // tree right before a timed restore made that restore up to 4× slower, whichever tool it was.
            func restoreRoot(_ row: Row) -> URL {
                work.appendingPathComponent("restored-" + String(row.tool.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }))
            }
            func into(_ row: Row) -> String { restoreRoot(row).path }
            var restores: [(Row, [Command], String)] = [
                (chomRestore, [Command(argv: [worker, "backup-worker", "read", "--archive", chomArchive, "--into", into(chomRestore)], log: log(chomRestore))],
                    restoreRoot(chomRestore).appendingPathComponent(BackupWorker.sourcePrefix).path),
                (peerRestore, [
                    Command(argv: ["zstd", "-d", "-c", peerArchive], log: log(peerRestore)),
                    Command(argv: ["tar", "-xf", "-", "-C", into(peerRestore)], log: log(peerRestore)),
                ], into(peerRestore)),
                (chomEncryptedRestore, [Command(argv: [worker, "backup-worker", "read", "--archive", chomEncrypted, "--into", into(chomEncryptedRestore), "--encrypt"], log: log(chomEncryptedRestore))],
                    restoreRoot(chomEncryptedRestore).appendingPathComponent(BackupWorker.sourcePrefix).path),
            ]
            if restic != nil {
                restores.insert(
                    (resticRestore, [Command(argv: ["restic", "restore", "latest", "--target", into(resticRestore)], environment: resticEnvironment, log: log(resticRestore))],
                        into(resticRestore) + tree.root.path),
                    at: 2)
            }
            for (row, commands, restoredTree) in round % 2 == 0 ? restores.reversed() : restores {
                if row == peerRestore { try FileManager.default.createDirectory(at: restoreRoot(row), withIntermediateDirectories: true) }
                sync()
                let run = try ChildProcess.run(commands)
                figures[row, default: Figures()].add(run)
                if round == 1 {
                    identical[row] = TreeComparison.firstDifference(tree.root.path, restoredTree).map { "NO: \($0)" } ?? "yes"
                }
            }
            for (row, _, _) in restores { try? FileManager.default.removeItem(at: restoreRoot(row)) }
            for path in [chomArchive, chomEncrypted, peerArchive] {
                unlink(path)
                unlink(path + BackupWorker.summarySuffix)
            }
            try? FileManager.default.removeItem(atPath: repository)
            try? FileManager.default.removeItem(atPath: resticEnvironment["RESTIC_CACHE_DIR"]!)
        }

        report(figures, identical: identical, treeBytes: treeBytes, rounds: configuration.rounds)
        print("load average at the end: \(loadAverage()) (the machine's other work shows in the spread of the rounds)")

        try? FileManager.default.removeItem(at: work)
        if !configuration.keepTree {
            try? FileManager.default.removeItem(at: tree.root)
            try? FileManager.default.removeItem(at: tree.marker)
            print("tree removed (--keep-tree keeps it for the next run)")
        }
    }

    static func report(_ figures: [Row: Figures], identical: [Row: String], treeBytes: Double, rounds: Int) {
        print("")
        print("best of \(rounds) rounds (time: minimum; peak RSS: maximum); MB = 10^6 bytes; tree = \(format(treeBytes / 1e6, 1)) MB")
        let header = [pad("tool", 16), pad("operation", 10), lpad("time s", 8), lpad("MB/s", 8), lpad("peak RSS MB", 12), lpad("archive MB", 11), "  " + pad("every round s", 22), "restored tree identical"]
        print(header.joined(separator: " "))
        for row in order {
            guard let figure = figures[row], let best = figure.best else { continue }
            let time = seconds(best)
            let archive = figure.archiveBytes.map { format(Double($0) / 1e6, 1) } ?? "-"
            print([
                pad(row.tool, 16), pad(row.operation, 10), lpad(format(time, 2), 8), lpad(format(treeBytes / 1e6 / time, 1), 8),
                lpad(format(rssMB(figure.maxRSSKiB), 1), 12), lpad(archive, 11),
                "  " + pad(figure.times.map { format(seconds($0), 1) }.joined(separator: " "), 22) + (identical[row] ?? ""),
            ].joined(separator: " "))
        }
        if let peer = figures[peerBackup], peer.peakRSSKiB.count == 2 {
            print("tar | zstd peak RSS per process: tar \(format(rssMB(peer.peakRSSKiB[0]), 1)) MB, zstd \(format(rssMB(peer.peakRSSKiB[1]), 1)) MB (the row shows the larger)")
        }
        if let peer = figures[peerRestore], peer.peakRSSKiB.count == 2 {
            print("zstd -d | tar peak RSS per process: zstd \(format(rssMB(peer.peakRSSKiB[0]), 1)) MB, tar \(format(rssMB(peer.peakRSSKiB[1]), 1)) MB (the row shows the larger)")
        }

        print("")
        print("ratios (CHOM / peer, same run; < 1 means CHOM is faster / smaller)")
        func ratio(_ label: String, _ a: Row, _ b: Row) {
            guard let x = figures[a], let y = figures[b], let tx = x.best, let ty = y.best else { return }
            var parts = [
                "time \(format(seconds(tx) / seconds(ty), 2))",
                "peak RSS \(format(Double(x.maxRSSKiB) / Double(max(y.maxRSSKiB, 1)), 2))",
            ]
            if let ax = x.archiveBytes, let ay = y.archiveBytes {
                parts.append("archive size \(format(Double(ax) / Double(ay), 2))")
            }
            print("  \(pad(label, 40)) \(parts.joined(separator: ", "))")
        }
        ratio("CHOM backup / tar | zstd -3", chomBackup, peerBackup)
        ratio("CHOM backup / restic backup", chomBackup, resticBackup)
        ratio("CHOM + AES-GCM backup / restic backup", chomEncryptedBackup, resticBackup)
        ratio("CHOM restore / zstd -d | tar", chomRestore, peerRestore)
        ratio("CHOM restore / restic restore", chomRestore, resticRestore)
        ratio("CHOM + AES-GCM restore / restic restore", chomEncryptedRestore, resticRestore)
        ratio("CHOM + AES-GCM backup / CHOM backup", chomEncryptedBackup, chomBackup)
        ratio("CHOM + AES-GCM restore / CHOM restore", chomEncryptedRestore, chomRestore)
        summarize(figures)
        let allIdentical = !identical.isEmpty && identical.values.allSatisfy { $0 == "yes" }
        print("")
        print("restored tree identical: \(allIdentical ? "yes" : "NO") (round 1, every restore: types, permissions, sizes, bytes, symlink targets)")
        print("""
            notes: CHOM backup hashes every file (SHA-256 manifest), fsyncs the archive and returns its SHA-256;
              CHOM restore checks the archive's SHA-256 first, decrypts (AES-GCM rows) frame by frame into the extractor, extracts
              with SafeExtractor (traversal, symlink, type and size checks) and verifies every path against the
              manifest; tar | zstd neither hashes nor fsyncs; restic (repository v2, compression auto,
              always encrypted) chunks, deduplicates, hashes and fsyncs its pack files, and its archive size is
              the repository's size. Each run is a fresh process after sync(); restic gets a new repository and
              cache every round (a first backup).
            """)
    }

    // MARK: helpers

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func rssMB(_ kib: Int) -> Double { Double(kib) * 1024 / 1e6 }

    static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// A file's size, or the total size of the regular files under a directory.
    static func byteCount(_ path: String) throws -> UInt64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw ChildFailure(description: "lstat \(path): errno \(errno)") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return UInt64(st.st_size) }
        var total: UInt64 = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            total += try byteCount(path + "/" + name)
        }
        return total
    }

    static func machine() -> String {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        return "Linux \(release), \(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(format(memory, 1)) GiB RAM, "
            + "load average \(loadAverage())"
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    /// The first line a `--version` command prints.
    static func versionLine(_ argv: [String], _ logs: URL) -> String {
        let log = logs.appendingPathComponent("version-\(argv[0]).log").path
        guard (try? ChildProcess.run([Command(argv: argv, log: log)])) != nil,
            let text = try? String(contentsOfFile: log, encoding: .utf8)
        else { return "\(argv[0]): ?" }
        return text.split(separator: "\n").first.map(String.init) ?? "\(argv[0]): ?"
    }
}

/// Compares a restored tree with the source: the same names in every directory, the same types,
/// permission bits (below the root), sizes, bytes and symlink targets.
enum TreeComparison {
    /// The relative path of the first difference, or nil when the trees are identical.
    static func firstDifference(_ a: String, _ b: String) -> String? {
        compare(a, b, relative: ".", isRoot: true)
    }

    private static func compare(_ a: String, _ b: String, relative: String, isRoot: Bool) -> String? {
        var sa = stat()
        var sb = stat()
        guard lstat(a, &sa) == 0 else { return "\(relative): missing in the source" }
        guard lstat(b, &sb) == 0 else { return "\(relative): missing" }
        let type = sa.st_mode & S_IFMT
        guard type == sb.st_mode & S_IFMT else { return "\(relative): type differs" }
        if !isRoot, type != S_IFLNK, sa.st_mode & 0o7777 != sb.st_mode & 0o7777 {
            return "\(relative): permissions \(String(sa.st_mode & 0o7777, radix: 8)) vs \(String(sb.st_mode & 0o7777, radix: 8))"
        }
        switch type {
        case S_IFDIR:
            let fm = FileManager.default
            guard let na = try? fm.contentsOfDirectory(atPath: a).sorted(), let nb = try? fm.contentsOfDirectory(atPath: b).sorted()
            else { return "\(relative): unreadable directory" }
            guard na == nb else {
                let extra = Set(nb).subtracting(na).sorted().prefix(3)
                let missing = Set(na).subtracting(nb).sorted().prefix(3)
                return "\(relative): entries differ (missing \(Array(missing)), extra \(Array(extra)))"
            }
            for name in na {
                if let difference = compare(a + "/" + name, b + "/" + name, relative: relative + "/" + name, isRoot: false) {
                    return difference
                }
            }
            return nil
        case S_IFLNK:
            return linkTarget(a) == linkTarget(b) ? nil : "\(relative): symlink target differs"
        case S_IFREG:
            guard sa.st_size == sb.st_size else { return "\(relative): size differs" }
            return sameBytes(a, b) ? nil : "\(relative): content differs"
        default:
            return nil
        }
    }

    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        let fa = open(a, O_RDONLY | O_CLOEXEC)
        let fb = open(b, O_RDONLY | O_CLOEXEC)
        defer {
            if fa >= 0 { close(fa) }
            if fb >= 0 { close(fb) }
        }
        guard fa >= 0, fb >= 0 else { return false }
        let size = 1 << 20
        var ba = [UInt8](repeating: 0, count: size)
        var bb = [UInt8](repeating: 0, count: size)
        while true {
            let na = readFully(fa, &ba)
            let nb = readFully(fb, &bb)
            guard na == nb, na >= 0 else { return false }
            if na == 0 { return true }
            guard memcmp(ba, bb, na) == 0 else { return false }
        }
    }

    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Int {
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            total += n
        }
        return total
    }
}
