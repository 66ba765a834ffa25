import CZlib
package import Foundation

/// Streaming gzip (RFC 1952) decompression through zlib's inflate, with a cap on the total output,
/// in the style of `ZstdDecompressor`. Concatenated gzip members are accepted, as `gzip -d` does.
package final class GzipDecompressor: StreamDecompressor {
    package let outputCap: Int
    package private(set) var totalOutput = 0
    private let stream: UnsafeMutablePointer<z_stream>
    private var outputBuffer: [UInt8]
    private var sawInput = false
    private var midMember = false
    private var memberEnded = false

    /// 15 window bits plus 16: expect a gzip header and trailer.
    private static let windowBits: Int32 = 15 + 16
    private static let outputChunk = 128 * 1024
    private static let maxInputPiece = 16 * 1024 * 1024

    package init(outputCap: Int) throws {
        guard outputCap >= 0 else { throw ArchiveError.invalidArgument("output cap must not be negative") }
        self.outputCap = outputCap
        self.outputBuffer = [UInt8](repeating: 0, count: Self.outputChunk)
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = inflateInit2_(stream, Self.windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        if result != Z_OK {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ArchiveError.compressionFailed(reason: "cannot initialise zlib inflate (code \(result))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decompresses `chunk`, handing each decompressed piece to `sink`.
    package func decompress(_ chunk: Data, into sink: (Data) throws -> Void) throws {
        guard !chunk.isEmpty else { return }
        sawInput = true
        var offset = chunk.startIndex
        while offset < chunk.endIndex {
            let end = min(offset + Self.maxInputPiece, chunk.endIndex)
            try inflatePiece(chunk[offset..<end], sink: sink)
            offset = end
        }
    }

    /// Decompresses `chunk` and returns the output (bounded by the cap).
    package func decompress(_ chunk: Data) throws -> Data {
        var collected = Data()
        try decompress(chunk) { collected.append($0) }
        return collected
    }

    /// Throws unless the input so far was one or more complete gzip members.
    package func finish() throws {
        if !sawInput { throw ArchiveError.corrupt(format: "gzip", reason: "empty input") }
        if midMember { throw ArchiveError.corrupt(format: "gzip", reason: "truncated stream") }
    }

    private func inflatePiece(_ piece: Data, sink: (Data) throws -> Void) throws {
        try piece.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(raw.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            while true {
                if memberEnded {
                    // More input after a complete member: it must be another gzip member.
                    if inflateReset(stream) != Z_OK {
                        throw ArchiveError.corrupt(format: "gzip", reason: "cannot reset the decoder")
                    }
                    memberEnded = false
                }
                midMember = true
                let (result, produced, full) = outputBuffer.withUnsafeMutableBytes { out -> (Int32, Data, Bool) in
                    stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(out.count)
                    let result = inflate(stream, Z_NO_FLUSH)
                    let count = out.count - Int(stream.pointee.avail_out)
                    stream.pointee.next_out = nil
                    return (result, Data(out[0..<count]), stream.pointee.avail_out == 0)
                }
                switch result {
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_STREAM_END:
                    memberEnded = true
                    midMember = false
                case Z_NEED_DICT:
                    throw ArchiveError.corrupt(format: "gzip", reason: "stream needs a preset dictionary")
                case Z_MEM_ERROR:
                    throw ArchiveError.compressionFailed(reason: "zlib ran out of memory")
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "code \(result)"
                    throw ArchiveError.corrupt(format: "gzip", reason: message)
                }
                if !produced.isEmpty {
                    guard produced.count <= outputCap - totalOutput else {
                        throw ArchiveError.decompressionBound(
                            reason: "gzip stream decompresses past the cap of \(outputCap) bytes")
                    }
                    totalOutput += produced.count
                    try sink(produced)
                }
                let inputLeft = stream.pointee.avail_in > 0
                if !inputLeft && (!full || memberEnded) { return }
                if result == Z_BUF_ERROR && !full { return }
            }
        }
    }
}
