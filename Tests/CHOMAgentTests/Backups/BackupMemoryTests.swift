#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Backup memory bounds")
    struct Memory {
        static let fileSize = 200 * 1024 * 1024
        static let allowedGrowth = 64 * 1024 * 1024

        @Test(
            "backing up and drilling a 200 MB file keeps peak memory growth under 64 MB",
            .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/clear_refs")))
        func boundedMemory() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let tree = directory.appendingPathComponent("tree")
                try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
                let big = tree.appendingPathComponent("big.bin")
                #expect(FileManager.default.createFile(atPath: big.path, contents: nil))
                #expect(truncate(big.path, off_t(Self.fileSize)) == 0)  // sparse: reads as zeros
                try Data("small".utf8).write(to: tree.appendingPathComponent("small.txt"))
                let key = try BackupFixtures.key()
                let archive = directory.appendingPathComponent("backup")

                try BackupFixtures.resetPeakMemory()
                let baseline = try BackupFixtures.residentMemory()
                let summary = try BackupWriter().write(
                    sources: [BackupSource(prefix: "files/current", directory: tree)], to: archive, encryptionKey: key)
                let writeGrowth = try BackupFixtures.peakMemory() - baseline
                #expect(summary.uncompressedBytes == UInt64(Self.fileSize + 5))
                #expect(writeGrowth < Self.allowedGrowth, "backup peak growth \(writeGrowth) bytes")

                try BackupFixtures.resetPeakMemory()
                let restoreBaseline = try BackupFixtures.residentMemory()
                let report = BackupVerifyDrill().run(
                    archive: archive, expected: summary.archive, key: key, scratchParent: directory)
                let restoreGrowth = try BackupFixtures.peakMemory() - restoreBaseline
                #expect(report.ok, "\(String(describing: report.failure)) \(report.mismatches)")
                #expect(restoreGrowth < Self.allowedGrowth, "drill peak growth \(restoreGrowth) bytes")
            }
        }
    }
}
