// PKIError.swift
// The one error type thrown by the CHOM PKI. Messages name files, hosts and
// reasons but never carry key material, PEM bodies or raw certificate bytes.

/// Errors thrown by the fleet CA, CSR handling and private-file storage.
package enum PKIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A PEM document could not be parsed; `what` names the kind of document (never its content).
    case invalidPEM(what: String)
    /// A certificate or key could not be serialized.
    case serializationFailed(what: String)
    /// The CA private key does not belong to the CA certificate.
    case caKeyMismatch
    /// The certificate offered as the fleet CA is not a CA certificate.
    case notACertificateAuthority
    /// The CSR's self-signature does not verify against the public key it carries.
    case csrSignatureInvalid
    /// A key of a type the fleet does not issue for (only ECDSA P-256 is accepted).
    case unsupportedKeyType
    /// A validity period that is zero, negative or not finite.
    case invalidValidity(seconds: Double)
    /// A server certificate was requested without any hostname or IP address.
    case noServerNames
    /// A hostname that is empty or contains characters not allowed in a DNS name.
    case invalidHostname(String)
    /// A string that is neither an IPv4 nor an IPv6 literal.
    case invalidIPAddress(String)
    /// swift-certificates refused to build or sign a certificate or CSR.
    case signingFailed(what: String, reason: String)
    /// A file-system operation failed. `errno` is the POSIX error number when known.
    case fileSystem(operation: String, path: String, errno: Int32?)
    /// Only one of `ca.pem` / `ca-key.pem` exists: refuse to guess and never overwrite a lone key.
    case incompleteCAStore(directory: String, missing: String)

    package var description: String {
        switch self {
        case .invalidPEM(let what):
            return "could not parse \(what) PEM document"
        case .serializationFailed(let what):
            return "could not serialize \(what)"
        case .caKeyMismatch:
            return "the CA private key does not match the CA certificate's public key"
        case .notACertificateAuthority:
            return "the certificate is not a certificate authority (basicConstraints CA flag missing)"
        case .csrSignatureInvalid:
            return "the certificate signing request's signature does not verify; request refused"
        case .unsupportedKeyType:
            return "unsupported key type: only ECDSA P-256 keys are accepted"
        case .invalidValidity(let seconds):
            return "invalid validity period of \(seconds) seconds: it must be positive"
        case .noServerNames:
            return "a server certificate needs at least one hostname or IP address"
        case .invalidHostname(let name):
            return "invalid hostname '\(name)'"
        case .invalidIPAddress(let address):
            return "'\(address)' is not an IPv4 or IPv6 address literal"
        case .signingFailed(let what, let reason):
            return "could not create \(what): \(reason)"
        case .fileSystem(let operation, let path, let errno):
            if let errno {
                return "\(operation) failed for \(path): \(POSIXErrorText.describe(errno))"
            }
            return "\(operation) failed for \(path)"
        case .incompleteCAStore(let directory, let missing):
            return "CA store \(directory) is incomplete: \(missing) is missing; "
                + "restore it from backup or move the directory aside (refusing to overwrite an existing key)"
        }
    }
}
