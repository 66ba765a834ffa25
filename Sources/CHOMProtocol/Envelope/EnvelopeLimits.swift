/// Size and time limits applied by `EnvelopeOpener`, before any expensive work.
package struct EnvelopeLimits: Sendable, Equatable {
    /// Header + payload + signature.
    package var maxEnvelopeBytes: Int = 1 << 20
    package var maxHeaderBytes: Int = 4096
    /// The absolute cap on a decompressed task, whatever the header declares.
    package var maxUncompressedBytes: Int = 4 << 20
    /// Clock-skew allowance for issued-at and expires-at, in seconds.
    package var clockSkewSeconds: Double = 60

    package init() {}
}
