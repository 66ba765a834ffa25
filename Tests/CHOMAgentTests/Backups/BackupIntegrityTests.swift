import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Backup integrity: checksums, keys and the encrypted framing")
    struct Integrity {
        /// An encrypted backup of the sample site (3+ MiB: several frames) and its summary.
        static func withEncryptedBackup(
            _ body: (_ directory: URL, _ archive: URL, _ summary: BackupSummary) async throws -> Void
        ) async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup.enc")
                let summary = try BackupWriter().write(
                    sources: site.sources, database: BackupDatabaseDump(kind: .postgresql, file: site.dump), to: archive,
                    encryptionKey: try BackupFixtures.key())
                try await body(directory, archive, summary)
            }
        }

        /// Restores and returns the error; checks nothing was left behind in `directory`.
        static func restoreError(
            _ archive: URL, expected: BackupManifest.Archive, key: BackupEncryptionKey?, in directory: URL
        ) throws -> CHOMError {
            let before = try BackupFixtures.contents(of: directory)
            let destination = directory.appendingPathComponent("restore")
            let error = try #require(throws: CHOMError.self) {
                try BackupReader().restore(archive: archive, expected: expected, key: key, into: destination)
            }
            #expect(try BackupFixtures.contents(of: directory) == before)  // no restore dir, no decrypted temp file
            return error
        }

        /// Rewrites the archive and returns the checksum of the new bytes, as if it had been recorded.
        static func rewrite(_ archive: URL, _ change: (inout Data) -> Void) throws -> BackupManifest.Archive {
            var data = try Data(contentsOf: archive)
            change(&data)
            try data.write(to: archive)
            return BackupManifest.Archive(sha256: BackupFixtures.sha256(data), byteCount: UInt64(data.count))
        }

        // Header: "CHOMBACK", version, id length, "tenant-key-1", 32-byte salt, 8-byte nonce prefix.
        static let headerSize = 8 + 1 + 1 + 12 + 32 + 8
        static let fullFrame = 4 + 1024 * 1024 + 16

        @Test("an encrypted backup does not restore without its key")
        func missingKey() async throws {
            try await Self.withEncryptedBackup { directory, archive, summary in
                let error = try Self.restoreError(archive, expected: summary.archive, key: nil, in: directory)
                #expect(error.code == .refused)
                #expect(error.message.contains("encrypted under key id \"tenant-key-1\" and no key was given"))
            }
        }

        @Test("an encrypted backup does not restore with a wrong key, under its id or another")
        func wrongKey() async throws {
            try await Self.withEncryptedBackup { directory, archive, summary in
                for key in [try BackupFixtures.key(byte: 8), try BackupFixtures.key(id: "tenant-key-2")] {
                    let error = try Self.restoreError(archive, expected: summary.archive, key: key, in: directory)
                    #expect(error.code == .integrity)
                    #expect(error.message.contains("wrong key or corrupted backup"))
                    #expect(!error.description.contains(String(repeating: "07", count: 4)))
                }
            }
        }

        @Test("a changed byte in a stored archive fails the checksum before anything is read", arguments: [false, true])
        func tamperedByte(encrypted: Bool) async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let site = try BackupFixtures.makeSite(in: directory)
                let archive = directory.appendingPathComponent("backup")
                let key = encrypted ? try BackupFixtures.key() : nil
                let summary = try BackupWriter().write(sources: site.sources, to: archive, encryptionKey: key)
                _ = try Self.rewrite(archive) { $0[$0.count / 2] ^= 0x01 }
                let error = try Self.restoreError(archive, expected: summary.archive, key: key, in: directory)
                #expect(error.code == .integrity)
                #expect(error.message.contains("does not match its recorded checksum"))
            }
        }

        @Test("a truncated, reordered, extended or altered encrypted stream is refused even with a matching checksum")
        func framing() async throws {
            typealias Change = (String, (inout Data) -> Void)
            let changes: [Change] = [
                ("drop the final frame", { $0 = $0.prefix(Self.headerSize + 3 * Self.fullFrame) }),
                ("cut inside a frame", { $0 = $0.prefix(Self.headerSize + Self.fullFrame + 1000) }),
                ("cut inside the header", { $0 = $0.prefix(20) }),
                ("keep only the header", { $0 = $0.prefix(Self.headerSize) }),
                ("append a byte", { $0.append(0) }),
                ("append a copy of the final frame", { data in data.append(data.suffix(100)) }),
                ("swap frames 0 and 1", { data in
                    let first = data.subdata(in: Self.headerSize..<(Self.headerSize + Self.fullFrame))
                    let second = data.subdata(in: (Self.headerSize + Self.fullFrame)..<(Self.headerSize + 2 * Self.fullFrame))
                    data.replaceSubrange(Self.headerSize..<(Self.headerSize + 2 * Self.fullFrame), with: second + first)
                }),
                ("repeat frame 0", { data in
                    let first = data.subdata(in: Self.headerSize..<(Self.headerSize + Self.fullFrame))
                    data.insert(contentsOf: first, at: Self.headerSize + Self.fullFrame)
                }),
                ("flag frame 0 final", { $0[Self.headerSize] |= 0x80 }),
                ("flip a ciphertext bit", { $0[Self.headerSize + Self.fullFrame + 4 + 77] ^= 0x10 }),
                ("flip a tag bit", { $0[Self.headerSize + Self.fullFrame - 1] ^= 0x01 }),
                ("flip a salt bit", { $0[30] ^= 0x01 }),
                ("change the key id", { $0[10] = UInt8(ascii: "T") }),
            ]
            for (name, change) in changes {
                try await Self.withEncryptedBackup { directory, archive, summary in
                    #expect(summary.archive.byteCount > UInt64(Self.headerSize + 3 * Self.fullFrame), "needs 4+ frames")
                    let expected = try Self.rewrite(archive, change)
                    let error = try Self.restoreError(archive, expected: expected, key: try BackupFixtures.key(), in: directory)
                    #expect(error.code == .integrity, "\(name)")
                    #expect(error.message.contains("wrong key or corrupted backup"), "\(name): \(error)")
                }
            }
        }

        @Test("a file that is not a backup is refused")
        func notABackup() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let archive = directory.appendingPathComponent("junk")
                try Data().write(to: archive)
                let expected = try Self.rewrite(archive) { $0 = Data("just some text, not an archive".utf8) }
                let error = try Self.restoreError(archive, expected: expected, key: nil, in: directory)
                #expect(error.code == .integrity)
                #expect(error.message.contains("not a CHOM backup archive"))
            }
        }
    }
}
