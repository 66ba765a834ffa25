import CZstd
package import Foundation

/// Streaming zstd decompression with a cap on the total output: feed compressed chunks, receive
/// decompressed pieces of at most ~128 KiB, and `finish()` to check the stream ended on a frame
/// boundary. Concatenated frames are accepted, as the `zstd` tool does. Crossing `outputCap`
/// throws `ArchiveError.decompressionBound` before the excess is handed out, so a bomb costs only
/// the time to decode `outputCap` bytes.
package final class ZstdDecompressor: StreamDecompressor {
    package let outputCap: Int
    package private(set) var totalOutput = 0
    private let stream: DecompressionStream
    private var outputBuffer: [UInt8]
    private var sawInput = false
    private var midFrame = false

    package init(outputCap: Int) throws {
        guard outputCap >= 0 else { throw ArchiveError.invalidArgument("output cap must not be negative") }
        self.outputCap = outputCap
        self.stream = try DecompressionStream()
        self.outputBuffer = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    /// Decompresses `chunk`, handing each decompressed piece to `sink`.
    package func decompress(_ chunk: Data, into sink: (Data) throws -> Void) throws {
        guard !chunk.isEmpty else { return }
        sawInput = true
        try Zstd.withNonNullBytes(chunk) { src, count in
            var input = ZSTD_inBuffer(src: src, size: count, pos: 0)
            while true {
                let (result, produced, full) = try outputBuffer.withUnsafeMutableBytes { out -> (Int, Data, Bool) in
                    var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let result = try stream.step(&output, &input)
                    return (result, Data(out[0..<output.pos]), output.pos == output.size)
                }
                midFrame = result != 0
                if !produced.isEmpty {
                    guard produced.count <= outputCap - totalOutput else {
                        throw ArchiveError.decompressionBound(
                            reason: "zstd stream decompresses past the cap of \(outputCap) bytes")
                    }
                    totalOutput += produced.count
                    try sink(produced)
                }
                if input.pos == input.size && !full { return }
            }
        }
    }

    /// Decompresses `chunk` and returns the output (bounded by the cap).
    package func decompress(_ chunk: Data) throws -> Data {
        var collected = Data()
        try decompress(chunk) { collected.append($0) }
        return collected
    }

    /// Throws unless the input so far was one or more complete frames.
    package func finish() throws {
        if !sawInput { throw ArchiveError.corrupt(format: "zstd", reason: "empty input") }
        if midFrame { throw ArchiveError.corrupt(format: "zstd", reason: "truncated frame") }
    }
}

/// What `SafeExtractor` needs from a decompressor.
package protocol StreamDecompressor: AnyObject {
    var totalOutput: Int { get }
    func decompress(_ chunk: Data, into sink: (Data) throws -> Void) throws
    func finish() throws
}
