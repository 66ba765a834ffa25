import CHOMArchive
import CHOMCore

/// Turns whatever a backup step threw into a `CHOMError`, keeping the original as `underlying`.
enum BackupErrors {
    static func wrap(_ error: any Error, _ context: String) -> CHOMError {
        if let error = error as? CHOMError { return error }
        if let error = error as? ArchiveError {
            let code: CHOMError.Code
            switch error {
            case .unsafePath, .unsupportedEntry, .limitExceeded, .decompressionBound, .destinationNotEmpty: code = .refused
            case .corrupt, .sizeMismatch: code = .integrity
            case .io: code = .unavailable
            case .compressionFailed, .invalidArgument: code = .internal
            }
            return CHOMError(code, "\(context): \(error)", underlying: error)
        }
        return CHOMError(.internal, "\(context) failed: \(error)")
    }
}
