#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMAgent
import CHOMBackup
import CHOMArchive
import CHOMCore
import Crypto
import Foundation
import Testing

/// The backup engine's suites run one at a time: the memory test reads the process's peak RSS.
@Suite("Backups", .serialized)
struct BackupTests {}

/// Shared fixtures: temporary directories, a sample site, tree snapshots, keys, raw tar.
enum BackupFixtures {
    static func withTemporaryDirectory<R>(_ body: (URL) async throws -> R) async throws -> R {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-backup-tests-" + UUID().uuidString.lowercased(), isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url)
    }

    static func key(id: String = "tenant-key-1", byte: UInt8 = 7) throws -> BackupEncryptionKey {
        try BackupEncryptionKey(id: id, bytes: [UInt8](repeating: byte, count: 32))
    }

    static func sha256(_ data: Data) -> String { Hex.encode(SHA256.hash(data: data)) }

    /// Deterministic bytes that zstd cannot shrink much.
    static func noise(_ count: Int, seed: UInt64 = 1) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        let data = Data(bytes)
        return data
    }

    struct Site {
        var release: URL
        var shared: URL
        var dump: URL
        var sources: [BackupSource] {
            [BackupSource(prefix: "files/current", directory: release), BackupSource(prefix: "files/shared", directory: shared)]
        }
    }

    /// A release with nested files of several modes, an empty file and directory, a 3 MiB file
    /// (several encrypted frames), a non-ASCII name and symlinks (relative, dangling, absolute);
    /// a shared directory; a SQL dump.
    static func makeSite(in directory: URL) throws -> Site {
        let fm = FileManager.default
        let release = directory.appendingPathComponent("site/releases/r1")
        let shared = directory.appendingPathComponent("site/shared")
        for path in ["assets/css", "empty-dir", "bin"] {
            try fm.createDirectory(at: release.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        try fm.createDirectory(at: shared.appendingPathComponent("uploads/2024"), withIntermediateDirectories: true)
        func file(_ root: URL, _ path: String, _ data: Data, mode: Int = 0o644) throws {
            let url = root.appendingPathComponent(path)
            try data.write(to: url)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try file(release, "index.php", Data("<?php echo 'hi';\n".utf8))
        try file(release, "assets/css/site.css", Data("body{}\n".utf8))
        try file(release, "bin/run.sh", Data("#!/bin/sh\necho run\n".utf8), mode: 0o755)
        try file(release, ".env", Data("SECRET=1\n".utf8), mode: 0o600)
        try file(release, "empty", Data())
        try file(release, "large.bin", noise(3 * 1024 * 1024 + 123))
        try file(release, "ünïcödé.txt", Data("unicode\n".utf8), mode: 0o640)
        try file(shared, "uploads/2024/photo.jpg", noise(40_000, seed: 2))
        try fm.createSymbolicLink(atPath: release.appendingPathComponent("uploads").path, withDestinationPath: "../../shared/uploads")
        try fm.createSymbolicLink(atPath: release.appendingPathComponent("style.css").path, withDestinationPath: "assets/css/site.css")
        try fm.createSymbolicLink(atPath: release.appendingPathComponent("dangling").path, withDestinationPath: "missing/file")
        let dump = directory.appendingPathComponent("dump.sql")
        try Data("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n".utf8).write(to: dump)
        return Site(release: release, shared: shared, dump: dump)
    }

    /// Every path under `root` (symlinks not followed): kind, permission bits, content digest or link target.
    static func snapshot(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let fm = FileManager.default
        func walk(_ directory: URL, _ prefix: String) throws {
            for name in try fm.contentsOfDirectory(atPath: directory.path) {
                let url = directory.appendingPathComponent(name)
                let path = prefix.isEmpty ? name : prefix + "/" + name
                // attributesOfItem does not follow a symlink (lstat).
                let attributes = try fm.attributesOfItem(atPath: url.path)
                let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
                let mode = String(permissions & 0o7777, radix: 8)
                switch attributes[.type] as? FileAttributeType {
                case .typeDirectory?:
                    result[path] = "dir \(mode)"
                    try walk(url, path)
                case .typeSymbolicLink?:
                    result[path] = "link -> " + (try fm.destinationOfSymbolicLink(atPath: url.path))
                default:
                    result[path] = "file \(mode) " + sha256(try Data(contentsOf: url))
                }
            }
        }
        try walk(root, "")
        return result
    }

    /// The files of the tree at `url`, without the directory itself.
    static func contents(of url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    /// Peak resident memory of this process since the last `resetPeakMemory()`, in bytes.
    static func peakMemory() throws -> Int { try statusField("VmHWM") }
    static func residentMemory() throws -> Int { try statusField("VmRSS") }

    /// Resets VmHWM to the current RSS (Linux: "5" into /proc/self/clear_refs).
    static func resetPeakMemory() throws {
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
    }

    private static func statusField(_ name: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
            if let kilobytes, let value = Int(kilobytes) { return value * 1024 }
        }
        throw CHOMError(.internal, "no \(name) in /proc/self/status")
    }
}

/// Hand-made ustar archives for hostile inputs (`TarWriter` refuses to write them).
enum HostileTar {
    struct Entry {
        var name: String
        var type: Character
        var content = Data()
        var link = ""
        var mode = 0o644
    }

    static func archive(_ entries: [Entry]) -> Data {
        var data = Data()
        for entry in entries {
            data.append(header(entry))
            data.append(entry.content)
            data.append(Data(count: (512 - entry.content.count % 512) % 512))
        }
        data.append(Data(count: 1024))
        return data
    }

    static func header(_ entry: Entry) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, at: offset)
        }
        put(entry.name, at: 0)
        octal(entry.mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(entry.content.count, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        block[156] = entry.type.asciiValue!
        put(entry.link, at: 157)
        put("ustar\u{0}00", at: 257)
        put("        ", at: 148)
        let sum = block.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        return Data(block)
    }
}
