import Foundation

/// Hand-built zstd frames (RFC 8878) made only of raw and RLE blocks: byte-for-byte the same with
/// any libzstd, and able to leave the content size out of the frame header, as a streaming
/// compressor (or an attacker) may.
enum ZstdFrame {
    private static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
    /// Window_Descriptor 0x38: exponent 7 → a 2^17 = 128 KiB window, which is also the largest block.
    private static let windowDescriptor: UInt8 = 0x38
    static let maxBlockSize = 128 * 1024

    /// `bytes` stored in raw blocks.
    static func raw(_ bytes: Data, recordContentSize: Bool = true) -> Data {
        var frame = header(contentSize: recordContentSize ? bytes.count : nil)
        var offset = 0
        repeat {
            let size = min(maxBlockSize, bytes.count - offset)
            let last = offset + size == bytes.count
            frame += blockHeader(last: last, type: 0, size: size)
            frame += bytes[bytes.startIndex + offset..<bytes.startIndex + offset + size]
            offset += size
        } while offset < bytes.count
        return frame
    }

    /// `count` copies of `byte` in RLE blocks of 4 bytes each: 64 MiB fit in about 2 KiB.
    static func rle(byte: UInt8, count: Int, recordContentSize: Bool = false) -> Data {
        var frame = header(contentSize: recordContentSize ? count : nil)
        var remaining = count
        repeat {
            let size = min(maxBlockSize, remaining)
            remaining -= size
            frame += blockHeader(last: remaining == 0, type: 1, size: size)
            frame.append(byte)
        } while remaining > 0
        return frame
    }

    /// Magic, Frame_Header_Descriptor (content-size flag 3 → an 8-byte size, or 0 → none), Window_Descriptor.
    private static func header(contentSize: Int?) -> Data {
        var bytes = Data(magic)
        guard let contentSize else {
            bytes += [0x00, windowDescriptor]
            return bytes
        }
        bytes += [0xC0, windowDescriptor]
        withUnsafeBytes(of: UInt64(contentSize).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// 3 bytes little-endian: Last_Block (bit 0), Block_Type (bits 1–2), Block_Size (bits 3–23).
    private static func blockHeader(last: Bool, type: UInt32, size: Int) -> [UInt8] {
        let value = (last ? 1 : 0) | type << 1 | UInt32(size) << 3
        return [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF)]
    }
}

/// SplitMix64: a small, seeded, deterministic generator for reproducible mutations.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
