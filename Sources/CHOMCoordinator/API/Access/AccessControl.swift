import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// The one place every route's policy is checked: authentication, the token's abilities,
/// and the audience of the action. Routes that name an organization or tenant then call
/// `Principal.require` for that resource (404 for foreign ids, 403 for a weak role).
struct AccessControl: Sendable {
    let authenticator: Authenticator
    let clock: any WallClock

    func authorize(_ action: APIAction, _ request: Request, _ context: APIRequestContext) async throws -> Caller {
        let now = clock.now()
        let requestID = Self.requestID(request)
        let rule = Policy.rule(for: action)
        guard rule.audience != .anyone else {
            return Caller(principal: nil, requestID: requestID, sourceAddress: context.sourceAddress, now: now)
        }
        let principal = try await authenticator.authenticate(request, now: now)
        if let ability = rule.ability, !TokenPolicy.allows(Authenticator.record(principal.token), ability) {
            throw CHOMError(.forbidden, "the token does not carry the \(ability.rawValue) ability")
        }
        switch rule.audience {
        case .anyone, .authenticated:
            break
        case .session:
            guard principal.token.kind == "session" else {
                throw CHOMError(.forbidden, "this needs a session token from chom login, not a personal access token")
            }
        case .platformOperator:
            guard principal.isOperator else { throw CHOMError(.forbidden, "this is for platform operators") }
        case .member(let minimum):
            guard principal.hasAnyRole(atLeast: minimum) else {
                throw CHOMError(.forbidden, "this needs the \(minimum.rawValue) role or stronger")
            }
        }
        return Caller(principal: principal, requestID: requestID, sourceAddress: context.sourceAddress, now: now)
    }

    static let requestIDHeader = HTTPFields.Element.Name("X-Request-Id")!

    private static func isRequestIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default: false
        }
    }

    /// The client's X-Request-Id when it is short and plain, else a new one.
    static func requestID(_ request: Request) -> String {
        if let given = request.headers[requestIDHeader], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy(isRequestIDByte)
        {
            return given
        }
        return UUID().uuidString.lowercased()
    }
}
