import CHOMAgent
import Foundation
import Testing

@Suite("Disk usage walk")
struct DiskUsageTests {
    @Test("counts allocated bytes, does not follow symlinks, counts hard links once")
    func walk() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let site = directory.appendingPathComponent("site")
            let outside = directory.appendingPathComponent("outside")
            try FileManager.default.createDirectory(at: site.appendingPathComponent("releases/r1"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try Data(repeating: 1, count: 100 * 1024).write(to: site.appendingPathComponent("releases/r1/big"))
            let base = try #require(DiskUsage.measure(site.path))
            #expect(base.bytes >= 100 * 1024)
            #expect(!base.truncated)

            // A large file reached only through a symlink is not counted.
            try Data(repeating: 2, count: 1024 * 1024).write(to: outside.appendingPathComponent("huge"))
            try FileManager.default.createSymbolicLink(atPath: site.appendingPathComponent("current").path, withDestinationPath: outside.path)
            // A second hard link to the same file adds nothing.
            try FileManager.default.linkItem(
                at: site.appendingPathComponent("releases/r1/big"), to: site.appendingPathComponent("releases/big-again"))
            let after = try #require(DiskUsage.measure(site.path))
            #expect(after.bytes < base.bytes + 64 * 1024)
            #expect(after.entries == base.entries + 2)

            #expect(DiskUsage.measure(directory.appendingPathComponent("missing").path) == nil)
            let truncated = try #require(DiskUsage.measure(site.path, maxEntries: 2))
            #expect(truncated.truncated)
            #expect(truncated.entries == 2)
        }
    }
}
