import CHOMAPI
import Foundation
import Testing

@Suite("Identity API types on the wire")
struct IdentityTypesTests {
    private let created = Date(timeIntervalSince1970: 1_795_721_400)  // 2026-11-26T19:30:00Z

    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try APIJSON.decoder().decode(T.self, from: Data(json.utf8))
    }

    private func encode(_ value: some Encodable) throws -> String {
        String(decoding: try APIJSON.encoder().encode(value), as: UTF8.self)
    }

    @Test("an authenticated login answer decodes with its token and token info")
    func loginAuthenticated() throws {
        let response = try decode(
            LoginResponse.self,
            #"""
            {"status":"authenticated","token":"chom_abc","tokenInfo":{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "kind":"session","name":"login","createdAt":"2026-11-26T19:30:00Z","expiresAt":"2026-11-27T19:30:00Z"}}
            """#)
        #expect(response.status == .authenticated)
        #expect(response.token == "chom_abc")
        #expect(response.tokenInfo?.kind == "session")
        #expect(response.tokenInfo?.abilities == nil)
        #expect(response.tokenInfo?.expiresAt == created.addingTimeInterval(86_400))
        #expect(response.challenge == nil)
    }

    @Test("a two-factor login answer decodes with its challenge and no token")
    func loginTwoFactor() throws {
        let response = try decode(
            LoginResponse.self,
            #"{"status":"two_factor_required","challenge":"ch_1","challengeExpiresAt":"2026-11-26T19:30:00Z"}"#)
        #expect(response == .twoFactorRequired(challenge: "ch_1", expiresAt: created))
        #expect(response.token == nil && response.tokenInfo == nil)
    }

    @Test("an unknown login status is a decoding error")
    func loginUnknownStatus() {
        #expect(throws: DecodingError.self) { try decode(LoginResponse.self, #"{"status":"maybe"}"#) }
    }

    @Test("absent optionals are left out of the JSON, never null, and keys are sorted")
    func encodingOmitsNil() throws {
        let json = try encode(LoginResponse.twoFactorRequired(challenge: "ch_1", expiresAt: created))
        #expect(json == #"{"challenge":"ch_1","challengeExpiresAt":"2026-11-26T19:30:00Z","status":"two_factor_required"}"#)
        #expect(try encode(UpdateMemberRequest(role: "admin")) == #"{"role":"admin"}"#)
        #expect(try encode(UpdateMemberRequest(tenantIds: [])) == #"{"tenantIds":[]}"#)
    }

    @Test("a list without nextCursor is the last page, and nextCursor is only written when there is one")
    func listCursor() throws {
        let last = try decode(ListResponse<OrganizationResponse>.self, #"{"items":[]}"#)
        #expect(last.nextCursor == nil)
        let more = try decode(ListResponse<OrganizationResponse>.self, #"{"items":[],"nextCursor":"b3Jn"}"#)
        #expect(more.nextCursor == "b3Jn")
        #expect(try encode(ListResponse<OrganizationResponse>(items: [])) == #"{"items":[]}"#)
        #expect(try encode(ListResponse<OrganizationResponse>(items: [], nextCursor: "b3Jn"))
            == #"{"items":[],"nextCursor":"b3Jn"}"#)
    }

    @Test("a site answer without tenantId does not decode")
    func siteNeedsTenant() throws {
        let site = #"""
            {"id":"s","domain":"a.test","state":"pending","createdAt":"2026-11-26T19:30:00Z","updatedAt":"2026-11-26T19:30:00Z"
            """#
        #expect(throws: DecodingError.self) { try decode(SiteResponse.self, site + "}") }
        #expect(try decode(SiteResponse.self, site + #","tenantId":"t"}"#).tenantId == "t")
    }

    @Test("an audit entry round-trips with sorted keys, a 64-bit sequence kept exact")
    func auditEntryRoundTrip() throws {
        let entry = AuditEntryResponse(
            sequence: 9_007_199_254_740_993, time: created, actor: "user:u1", organizationId: "o1", tenantId: nil,
            action: "member.update", target: "user:u2", requestId: "r1", sourceAddress: "127.0.0.1",
            details: ["role": "admin", "from": "member"], hash: "ab", previousHash: "cd")
        let json = try encode(entry)
        #expect(
            json == #"{"action":"member.update","actor":"user:u1","details":{"from":"member","role":"admin"},"hash":"ab","#
                + #""organizationId":"o1","previousHash":"cd","requestId":"r1","sequence":9007199254740993,"#
                + #""sourceAddress":"127.0.0.1","target":"user:u2","time":"2026-11-26T19:30:00Z"}"#)
        #expect(try decode(AuditEntryResponse.self, json) == entry)
    }

    @Test("a broken-chain verification decodes its reason and first broken sequence")
    func auditVerify() throws {
        let response = try decode(
            AuditVerifyResponse.self,
            #"""
            {"intact":false,"entries":12,"headSequence":12,"headHash":"ff","checkpointsChecked":2,
            "firstBrokenSequence":7,"reason":"hash_mismatch","detail":"entry 7 does not hash to its stored hash"}
            """#)
        #expect(!response.intact)
        #expect(response.firstBrokenSequence == 7)
        #expect(response.reason.map(AuditVerifyResponse.reasons.contains) == true)
    }

    /// Each request type fully populated, with the JSON keys it must encode.
    static let requests: [(name: String, body: any Encodable & Sendable, fields: Set<String>)] = [
        ("LoginRequest", LoginRequest(email: "a@b.test", password: "p"), LoginRequest.fields),
        ("TwoFactorLoginRequest", TwoFactorLoginRequest(challenge: "c", code: "123456"), TwoFactorLoginRequest.fields),
        (
            "CreateTokenRequest", CreateTokenRequest(name: "ci", abilities: ["sites:read"], expiresAt: .distantFuture),
            CreateTokenRequest.fields
        ),
        ("TwoFactorConfirmRequest", TwoFactorConfirmRequest(code: "123456"), TwoFactorConfirmRequest.fields),
        ("TwoFactorDisableRequest", TwoFactorDisableRequest(password: "p", code: "1"), TwoFactorDisableRequest.fields),
        ("ChangePasswordRequest", ChangePasswordRequest(currentPassword: "a", newPassword: "b"), ChangePasswordRequest.fields),
        ("CreateOrganizationRequest", CreateOrganizationRequest(name: "n", ownerEmail: "o@b.test"), CreateOrganizationRequest.fields),
        ("UpdateOrganizationRequest", UpdateOrganizationRequest(name: "n"), UpdateOrganizationRequest.fields),
        ("CreateTenantRequest", CreateTenantRequest(name: "n"), CreateTenantRequest.fields),
        ("UpdateMemberRequest", UpdateMemberRequest(role: "viewer", tenantIds: ["t"]), UpdateMemberRequest.fields),
        (
            "CreateInvitationRequest", CreateInvitationRequest(email: "a@b.test", role: "member", tenantIds: ["t"]),
            CreateInvitationRequest.fields
        ),
        (
            "AcceptInvitationRequest", AcceptInvitationRequest(token: "t", password: "p", displayName: "A", code: "123456"),
            AcceptInvitationRequest.fields
        ),
        ("AuditVerifyRequest", AuditVerifyRequest(checkpoints: "{}\n"), AuditVerifyRequest.fields),
        ("CreateSiteRequest", CreateSiteRequest(domain: "a.test"), CreateSiteRequest.fields),
        ("PlanRequest", {
            var plan = PlanRequest(code: "pro", name: "Pro", currency: "EUR", monthlyPriceMinor: 2_900)
            plan.includedSites = 10
            plan.includedStorageGB = 20
            plan.includedBandwidthGB = 100
            plan.includedBackupGB = 10
            plan.includedMembers = 5
            plan.storageHardLimitGB = 50
            plan.overage = ["bandwidth_bytes": 5]
            plan.trialDays = 14
            plan.archived = false
            plan.stripePriceId = "price_pro"
            return plan
        }(), PlanRequest.fields),
        ("ChangeSubscriptionRequest", ChangeSubscriptionRequest(plan: "pro", effective: "now"), ChangeSubscriptionRequest.fields),
        ("RecordPaymentRequest", RecordPaymentRequest(status: "paid"), RecordPaymentRequest.fields),
        ("CreateCreditNoteRequest", CreateCreditNoteRequest(amountMinor: 1, reason: "x"), CreateCreditNoteRequest.fields),
    ]

    @Test("each request's allowed fields are exactly the keys it encodes when fully populated", arguments: requests)
    func requestFields(request: (name: String, body: any Encodable & Sendable, fields: Set<String>)) throws {
        let data = try APIJSON.encoder().encode(request.body)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == request.fields, "\(request.name)")
    }

    @Test("every ability the spec lists is known, and nothing else")
    func abilities() {
        #expect(CreateTokenRequest.knownAbilities.count == 18)
        #expect(CreateTokenRequest.knownAbilities.isSuperset(of: ["billing:read", "billing:write"]))
        #expect(CreateTokenRequest.knownAbilities.contains("join_tokens:write"))
        #expect(!CreateTokenRequest.knownAbilities.contains("join-tokens:write"))
    }
}
