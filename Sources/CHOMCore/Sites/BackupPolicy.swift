/// A site's backup schedule: how often, how many to keep (by age bucket) and whether archives are
/// encrypted with the tenant's key. The agent applies the rule when it prunes; the coordinator
/// checks the numbers.
package struct BackupPolicy: Sendable, Equatable {
    package var everyHours: Int
    package var keepLast: Int
    package var keepDaily: Int
    package var keepWeekly: Int
    package var keepMonthly: Int
    package var encrypt: Bool

    package static let everyHoursRange = 1...8760
    package static let keepRange = 0...1000

    package init(
        everyHours: Int, keepLast: Int, keepDaily: Int, keepWeekly: Int, keepMonthly: Int, encrypt: Bool
    ) throws(CHOMError) {
        guard Self.everyHoursRange.contains(everyHours) else {
            throw CHOMError(.invalidInput, "everyHours must be from 1 to 8760")
        }
        for (name, value) in [
            ("keepLast", keepLast), ("keepDaily", keepDaily), ("keepWeekly", keepWeekly), ("keepMonthly", keepMonthly),
        ] where !Self.keepRange.contains(value) {
            throw CHOMError(.invalidInput, "\(name) must be from 0 to 1000")
        }
        guard keepLast + keepDaily + keepWeekly + keepMonthly > 0 else {
            throw CHOMError(.invalidInput, "a schedule must keep at least one backup")
        }
        self.everyHours = everyHours
        self.keepLast = keepLast
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.encrypt = encrypt
    }
}
