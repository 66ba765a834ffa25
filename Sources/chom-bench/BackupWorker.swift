import CHOMBackup
import CHOMCore
import Foundation

/// `chom-bench backup-worker write|read …`: the CHOM side of `chom-bench backup`, run as a child
/// process so its peak RSS is its own. Not meant to be run by hand.
///
///     backup-worker write --tree DIR --out ARCHIVE [--encrypt]
///         BackupWriter with DIR as source "files/current", zstd level 3; writes ARCHIVE and
///         ARCHIVE.summary ("<sha256> <bytes>").
///     backup-worker read --archive ARCHIVE --into DIR [--encrypt]
///         BackupReader.restore with the digest from ARCHIVE.summary.
enum BackupWorker {
    static let summarySuffix = ".summary"
    static let sourcePrefix = "files/current"

    /// A fixed key: the benchmark measures the cost of encrypting, not key handling.
    static func benchKey() throws -> BackupEncryptionKey {
        try BackupEncryptionKey(id: "chom-bench", bytes: [UInt8](repeating: 0x42, count: 32))
    }

    static func main(_ arguments: [String]) throws {
        guard let mode = arguments.first else { throw ChildFailure(description: "backup-worker: write or read") }
        var options = Options(Array(arguments.dropFirst()))
        var key: BackupEncryptionKey?
        if options.flag("--encrypt") { key = try benchKey() }
        switch mode {
        case "write":
            let tree = URL(fileURLWithPath: try options.value("--tree"))
            let out = URL(fileURLWithPath: try options.value("--out"))
            try options.finish()
            let summary = try BackupWriter(configuration: .init(compressionLevel: 3)).write(
                sources: [BackupSource(prefix: sourcePrefix, directory: tree)], to: out, encryptionKey: key)
            try Data("\(summary.archive.sha256) \(summary.archive.byteCount)\n".utf8)
                .write(to: URL(fileURLWithPath: out.path + summarySuffix))
        case "read":
            let archive = URL(fileURLWithPath: try options.value("--archive"))
            let into = URL(fileURLWithPath: try options.value("--into"))
            try options.finish()
            let fields = try String(contentsOfFile: archive.path + summarySuffix, encoding: .utf8)
                .split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let bytes = UInt64(fields[1]) else {
                throw ChildFailure(description: "unreadable \(archive.path + summarySuffix)")
            }
            _ = try BackupReader().restore(
                archive: archive, expected: .init(sha256: String(fields[0]), byteCount: bytes), key: key, into: into)
        default:
            throw ChildFailure(description: "backup-worker: unknown mode \(mode)")
        }
    }
}
