// PinError.swift
// Why an agent refused the server on first contact (CA pinning).

package import Foundation

package enum PinError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The pin is not 64 hex digits (colons and case are tolerated).
    case malformedPin
    /// The server presented no certificate at all.
    case emptyChain
    /// No certificate in the presented chain has the pinned SHA-256.
    case pinnedCANotPresented(pinnedSHA256: String)
    /// The certificate matching the pin is not a CA certificate.
    case pinnedCertificateNotCA
    /// The leaf was not issued by the pinned CA.
    case leafNotIssuedByPinnedCA
    /// The leaf's validity period ended before `now`.
    case leafExpired(notValidAfter: Date)
    /// The leaf's validity period starts after `now`.
    case leafNotYetValid(notValidBefore: Date)
    /// The pinned CA certificate itself is outside its validity period.
    case pinnedCAOutsideValidity(String)
    /// The leaf does not carry the serverAuth extended key usage (e.g. it is an agent client certificate).
    case leafNotServerCertificate
    /// The leaf is valid but does not name the host or IP that was dialled.
    case nameMismatch(expected: String)
    /// The Verifier refused the chain for another reason.
    case chainRejected(reason: String)

    package var description: String {
        switch self {
        case .malformedPin:
            return "the pinned CA fingerprint must be 64 hexadecimal digits (SHA-256)"
        case .emptyChain:
            return "the server presented no certificate"
        case .pinnedCANotPresented(let pin):
            return "no certificate presented by the server has the pinned SHA-256 \(pin); "
                + "wrong --ca-sha256 or not the CHOM coordinator"
        case .pinnedCertificateNotCA:
            return "the certificate matching the pinned SHA-256 is not a CA certificate"
        case .leafNotIssuedByPinnedCA:
            return "the server certificate was not issued by the pinned CA"
        case .leafExpired(let notValidAfter):
            return "the server certificate expired at \(notValidAfter.formatted(.iso8601))"
        case .leafNotYetValid(let notValidBefore):
            return "the server certificate is not valid before \(notValidBefore.formatted(.iso8601)); check the clock"
        case .pinnedCAOutsideValidity(let detail):
            return "the pinned CA is not usable: \(detail)"
        case .leafNotServerCertificate:
            return "the server certificate lacks the serverAuth extended key usage"
        case .nameMismatch(let expected):
            return "the server certificate is not valid for \(expected)"
        case .chainRejected(let reason):
            return "the server certificate chain was rejected: \(reason)"
        }
    }
}
