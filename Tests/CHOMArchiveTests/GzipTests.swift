import CHOMArchive
import Foundation
import Testing

@Suite("Gzip")
struct GzipTests {
    /// Compresses `data` with /bin/gzip and returns the .gz bytes.
    private func gzip(_ data: Data, in sandbox: Sandbox, name: String = "input") throws -> Data {
        try FileManager.default.createDirectory(at: sandbox.scratch, withIntermediateDirectories: true)
        let file = sandbox.scratch.appendingPathComponent(name)
        try data.write(to: file)
        try Shell.run("/bin/gzip", ["-6", "-n", file.path])
        return try Data(contentsOf: file.appendingPathExtension("gz"))
    }

    private func decompress(_ input: Data, cap: Int, chunk: Int) throws -> Data {
        let decompressor = try GzipDecompressor(outputCap: cap)
        var output = Data()
        var offset = input.startIndex
        while offset < input.endIndex {
            let end = min(offset + chunk, input.endIndex)
            try decompressor.decompress(input[offset..<end]) { output += $0 }
            offset = end
        }
        try decompressor.finish()
        return output
    }

    @Test("decompresses what /bin/gzip made, fed in chunks of any size", arguments: [1, 999, 1 << 20])
    func decompressesGzipOutput(chunk: Int) throws {
        try Sandbox.with { sandbox in
            let data = compressibleData(count: 300_000) + pseudoRandomData(count: 200_000)
            let compressed = try gzip(data, in: sandbox)
            #expect(compressed.prefix(2) == Data([0x1F, 0x8B]))
            #expect(try decompress(compressed, cap: data.count, chunk: chunk) == data)
        }
    }

    @Test("accepts concatenated gzip members, as gzip -d does")
    func concatenatedMembers() throws {
        try Sandbox.with { sandbox in
            let first = compressibleData(count: 70_000)
            let second = pseudoRandomData(count: 30_000)
            let input = try gzip(first, in: sandbox, name: "a") + gzip(second, in: sandbox, name: "b")
            #expect(try decompress(input, cap: 100_000, chunk: 4096) == first + second)
        }
    }

    @Test("refuses output beyond the cap, handing out no more than the cap")
    func refusesOversized() throws {
        try Sandbox.with { sandbox in
            let compressed = try gzip(Data(count: 8 << 20), in: sandbox)
            let decompressor = try GzipDecompressor(outputCap: 1 << 20)
            var received = 0
            let error = #expect(throws: ArchiveError.self) {
                try decompressor.decompress(compressed) { received += $0.count }
            }
            guard case .decompressionBound = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(received <= 1 << 20)
        }
    }

    @Test("refuses a truncated stream and garbage")
    func refusesCorrupt() throws {
        try Sandbox.with { sandbox in
            let compressed = try gzip(pseudoRandomData(count: 50_000), in: sandbox)
            #expect(throws: ArchiveError.self) {
                _ = try decompress(compressed.prefix(compressed.count - 10), cap: 1 << 20, chunk: 4096)
            }
            let error = #expect(throws: ArchiveError.self) {
                _ = try decompress(pseudoRandomData(count: 1000), cap: 1 << 20, chunk: 4096)
            }
            guard case .corrupt(format: "gzip", _) = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
        }
    }
}
