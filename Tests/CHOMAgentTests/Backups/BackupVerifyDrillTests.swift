import CHOMAgent
import CHOMBackup
import CHOMArchive
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Backup verify drills")
    struct VerifyDrill {
        @Test("a drill restores into scratch, finds every file as recorded, and removes the scratch directory")
        func passes() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup")
                let key = try BackupFixtures.key()
                let summary = try BackupWriter().write(
                    sources: site.sources, database: BackupDatabaseDump(kind: .postgresql, file: site.dump), to: archive,
                    encryptionKey: key)
                let scratch = directory.appendingPathComponent("scratch")
                let report = BackupVerifyDrill().run(archive: archive, expected: summary.archive, key: key, scratchParent: scratch)
                #expect(report.ok)
                #expect(report.failure == nil)
                #expect(report.entriesChecked == summary.manifest.entries.count)
                #expect(report.duration > .zero)
                #expect(try BackupFixtures.contents(of: scratch) == [])
            }
        }

        @Test("a drill reports files that differ from the manifest stored in the archive")
        func mismatch() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let original = directory.appendingPathComponent("backup")
                _ = try BackupWriter().write(sources: site.sources, to: original)

                // Same manifest, other content for one file, an extra file: a writer bug or a forged archive.
                let compressed = try Data(contentsOf: original)
                let tar = try ZstdDecompressor(outputCap: 64 << 20).decompress(compressed)
                var rewritten = Data()
                let writer = TarWriter { rewritten.append($0) }
                for (entry, content) in try TarReader.entries(in: tar) {
                    switch entry.kind {
                    case .directory: try writer.appendDirectory(path: entry.path, mode: entry.mode)
                    case .symlink: try writer.appendSymlink(path: entry.path, target: entry.linkPath)
                    default:
                        if entry.path == "manifest.json" {
                            try writer.appendFile(path: "files/current/extra.txt", contents: Data("extra".utf8))
                        }
                        let body = entry.path == "files/current/index.php" ? Data("<?php hacked();\n".utf8) : content
                        try writer.appendFile(path: entry.path, contents: body, mode: entry.mode)
                    }
                }
                try writer.finish()
                let forged = directory.appendingPathComponent("forged")
                let data = try Zstd.compress(rewritten)
                try data.write(to: forged)
                let expected = BackupManifest.Archive(sha256: BackupFixtures.sha256(data), byteCount: UInt64(data.count))

                let scratch = directory.appendingPathComponent("scratch")
                let report = BackupVerifyDrill().run(archive: forged, expected: expected, scratchParent: scratch)
                #expect(!report.ok)
                #expect(report.failure == nil)
                #expect(report.mismatches.map(\.path) == ["files/current/extra.txt", "files/current/index.php"])
                guard case .changedSize = report.mismatches[1] else {
                    Issue.record("expected a size change, got \(report.mismatches[1])")
                    return
                }
                #expect(try BackupFixtures.contents(of: scratch) == [])

                // A restore of the same archive refuses it outright.
                let error = try #require(throws: CHOMError.self) {
                    try BackupReader().restore(archive: forged, expected: expected, into: directory.appendingPathComponent("r"))
                }
                #expect(error.code == .integrity)
                #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("r").path))
            }
        }

        @Test("a drill of an archive that fails its checksum reports the failure")
        func checksumFailure() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup")
                let summary = try BackupWriter().write(sources: site.sources, to: archive)
                var wrong = summary.archive
                wrong.byteCount += 1
                let scratch = directory.appendingPathComponent("scratch")
                let report = BackupVerifyDrill().run(archive: archive, expected: wrong, scratchParent: scratch)
                #expect(!report.ok)
                #expect(report.failure?.code == .integrity)
                #expect(report.mismatches.isEmpty)
                let leftovers = FileManager.default.fileExists(atPath: scratch.path) ? try BackupFixtures.contents(of: scratch) : []
                #expect(leftovers.isEmpty)
            }
        }
    }
}
