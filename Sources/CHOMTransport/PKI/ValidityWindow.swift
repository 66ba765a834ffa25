// ValidityWindow.swift
// Clear "expired" / "not yet valid" sentences for rejection messages.

import Foundation
import X509

enum ValidityWindow {
    /// nil when `certificate` is valid at `now`, else a sentence naming the problem.
    static func problem(with certificate: Certificate, at now: Date, role: String) -> String? {
        if now > certificate.notValidAfter {
            return "\(role) expired at \(certificate.notValidAfter.formatted(.iso8601))"
        }
        if now < certificate.notValidBefore {
            return "\(role) is not valid before \(certificate.notValidBefore.formatted(.iso8601))"
        }
        return nil
    }
}
