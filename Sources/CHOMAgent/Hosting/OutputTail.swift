/// The last `limit` bytes of a stream: a build's output can be gigabytes, its log tail is not.
struct OutputTail: Sendable {
    let limit: Int
    private var bytes: [UInt8] = []
    /// Bytes that fell off the front.
    private(set) var dropped = 0

    init(limit: Int) {
        self.limit = max(0, limit)
        bytes.reserveCapacity(min(self.limit, 64 * 1024))
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        // Trim in batches (at twice the limit) so appends stay amortised O(1).
        if bytes.count > 2 * limit || (limit == 0 && !bytes.isEmpty) { trim() }
    }

    /// The kept bytes, at most `limit`.
    mutating func finish() -> [UInt8] {
        trim()
        return bytes
    }

    private mutating func trim() {
        let excess = bytes.count - limit
        guard excess > 0 else { return }
        bytes.removeFirst(excess)
        dropped += excess
    }
}
