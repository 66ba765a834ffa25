import CZstd
package import Foundation

/// Streaming zstd compression: feed chunks, collect compressed chunks, then `finish()`.
/// Memory stays bounded by the codec's window whatever the total size. Frames carry a checksum;
/// their content size is not recorded (it is unknown while streaming).
package final class ZstdCompressor {
    private let context: OpaquePointer
    private var outputBuffer: [UInt8]

    package init(level: Int32 = 3) throws {
        guard let context = ZSTD_createCCtx() else {
            throw ArchiveError.compressionFailed(reason: "cannot allocate a zstd encoder")
        }
        self.context = context
        self.outputBuffer = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        for (parameter, value) in [
            (ZSTD_c_compressionLevel, Zstd.clampLevel(level)),
            (ZSTD_c_checksumFlag, 1),
        ] {
            let result = ZSTD_CCtx_setParameter(context, parameter, value)
            if ZSTD_isError(result) != 0 {
                ZSTD_freeCCtx(context)
                throw ArchiveError.compressionFailed(reason: Zstd.errorName(result))
            }
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `chunk`, handing each compressed piece to `sink` as it is produced.
    package func compress(_ chunk: Data, into sink: (Data) throws -> Void) throws {
        try run(chunk, directive: ZSTD_e_continue, sink: sink)
    }

    /// Compresses `chunk` and returns whatever compressed bytes are ready (possibly none).
    package func compress(_ chunk: Data) throws -> Data {
        var collected = Data()
        try compress(chunk) { collected.append($0) }
        return collected
    }

    /// Ends the frame, handing the remaining compressed bytes to `sink`. The compressor can then
    /// start a new frame.
    package func finish(into sink: (Data) throws -> Void) throws {
        try run(Data(), directive: ZSTD_e_end, sink: sink)
    }

    /// Ends the frame and returns the remaining compressed bytes.
    package func finish() throws -> Data {
        var collected = Data()
        try finish { collected.append($0) }
        return collected
    }

    private func run(_ chunk: Data, directive: ZSTD_EndDirective, sink: (Data) throws -> Void) throws {
        try Zstd.withNonNullBytes(chunk) { src, count in
            var input = ZSTD_inBuffer(src: src, size: count, pos: 0)
            while true {
                let (remaining, produced) = try outputBuffer.withUnsafeMutableBytes { out -> (Int, Data) in
                    var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let result = ZSTD_compressStream2(context, &output, &input, directive)
                    if ZSTD_isError(result) != 0 {
                        throw ArchiveError.compressionFailed(reason: Zstd.errorName(result))
                    }
                    return (result, Data(out[0..<output.pos]))
                }
                if !produced.isEmpty { try sink(produced) }
                let done = directive == ZSTD_e_continue ? input.pos == input.size : remaining == 0
                if done { return }
            }
        }
    }
}
