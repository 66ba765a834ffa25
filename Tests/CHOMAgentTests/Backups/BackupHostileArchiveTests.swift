import CHOMAgent
import CHOMBackup
import CHOMArchive
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Hostile backup archives")
    struct HostileArchives {
        /// Each case: entries that try to write outside the destination or create something unsafe.
        static let cases: [(name: String, entries: @Sendable (_ outside: String) -> [HostileTar.Entry])] = [
            ("a '..' path", { _ in [HostileTar.Entry(name: "../outside/evil.txt", type: "0", content: Data("x".utf8))] }),
            ("an absolute path", { outside in [HostileTar.Entry(name: outside + "/evil.txt", type: "0", content: Data("x".utf8))] }),
            ("a symlink climbing out, then a file through it", { _ in
                [
                    HostileTar.Entry(name: "escape", type: "2", link: "../outside"),
                    HostileTar.Entry(name: "escape/evil.txt", type: "0", content: Data("x".utf8)),
                ]
            }),
            ("an absolute symlink, then a file through it", { outside in
                [
                    HostileTar.Entry(name: "abs", type: "2", link: outside),
                    HostileTar.Entry(name: "abs/evil.txt", type: "0", content: Data("x".utf8)),
                ]
            }),
            ("an inside symlink, then a file through it", { _ in
                [
                    HostileTar.Entry(name: "sub/", type: "5", mode: 0o755),
                    HostileTar.Entry(name: "inner", type: "2", link: "sub"),
                    HostileTar.Entry(name: "inner/evil.txt", type: "0", content: Data("x".utf8)),
                ]
            }),
            ("a symlink, then a file over it", { _ in
                [
                    HostileTar.Entry(name: "target", type: "2", link: "../outside/target"),
                    HostileTar.Entry(name: "target", type: "0", content: Data("x".utf8)),
                ]
            }),
            ("a hard link to a file outside", { outside in [HostileTar.Entry(name: "hard", type: "1", link: outside + "/target")] }),
            ("a hard link climbing out", { _ in [HostileTar.Entry(name: "hard", type: "1", link: "../outside/target")] }),
            ("a character device", { _ in [HostileTar.Entry(name: "null", type: "3")] }),
            ("a block device", { _ in [HostileTar.Entry(name: "disk", type: "4")] }),
            ("a fifo", { _ in [HostileTar.Entry(name: "pipe", type: "6")] }),
        ]

        @Test("a hostile archive with a valid checksum writes nothing outside the destination", arguments: cases.indices)
        func hostile(index: Int) async throws {
            let (name, makeEntries) = Self.cases[index]
            try await BackupFixtures.withTemporaryDirectory { directory in
                let outside = directory.appendingPathComponent("outside")
                try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
                try Data("original".utf8).write(to: outside.appendingPathComponent("target"))
                let before = try BackupFixtures.snapshot(directory)

                // A well-formed start, then the hostile entries, then records a real backup would end with.
                var entries = [HostileTar.Entry(name: "files/", type: "5", mode: 0o755)]
                entries += makeEntries(outside.path)
                entries.append(HostileTar.Entry(name: "manifest.json", type: "0", content: Data("{}".utf8)))
                let archive = directory.appendingPathComponent("hostile.tar.zst")
                let data = try Zstd.compress(HostileTar.archive(entries))
                try data.write(to: archive)
                let expected = BackupManifest.Archive(sha256: BackupFixtures.sha256(data), byteCount: UInt64(data.count))

                let destination = directory.appendingPathComponent("restore")
                let error = try #require(throws: CHOMError.self, "\(name)") {
                    try BackupReader().restore(archive: archive, expected: expected, into: destination)
                }
                #expect(error.code == .refused, "\(name): \(error)")
                #expect(error.underlying is ArchiveError, "\(name)")
                #expect(!FileManager.default.fileExists(atPath: destination.path), "\(name)")
                var after = try BackupFixtures.snapshot(directory)
                after["hostile.tar.zst"] = nil
                #expect(after == before, "\(name)")
                #expect(!FileManager.default.fileExists(atPath: "/evil.txt"))
            }
        }

        @Test("a zstd bomb is refused at the decoded-size cap")
        func bomb() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                // 256 MiB of zeros: a tar end marker, then padding the decoder must still get through.
                let archive = directory.appendingPathComponent("bomb.tar.zst")
                var data = Data()
                let compressor = try ZstdCompressor(level: 3)
                let zeros = Data(count: 1 << 20)
                for _ in 0..<256 { try compressor.compress(zeros) { data.append($0) } }
                try compressor.finish { data.append($0) }
                #expect(data.count < 1 << 20)
                try data.write(to: archive)
                let expected = BackupManifest.Archive(sha256: BackupFixtures.sha256(data), byteCount: UInt64(data.count))

                let limits = SafeExtractor.Limits(maxTotalBytes: 8 << 20, maxEntries: 100)
                let reader = BackupReader(configuration: .init(limits: limits))
                let destination = directory.appendingPathComponent("restore")
                let error = try #require(throws: CHOMError.self) {
                    try reader.restore(archive: archive, expected: expected, into: destination)
                }
                #expect(error.code == .refused)
                guard case .decompressionBound = try #require(error.underlying as? ArchiveError) else {
                    Issue.record("expected a decompression bound, got \(error)")
                    return
                }
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }

        @Test("an archive without the backup records is not taken for a backup")
        func missingRecords() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let data = try Zstd.compress(HostileTar.archive([HostileTar.Entry(name: "a.txt", type: "0", content: Data("a".utf8))]))
                let archive = directory.appendingPathComponent("plain.tar.zst")
                try data.write(to: archive)
                let expected = BackupManifest.Archive(sha256: BackupFixtures.sha256(data), byteCount: UInt64(data.count))
                let destination = directory.appendingPathComponent("restore")
                let error = try #require(throws: CHOMError.self) {
                    try BackupReader().restore(archive: archive, expected: expected, into: destination)
                }
                #expect(error.code == .integrity)
                #expect(error.message.contains("not a CHOM backup"))
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }
    }
}
