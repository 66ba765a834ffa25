import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Testing

extension BackupTests {
    @Suite("Local directory backup target")
    struct LocalTarget {
        @Test("put, get, list and delete objects by key")
        func lifecycle() async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let target: any BackupTarget = LocalDirectoryTarget(root: directory.appendingPathComponent("store"))
                let file = directory.appendingPathComponent("archive")
                let content = BackupFixtures.noise(2 * 1024 * 1024 + 5)
                try content.write(to: file)

                try await target.put(file: file, key: "site-1/2024/b1.tar.zst")
                try await target.put(file: file, key: "site-1/2024/b2.tar.zst")
                try Data("x".utf8).write(to: file.appendingPathExtension("small"))
                try await target.put(file: file.appendingPathExtension("small"), key: "site-2/b1")
                try await target.put(file: file.appendingPathExtension("small"), key: "site-1/2024/b2.tar.zst")  // replaces

                let all = try await target.list(prefix: "")
                #expect(all.map(\.key) == ["site-1/2024/b1.tar.zst", "site-1/2024/b2.tar.zst", "site-2/b1"])
                #expect(all.map(\.size) == [UInt64(content.count), 1, 1])
                #expect(try await target.list(prefix: "site-1/").map(\.key) == ["site-1/2024/b1.tar.zst", "site-1/2024/b2.tar.zst"])
                #expect(try await target.list(prefix: "site-1/2024/b1").map(\.key) == ["site-1/2024/b1.tar.zst"])
                #expect(try await target.list(prefix: "site").count == 3)
                #expect(try await target.list(prefix: "nothing/here").isEmpty)

                let fetched = directory.appendingPathComponent("fetched")
                try await target.get(key: "site-1/2024/b1.tar.zst", to: fetched)
                #expect(try Data(contentsOf: fetched) == content)
                await #expect(throws: CHOMError.self) { try await target.get(key: "site-1/2024/b1.tar.zst", to: fetched) }
                let missing = try await #require(throws: CHOMError.self) {
                    try await target.get(key: "site-9/none", to: directory.appendingPathComponent("none"))
                }
                #expect(missing.code == .notFound)

                try await target.delete(key: "site-1/2024/b1.tar.zst")
                try await target.delete(key: "site-1/2024/b1.tar.zst")  // already gone: fine
                #expect(try await target.list(prefix: "site-1").map(\.key) == ["site-1/2024/b2.tar.zst"])
                // No temporary files are left behind.
                let names = try FileManager.default.subpathsOfDirectory(atPath: directory.path)
                #expect(!names.contains { $0.contains(BackupTargetKey.partialFilePrefix) })
            }
        }

        @Test("keys that could leave the directory or are malformed are refused", arguments: [
            "", "/etc/passwd", "../escape", "a/../../escape", "a/./b", "a//b", "a/", ".", "..", "a\\b", "a\u{0}b",
            "line\nbreak", ".chom-partial-x", "dir/.chom-partial-y", String(repeating: "k", count: 1025),
        ])
        func badKeys(key: String) async throws {
            try await BackupFixtures.withTemporaryDirectory { directory in
                let target = LocalDirectoryTarget(root: directory.appendingPathComponent("store"))
                let file = directory.appendingPathComponent("archive")
                try Data("x".utf8).write(to: file)
                await #expect(throws: CHOMError.self) { try await target.put(file: file, key: key) }
                await #expect(throws: CHOMError.self) { try await target.get(key: key, to: directory.appendingPathComponent("out")) }
                await #expect(throws: CHOMError.self) { try await target.delete(key: key) }
                #expect(try BackupFixtures.contents(of: directory) == ["archive"])
            }
        }

        @Test("list refuses unsafe prefixes")
        func badPrefixes() async throws {
            let target = LocalDirectoryTarget(root: URL(fileURLWithPath: "/nonexistent-chom"))
            for prefix in ["/abs", "../up", "a/../b", "a//"] {
                await #expect(throws: CHOMError.self) { try await target.list(prefix: prefix) }
            }
            #expect(try await target.list(prefix: "a/").isEmpty)
        }
    }
}
