package import CHOMCore

extension SiteSpec {
    /// ``checkPath(_:_:)`` for a path that is not a spec field, as a CHOMError naming `what`.
    static func checkPath(_ path: String, _ field: SiteSpecError.Field, as what: String) throws(CHOMError) {
        do {
            try checkPath(path, field)
        } catch {
            throw CHOMError(.invalidInput, "\(what): \(error.reason)")
        }
    }
}
