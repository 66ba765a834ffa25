import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Backup write and restore")
    struct RoundTrip {
        @Test("a plain backup restores byte-identical: contents, modes, symlinks and the database dump")
        func plainRoundTrip() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup.tar.zst")
                let summary = try BackupWriter().write(
                    sources: site.sources, database: BackupDatabaseDump(kind: .postgresql, file: site.dump), to: archive)

                #expect(summary.archive == (try BackupManifest.Archive(digestingFileAt: archive)))
                #expect(summary.manifest.archive == summary.archive)
                #expect(summary.fileCount == 9)  // 7 release files, 1 shared, the dump
                #expect(summary.encryptionKeyID == nil)
                #expect(summary.skippedPaths.isEmpty)
                #expect(summary.uncompressedBytes > 3 * 1024 * 1024)
                #expect(summary.manifest.entry(at: "files/current/uploads")?.linkTarget == "../../shared/uploads")
                #expect(summary.manifest.entry(at: "database/dump.sql")?.kind == .file)
                let head = try Data(contentsOf: archive).prefix(4)
                #expect(Array(head) == [0x28, 0xB5, 0x2F, 0xFD])  // a zstd frame

                let restored = try BackupReader().restore(
                    archive: archive, expected: summary.archive, into: directory.appendingPathComponent("restore"))
                let current = try #require(restored.directory(for: "files/current"))
                let shared = try #require(restored.directory(for: "files/shared"))
                #expect(try BackupFixtures.snapshot(current) == BackupFixtures.snapshot(site.release))
                #expect(try BackupFixtures.snapshot(shared) == BackupFixtures.snapshot(site.shared))
                let database = try #require(restored.database)
                #expect(database.kind == .postgresql)
                #expect(try Data(contentsOf: database.file) == Data(contentsOf: site.dump))
                // The layout and manifest records are taken out of the restored tree.
                #expect(try BackupFixtures.contents(of: restored.root) == ["database", "files"])
                #expect(restored.manifest.entries == summary.manifest.entries)
            }
        }

        @Test("an encrypted backup restores byte-identical with its key and stores no plaintext")
        func encryptedRoundTrip() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup.enc")
                let key = try BackupFixtures.key()
                let summary = try BackupWriter(configuration: .init(compressionLevel: 1)).write(
                    sources: site.sources, database: BackupDatabaseDump(kind: .mysql, file: site.dump), to: archive,
                    encryptionKey: key)
                #expect(summary.encryptionKeyID == key.id)
                let stored = try Data(contentsOf: archive)
                #expect(stored.starts(with: Data("CHOMBACK".utf8)))
                #expect(stored.range(of: Data("CREATE TABLE".utf8)) == nil)
                #expect(stored.range(of: Data("files/current".utf8)) == nil)

                let restored = try BackupReader().restore(
                    archive: archive, expected: summary.archive, key: key,
                    into: directory.appendingPathComponent("restore"))
                let current = try #require(restored.directory(for: "files/current"))
                #expect(try BackupFixtures.snapshot(current) == BackupFixtures.snapshot(site.release))
                #expect(restored.database?.kind == .mysql)
            }
        }

        @Test("an empty source and no dump still make a valid backup")
        func emptySource() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let empty = directory.appendingPathComponent("empty")
                try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
                let archive = directory.appendingPathComponent("backup")
                let summary = try BackupWriter().write(
                    sources: [BackupSource(prefix: "files/current", directory: empty)], to: archive,
                    encryptionKey: try BackupFixtures.key())
                #expect(summary.fileCount == 0)
                #expect(summary.manifest.entries.map(\.path) == ["files", "files/current"])
                let restored = try BackupReader().restore(
                    archive: archive, expected: summary.archive, key: try BackupFixtures.key(),
                    into: directory.appendingPathComponent("restore"))
                #expect(restored.database == nil)
                #expect(try BackupFixtures.contents(of: try #require(restored.directory(for: "files/current"))) == [])
            }
        }

        @Test("sources with reserved, overlapping or unsafe prefixes are refused before anything is written")
        func badPrefixes() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let archive = directory.appendingPathComponent("backup")
                for prefixes in [["manifest.json"], ["database/x"], ["files", "files/current"], ["a", "a"], ["../x"], ["/abs"], [""]] {
                    let sources = prefixes.map { BackupSource(prefix: $0, directory: directory) }
                    #expect(throws: CHOMError.self) { try BackupWriter().write(sources: sources, to: archive) }
                    #expect(!FileManager.default.fileExists(atPath: archive.path))
                }
            }
        }

        @Test("the writer never overwrites an existing file")
        func existingOutput() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup")
                try Data("keep".utf8).write(to: archive)
                #expect(throws: CHOMError.self) { try BackupWriter().write(sources: site.sources, to: archive) }
                #expect(try Data(contentsOf: archive) == Data("keep".utf8))
            }
        }

        @Test("a restore into a non-empty directory is refused and leaves it alone")
        func nonEmptyDestination() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup")
                let summary = try BackupWriter().write(sources: site.sources, to: archive)
                let destination = directory.appendingPathComponent("restore")
                try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
                try Data("mine".utf8).write(to: destination.appendingPathComponent("file"))
                #expect(throws: CHOMError.self) {
                    try BackupReader().restore(archive: archive, expected: summary.archive, into: destination)
                }
                #expect(try BackupFixtures.contents(of: destination) == ["file"])
            }
        }
    }
}
