import CHOMAgent
import CHOMArchive
import CHOMBackup
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Encrypted restore streams: decrypt, decompress and extract without a temporary file")
    struct StreamingRestore {
        static let frame = 1024 * 1024
        // Header: "CHOMBACK", version, id length, "tenant-key-1", 32-byte salt, 8-byte nonce prefix.
        static let headerSize = 8 + 1 + 1 + 12 + 32 + 8
        static let fullFrame = 4 + frame + 16
        static let fileSize = 640 * 1024

        /// Ten files of 640 KiB of noise, f0…f9 in archive order under "files/current": zstd stores
        /// noise as it is, so file i's bytes sit at about i × 640 KiB of the tar.zst stream, in
        /// frame ⌊i × 640 KiB / 1 MiB⌋ of the encrypted archive (7 frames in all).
        static func withNoiseBackup(
            encrypted: Bool = true,
            _ body: (_ directory: URL, _ archive: URL, _ summary: BackupSummary) throws -> Void
        ) async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let tree = directory.appendingPathComponent("tree")
                try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
                for index in 0..<10 {
                    try BackupFixtures.noise(Self.fileSize, seed: UInt64(index + 10))
                        .write(to: tree.appendingPathComponent("f\(index)"))
                }
                let archive = directory.appendingPathComponent("backup.enc")
                let summary = try BackupWriter().write(
                    sources: [BackupSource(prefix: "files/current", directory: tree)], to: archive,
                    encryptionKey: encrypted ? try BackupFixtures.key() : nil)
                try body(directory, archive, summary)
            }
        }

        /// Restores with `key` and returns the error, checking that no name but those `allowed`
        /// (by default the destination's own) was ever created beside the destination (no
        /// temporary file), and that nothing is left there.
        static func refusal(
            _ archive: URL, _ expected: BackupManifest.Archive, key: BackupEncryptionKey?, in directory: URL,
            created allowed: Set<String> = ["restore"]
        ) throws -> CHOMError {
            let before = try BackupFixtures.contents(of: directory)
            let watcher = try CreationWatcher(directory)
            let error = try #require(throws: CHOMError.self) {
                try BackupReader().restore(
                    archive: archive, expected: expected, key: key, into: directory.appendingPathComponent("restore"))
            }
            #expect(Set(watcher.createdNames()).isSubset(of: allowed))
            #expect(try BackupFixtures.contents(of: directory) == before)
            return error
        }

        @Test("an encrypted backup restores byte-identical, and only the destination is ever created beside it")
        func roundTrip() async throws {
            try await Self.withNoiseBackup { directory, archive, summary in
                let site = try BackupFixtures.makeSite(in: directory)
                let siteArchive = directory.appendingPathComponent("site.enc")
                let key = try BackupFixtures.key()
                let siteSummary = try BackupWriter().write(
                    sources: site.sources, database: BackupDatabaseDump(kind: .postgresql, file: site.dump),
                    to: siteArchive, encryptionKey: key)
                for (archive, summary) in [(archive, summary), (siteArchive, siteSummary)] {
                    let parent = directory.appendingPathComponent("restores-\(summary.archive.sha256.prefix(8))")
                    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
                    let watcher = try CreationWatcher(parent)
                    let restored = try BackupReader().restore(
                        archive: archive, expected: summary.archive, key: key, into: parent.appendingPathComponent("restore"))
                    #expect(watcher.createdNames() == ["restore"])  // no ".restore.decrypted-….tar.zst"
                    #expect(try BackupFixtures.contents(of: parent) == ["restore"])
                    #expect(restored.manifest.entries == summary.manifest.entries)
                }
                let restored = directory.appendingPathComponent("restores-\(siteSummary.archive.sha256.prefix(8))/restore")
                #expect(
                    try BackupFixtures.snapshot(restored.appendingPathComponent("files/current"))
                        == BackupFixtures.snapshot(site.release))
                #expect(
                    try Data(contentsOf: restored.appendingPathComponent("database/dump.sql"))
                        == Data(contentsOf: site.dump))
                let noise = directory.appendingPathComponent("restores-\(summary.archive.sha256.prefix(8))/restore")
                #expect(
                    try BackupFixtures.snapshot(noise.appendingPathComponent("files/current"))
                        == BackupFixtures.snapshot(directory.appendingPathComponent("tree")))
            }
        }

        @Test("a flipped byte in a middle frame: refused, destination removed, nothing from later frames written")
        func tamperedMiddleFrame() async throws {
            try await Self.withNoiseBackup { directory, archive, summary in
                #expect(summary.archive.byteCount > UInt64(Self.headerSize + 6 * Self.fullFrame), "needs 7 frames")
                #expect(summary.archive.byteCount < UInt64(Self.headerSize + 7 * Self.fullFrame), "needs 7 frames")
                let expected = try BackupTests.Integrity.rewrite(archive) { $0[Self.headerSize + 3 * Self.fullFrame + 4 + 500] ^= 0x04 }

                // Through the restore: the error, and no destination afterwards.
                let error = try Self.refusal(archive, expected, key: try BackupFixtures.key(), in: directory)
                #expect(error.code == .integrity)
                #expect(error.message.contains("wrong key or corrupted backup: frame 3 does not authenticate"), "\(error)")

                // Through the same stream, looking at the destination when frame 3 is refused.
                let destination = directory.appendingPathComponent("observed")
                let reader = try BackupDecryptingReader(fileAt: archive.path, key: try BackupFixtures.key())
                var atFailure: [String: Int]?
                var refusal: (any Error)?
                do {
                    _ = try SafeExtractor().extract(to: destination) {
                        do {
                            return try reader.nextChunk()
                        } catch {
                            atFailure = try Self.fileSizes(destination.appendingPathComponent("files/current"))
                            throw error
                        }
                    }
                } catch {
                    refusal = error
                }
                #expect((refusal as? CHOMError)?.message.contains("frame 3 does not authenticate") == true)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                let written = try #require(atFailure)
                // Frames 0…2 (3072 KiB) were extracted as they came: f0…f3 (up to 2560 KiB) whole.
                for index in 0..<4 { #expect(written["f\(index)"] == Self.fileSize, "f\(index): \(written)") }
                // Nothing of frame 3 or later: f5…f9 start at 3200 KiB and more; f4 (2560…3200 KiB) in part only.
                #expect(written.keys.filter { $0 > "f4" }.isEmpty, "\(written)")
                #expect((written["f4"] ?? 0) < Self.fileSize, "\(written)")
            }
        }

        @Test("a stream whose final frame is missing is refused and removed, even when the tar.zst in it is complete")
        func truncated() async throws {
            try await Self.withNoiseBackup(encrypted: false) { directory, plain, summary in
                let key = try BackupFixtures.key()
                let (sealed, finalFrameSize) = try TestFrameSealer(key: key).sealWithEmptyFinalFrame(Data(contentsOf: plain))
                let archive = directory.appendingPathComponent("sealed.enc")
                try sealed.write(to: archive)
                // The archive as sealed restores: the test's sealer writes the format.
                let whole = try BackupManifest.Archive(digestingFileAt: archive)
                let restored = try BackupReader().restore(
                    archive: archive, expected: whole, key: key, into: directory.appendingPathComponent("whole"))
                #expect(restored.manifest.entries == summary.manifest.entries)

                let cuts: [(String, String, (inout Data) -> Void)] = [
                    ("the empty final frame dropped", "the stream ends before its final frame", { $0.removeLast(finalFrameSize) }),
                    ("the last frame with data dropped too", "the stream ends before its final frame", {
                        $0 = $0.prefix(Self.headerSize + 6 * Self.fullFrame)  // frames 0…5 of 0…6 and the empty 7th
                    }),
                    ("cut inside the final frame", "truncated frame", { $0.removeLast(3) }),
                ]
                for (name, reason, cut) in cuts {
                    try sealed.write(to: archive)
                    let expected = try BackupTests.Integrity.rewrite(archive, cut)
                    let error = try Self.refusal(archive, expected, key: key, in: directory)
                    #expect(error.code == .integrity, "\(name)")
                    #expect(error.message.contains("wrong key or corrupted backup: \(reason)"), "\(name): \(error)")
                }
            }
        }

        @Test("a wrong key is refused before anything is created beside the destination")
        func wrongKey() async throws {
            try await Self.withNoiseBackup { directory, archive, summary in
                for key in [try BackupFixtures.key(byte: 8), try BackupFixtures.key(id: "tenant-key-2"), nil] {
                    let error = try Self.refusal(archive, summary.archive, key: key, in: directory, created: [])
                    #expect(error.code == (key == nil ? .refused : .integrity))
                    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("restore").path))
                }
            }
        }

        /// Regular files directly in `directory` and their sizes.
        static func fileSizes(_ directory: URL) throws -> [String: Int] {
            guard FileManager.default.fileExists(atPath: directory.path) else { return [:] }
            var sizes: [String: Int] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)
                sizes[name] = (attributes[.size] as? NSNumber)?.intValue ?? -1
            }
            return sizes
        }
    }
}
