import CHOMArchive
import Foundation
import Testing

@Suite("Zstd")
struct ZstdTests {
    @Test(
        "one-shot compress and bounded decompress round-trip",
        arguments: [0, 1, 100_000, 1 << 20], [false, true])
    func roundTrip(count: Int, random: Bool) throws {
        let data = random ? pseudoRandomData(count: count) : compressibleData(count: count)
        let compressed = try Zstd.compress(data)
        if !random && count > 1000 { #expect(compressed.count < data.count / 10) }
        let restored = try Zstd.decompress(compressed, declaredSize: data.count, absoluteCap: data.count)
        #expect(restored == data)
    }

    @Test("streaming compressor and decompressor round-trip multi-MB data in small chunks")
    func streamingRoundTrip() throws {
        let data = pseudoRandomData(count: 1 << 20) + compressibleData(count: 3 << 20) + pseudoRandomData(count: 12345)
        let compressor = try ZstdCompressor(level: 3)
        var compressed = Data()
        var offset = 0
        while offset < data.count {
            let end = min(offset + 7_000, data.count)
            compressed += try compressor.compress(data[offset..<end])
            offset = end
        }
        compressed += try compressor.finish()

        let decompressor = try ZstdDecompressor(outputCap: data.count)
        var restored = Data()
        var largestPiece = 0
        offset = 0
        while offset < compressed.count {
            let end = min(offset + 1_000, compressed.count)
            try decompressor.decompress(compressed[offset..<end]) { piece in
                largestPiece = max(largestPiece, piece.count)
                restored += piece
            }
            offset = end
        }
        try decompressor.finish()
        #expect(restored == data)
        #expect(decompressor.totalOutput == data.count)
        #expect(largestPiece <= 256 * 1024)
    }

    @Test("decompress refuses a declared size above the absolute cap")
    func refusesDeclaredAboveCap() throws {
        let compressed = try Zstd.compress(compressibleData(count: 1000))
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(compressed, declaredSize: 1000, absoluteCap: 999)
        }
        guard case .decompressionBound = error else { Issue.record("unexpected \(String(describing: error))"); return }
    }

    @Test("decompress refuses a declared size that differs from the frame header", arguments: [999, 1001, 0])
    func refusesMismatchedDeclaredSize(declared: Int) throws {
        let compressed = try Zstd.compress(compressibleData(count: 1000))
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(compressed, declaredSize: declared, absoluteCap: 1 << 20)
        }
        #expect(error == .sizeMismatch(declared: declared, actual: 1000))
    }

    @Test("decompress refuses a streamed frame shorter than declared")
    func refusesShortStreamedFrame() throws {
        let compressor = try ZstdCompressor()
        let compressed = try compressor.compress(compressibleData(count: 5000)) + compressor.finish()
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(compressed, declaredSize: 6000, absoluteCap: 1 << 20)
        }
        #expect(error == .sizeMismatch(declared: 6000, actual: 5000))
        // The exact size is accepted.
        #expect(try Zstd.decompress(compressed, declaredSize: 5000, absoluteCap: 5000) == compressibleData(count: 5000))
    }

    @Test("decompress refuses truncated frames, garbage and trailing bytes", arguments: ["truncated", "garbage", "trailing", "empty"])
    func refusesCorruptInput(kind: String) throws {
        let data = pseudoRandomData(count: 50_000)
        let compressed = try Zstd.compress(data)
        let input: Data =
            switch kind {
            case "truncated": compressed.prefix(compressed.count - 100)
            case "garbage": pseudoRandomData(count: 4096, seed: 42)
            case "trailing": compressed + Data([1, 2, 3])
            default: Data()
            }
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(input, declaredSize: data.count, absoluteCap: 1 << 20)
        }
        guard case .corrupt(format: "zstd", _) = error else {
            Issue.record("expected corrupt zstd, got \(String(describing: error))")
            return
        }
    }

    @Test("a 256 MiB zero bomb whose header records its size is refused against a 1 MiB declaration")
    func refusesBombWithContentSize() throws {
        let bomb = Bombs.zstdWithContentSize
        #expect(bomb.count < 64 * 1024)
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(bomb, declaredSize: 1 << 20, absoluteCap: 1 << 30)
        }
        #expect(error == .sizeMismatch(declared: 1 << 20, actual: Bombs.zeroCount))
    }

    @Test("a streamed 256 MiB zero bomb is cut off by the streaming decoder at the declared 1 MiB")
    func refusesStreamedBomb() throws {
        let bomb = Bombs.zstdStreamed
        #expect(bomb.count < 64 * 1024)
        let error = #expect(throws: ArchiveError.self) {
            try Zstd.decompress(bomb, declaredSize: 1 << 20, absoluteCap: 1 << 30)
        }
        guard case .decompressionBound = error else { Issue.record("unexpected \(String(describing: error))"); return }
    }

    @Test("the streaming decompressor throws at its output cap and hands out no more than the cap")
    func streamingCap() throws {
        let decompressor = try ZstdDecompressor(outputCap: 1 << 20)
        var received = 0
        let error = #expect(throws: ArchiveError.self) {
            try decompressor.decompress(Bombs.zstdStreamed) { received += $0.count }
        }
        guard case .decompressionBound = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(received <= 1 << 20)
    }

    @Test("the streaming decompressor's finish refuses a truncated stream")
    func streamingTruncated() throws {
        let compressed = try Zstd.compress(pseudoRandomData(count: 100_000))
        let decompressor = try ZstdDecompressor(outputCap: 1 << 20)
        _ = try decompressor.decompress(compressed.prefix(compressed.count / 2))
        #expect(throws: ArchiveError.self) { try decompressor.finish() }
    }

    @Test("the streaming decompressor accepts concatenated frames")
    func concatenatedFrames() throws {
        let first = compressibleData(count: 10_000)
        let second = pseudoRandomData(count: 10_000)
        let input = try Zstd.compress(first) + Zstd.compress(second)
        let decompressor = try ZstdDecompressor(outputCap: 20_000)
        let output = try decompressor.decompress(input)
        try decompressor.finish()
        #expect(output == first + second)
    }
}
