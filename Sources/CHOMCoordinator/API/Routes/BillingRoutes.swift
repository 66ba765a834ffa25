import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird
import Instrumentation
import Logging

/// Billing: operators manage plans; an organization's owners (and operators) see its plan, usage
/// to date and projected invoice, and change its plan. Another organization's billing answers 404.
extension AdminAPI {
    func addBillingRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/billing/plans", .plansList) { _, _, caller in
            // Everyone signed in sees the plans on offer; operators also see archived ones.
            let plans = try await store.billing.plans(includeArchived: try caller.signedIn.isOperator)
            return try StrictJSON.response(ListResponse(items: plans.map(\.api)))
        }
        routes.on(.post, "/v1/billing/plans", .planCreate) { request, _, caller in
            let body = try await StrictJSON.decode(PlanRequest.self, allowed: PlanRequest.fields, from: request)
            let record = try body.record(now: caller.now)
            try await write(caller) { transaction in
                try await store.billing.createPlan(record, in: transaction)
                try await transaction.record(caller.audit(
                    "billing.plan.create", target: "plan:\(record.code)", details: record.auditDetails))
            }
            return try StrictJSON.response(record.api, status: .created)
        }
        routes.on(.put, "/v1/billing/plans/:code", .planUpdate) { request, context, caller in
            let code = context.parameters.get("code") ?? ""
            let body = try await StrictJSON.decode(PlanRequest.self, allowed: PlanRequest.fields, from: request)
            guard body.code == code else {
                throw CHOMError(.invalidInput, "the body's code \(body.code.prefix(63)) is not the path's; a plan's code never changes")
            }
            guard let existing = try await store.billing.plan(code) else { throw CHOMError(.notFound, "no plan \(code.prefix(63))") }
            var record = try body.record(now: caller.now)
            record.createdAt = existing.createdAt
            record.stripePriceID = existing.stripePriceID
            let updated = record
            try await write(caller) { transaction in
                guard try await store.billing.updatePlan(updated, in: transaction) else {
                    throw CHOMError(.notFound, "no plan \(code)")
                }
                try await transaction.record(caller.audit(
                    "billing.plan.update", target: "plan:\(code)", details: updated.auditDetails))
            }
            return try StrictJSON.response(updated.api)
        }
        routes.on(.get, "/v1/organizations/:org/billing", .billingRead) { _, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            return try StrictJSON.response(try await billing(of: organization.id, now: caller.now))
        }
        routes.on(.put, "/v1/organizations/:org/subscription", .subscriptionUpdate) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let body = try await StrictJSON.decode(
                ChangeSubscriptionRequest.self, allowed: ChangeSubscriptionRequest.fields, from: request)
            guard let effective = PlanChange.Effective(rawValue: body.effective ?? "now") else {
                throw CHOMError(.invalidInput, "effective must be now or period_end")
            }
            try await write(caller) { transaction in
                let (subscription, current) = try await quotas.subscription(organization.id, now: caller.now, in: transaction)
                guard let target = try await store.billing.plan(body.plan, in: transaction) else {
                    throw CHOMError(.invalidInput, "no plan \(body.plan.prefix(63))")
                }
                // The organization must fit the plan it moves to: no downgrade keeps more sites or
                // members than the smaller plan allows (remove some first).
                if target.code != current.code {
                    try QuotaPolicy.check(
                        .sites, limit: target.limit(.sites),
                        usage: try await store.billing.siteCount(organization.id, in: transaction), adding: 0, plan: target.code)
                    try QuotaPolicy.check(
                        .members, limit: target.limit(.members),
                        usage: try await store.billing.memberCount(organization.id, now: caller.now, in: transaction), adding: 0,
                        plan: target.code)
                }
                let (next, adjustments) = try PlanChange.apply(
                    to: subscription, from: current, to: target, effective: effective, now: caller.now)
                try await store.billing.save(next, in: transaction)
                try await store.billing.addAdjustments(
                    adjustments, organization: organization.id, period: subscription.period, in: transaction)
                var details = ["from": current.code, "to": target.code, "effective": effective.rawValue]
                for adjustment in adjustments { details[adjustment.kind.rawValue] = "\(adjustment.amount.minor)" }
                try await transaction.record(caller.audit(
                    "billing.subscription.change", target: "organization:\(organization.id)",
                    organization: organization.id, details: details))
            }
            return try StrictJSON.response(try await billing(of: organization.id, now: caller.now).subscription)
        }
        routes.on(.post, "/v1/organizations/:org/subscription/cancel", .subscriptionCancel) { _, context, caller in
            // At the period's end only: the period is closed and invoiced as usual, then the
            // subscription is canceled (no new site; its sites keep serving until removed).
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let dunning = self.dunning
            try await write(caller) { transaction in
                let actions = try await dunning.apply(
                    .cancel(atPeriodEnd: true), organization: organization.id, now: caller.now,
                    audit: { action, details in
                        caller.audit(action, target: "organization:\(organization.id)", organization: organization.id, details: details)
                    }, in: transaction)
                if actions.isEmpty {
                    // Asked before (or canceled already): the request is recorded, nothing changes.
                    try await transaction.record(caller.audit(
                        "billing.subscription.cancel_requested", target: "organization:\(organization.id)",
                        organization: organization.id, details: ["changed": "false"]))
                }
            }
            return try StrictJSON.response(try await billing(of: organization.id, now: caller.now).subscription)
        }
    }

    /// An organization's plan, usage to date and projected invoice.
    func billing(of organization: OrganizationID, now: Date) async throws -> BillingResponse {
        var found = try await store.billing.subscription(organization)
        if found == nil {
            // Made before billing arrived and missed by the start-up pass (a race with its creation).
            found = try await store.write(now: now) { transaction in
                let (subscription, plan) = try await quotas.subscription(organization, now: now, in: transaction)
                try await transaction.record(AuditEntry(
                    time: now, actor: "system", organizationID: organization.description,
                    action: "billing.subscription.create", target: "organization:\(organization)",
                    details: ["plan": plan.code, "reason": "default plan"]))
                return subscription
            }
        }
        guard let subscription = found, let plan = try await store.billing.plan(subscription.planCode) else {
            throw CHOMError(.integrity, "the subscription of \(organization) names a missing plan")
        }
        let periodPlan = try await store.billing.plan(subscription.periodPlanCode) ?? plan
        let counts = try await store.billing.counts(organization, now: now)
        let usage = try await store.billing.usage(organization, period: subscription.period)
        let adjustments = try await store.billing.adjustments(organization, period: subscription.period)
        let lines: [InvoiceLine]
        do {
            lines = try BillingStatement.lines(
                subscription: subscription, periodPlan: periodPlan, plan: plan, usage: usage, adjustments: adjustments)
        } catch {
            throw CHOMError(.integrity, "the organization's invoice cannot be computed: \(error.description)")
        }
        return BillingResponse(
            subscription: subscription.api, plan: plan.api,
            usage: BillingUsageResponse(
                sites: counts.sites, members: counts.members, storageBytes: counts.storageBytes,
                meters: Dictionary(uniqueKeysWithValues: usage.map { ($0.key.rawValue, $0.value) })),
            projectedInvoice: ProjectedInvoiceResponse(
                currency: plan.plan.monthlyPrice.currency, lines: lines.map(\.api),
                totalMinor: BillingStatement.total(lines)))
    }
}

extension PlanRecord {
    var api: PlanResponse {
        func limit(_ value: Int64) -> Int64? { value == .max ? nil : value }
        var response = PlanResponse(
            code: code, name: name, currency: plan.monthlyPrice.currency, monthlyPriceMinor: plan.monthlyPrice.minor,
            overage: Dictionary(uniqueKeysWithValues: plan.overage.map { ($0.key.rawValue, $0.value.minor) }),
            trialDays: plan.trialDays, archived: archived, createdAt: createdAt, updatedAt: updatedAt)
        response.includedSites = limit(plan.includedSites)
        response.includedStorageGB = limit(plan.includedStorageGB)
        response.includedBandwidthGB = limit(plan.includedBandwidthGB)
        response.includedBackupGB = limit(plan.includedBackupGB)
        response.includedMembers = limit(plan.includedMembers)
        response.storageHardLimitGB = limit(storageHardLimitGB)
        response.stripePriceId = stripePriceID
        return response
    }

    var auditDetails: [String: String] {
        let api = api
        var details = [
            "name": name, "currency": api.currency, "monthly_price_minor": "\(api.monthlyPriceMinor)",
            "trial_days": "\(api.trialDays)", "archived": "\(archived)",
        ]
        for (key, value) in [
            ("included_sites", api.includedSites), ("included_storage_gb", api.includedStorageGB),
            ("included_bandwidth_gb", api.includedBandwidthGB), ("included_backup_gb", api.includedBackupGB),
            ("included_members", api.includedMembers), ("storage_hard_limit_gb", api.storageHardLimitGB),
        ] {
            details[key] = value.map { "\($0)" } ?? "unlimited"
        }
        for (meter, minor) in api.overage { details["overage_\(meter)"] = "\(minor)" }
        return details
    }
}

extension SubscriptionRecord {
    var api: SubscriptionResponse {
        var response = SubscriptionResponse(
            organizationId: organizationID.description, plan: planCode, status: status.rawValue,
            periodStart: period.start, periodEnd: period.end, cancelAtPeriodEnd: cancelAtPeriodEnd)
        response.trialEndsAt = trialEndsAt
        response.graceEndsAt = graceEndsAt
        response.pendingPlan = pendingPlanCode
        return response
    }
}

extension InvoiceLine {
    var api: InvoiceLineResponse {
        InvoiceLineResponse(
            kind: kind.rawValue, description: description, meter: meter?.rawValue, quantity: quantity,
            unitPriceMinor: unitPrice?.minor, amountMinor: amount.minor)
    }
}

extension AdminAPI {
    func addInvoiceRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/organizations/:org/invoices", .invoicesList) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let page = try Page(request)
            let invoices = try await store.invoices.list(
                organization: organization.id, before: try page.afterSequence, limit: page.limit)
            return try page.response(invoices, key: { "\($0.number)" }, map: \.api)
        }
        routes.on(.get, "/v1/organizations/:org/invoices/:invoice", .invoiceRead) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let format = request.uri.queryParameters.get("format") ?? "json"
            guard ["json", "csv", "html"].contains(format) else {
                throw CHOMError(.invalidInput, "format must be json, csv or html")
            }
            let invoice = try await invoice(context.parameters.get("invoice"), of: organization.id)
            let notes = try await store.invoices.creditNotes(invoice: invoice.id)
            switch format {
            case "csv":
                return text(InvoiceRendering.csv(invoice, creditNotes: notes), type: "text/csv; charset=utf-8")
            case "html":
                return text(
                    InvoiceRendering.html(invoice, creditNotes: notes, organizationName: organization.name),
                    type: "text/html; charset=utf-8")
            default:
                var api = invoice.api
                api.lines = invoice.lines.map(\.api)
                api.creditNotes = notes.map(\.api)
                return try StrictJSON.response(api)
            }
        }
        routes.on(.put, "/v1/organizations/:org/invoices/:invoice/payment", .invoicePayment) { request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let body = try await StrictJSON.decode(RecordPaymentRequest.self, allowed: RecordPaymentRequest.fields, from: request)
            guard ["paid", "failed"].contains(body.status) else { throw CHOMError(.invalidInput, "status must be paid or failed") }
            let invoice = try await invoice(context.parameters.get("invoice"), of: organization.id)
            let dunning = self.dunning
            try await write(caller) { transaction in
                try await store.invoices.lock(invoice.id, in: transaction)
                // Read again under the lock: a payment recorded meanwhile decides.
                guard let invoice = try await store.invoices.get(invoice.id, organization: organization.id) else {
                    throw CHOMError(.notFound, "no invoice \(invoice.id)")
                }
                let event: SubscriptionEvent
                if body.status == "paid" {
                    guard try await store.invoices.markPaid(invoice.id, at: caller.now, in: transaction) else {
                        throw CHOMError(.conflict, "invoice \(invoice.number) is not open")
                    }
                    event = .paymentSucceeded
                } else {
                    guard invoice.status == .open else { throw CHOMError(.conflict, "invoice \(invoice.number) is not open") }
                    event = .paymentFailed(at: caller.now)
                }
                try await transaction.record(caller.audit(
                    body.status == "paid" ? "billing.invoice.paid" : "billing.invoice.payment_failed",
                    target: "invoice:\(invoice.id)", organization: organization.id,
                    details: ["number": "\(invoice.number)", "total_minor": "\(invoice.totalMinor)"]))
                try await dunning.apply(event, organization: organization.id, now: caller.now, audit: { action, details in
                    caller.audit(action, target: "organization:\(organization.id)", organization: organization.id, details: details)
                }, in: transaction)
            }
            // The sites follow at once (the leader's pass catches up whatever this misses). The pass
            // queues tasks for every organization out of step, not only this one: they are the
            // coordinator's own work, so they run outside this request's trace.
            do { _ = try await ServiceContext.withValue(nil) { try await dunning.reconcileSites(now: caller.now) } } catch {
                store.logger.warning("billing site reconciliation deferred", metadata: [LogKey.error: "\(error)"])
            }
            guard let updated = try await store.invoices.get(invoice.id, organization: organization.id) else {
                throw CHOMError(.internal, "invoice vanished")
            }
            return try StrictJSON.response(updated.api)
        }
        routes.on(.post, "/v1/organizations/:org/invoices/:invoice/credit-notes", .creditNoteCreate) {
            request, context, caller in
            let organization = try await organization(context.parameters.get("org"), caller, minimum: .owner)
            let body = try await StrictJSON.decode(
                CreateCreditNoteRequest.self, allowed: CreateCreditNoteRequest.fields, from: request)
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...500).contains(reason.count) else { throw CHOMError(.invalidInput, "reason must be 1 to 500 characters") }
            guard body.amountMinor > 0 else { throw CHOMError(.invalidInput, "amountMinor must be positive") }
            let invoice = try await invoice(context.parameters.get("invoice"), of: organization.id)
            let note = try await write(caller) { transaction in
                // The invoice's row is locked so that two credits cannot both pass the check.
                try await store.invoices.lock(invoice.id, in: transaction)
                let credited = try await store.invoices.creditNotes(invoice: invoice.id, in: transaction)
                    .reduce(Int64(0)) { $0 + $1.amount.minor }
                guard credited <= invoice.totalMinor, body.amountMinor <= invoice.totalMinor - credited else {
                    throw CHOMError(
                        .conflict,
                        "the credit notes of invoice \(invoice.number) would exceed its total: \(credited) of \(invoice.totalMinor) is credited already")
                }
                let note = CreditNoteRecord(
                    invoiceID: invoice.id, issuer: invoice.issuer,
                    number: try await store.invoices.takeNumber(issuer: invoice.issuer, .creditNote, in: transaction),
                    amount: try Money(minor: body.amountMinor, currency: invoice.currency), reason: reason,
                    createdAt: caller.now)
                try await store.invoices.insertCreditNote(note, in: transaction)
                try await transaction.record(caller.audit(
                    "billing.credit_note.create", target: "invoice:\(invoice.id)", organization: organization.id,
                    details: ["number": "\(note.number)", "amount_minor": "\(note.amount.minor)", "reason": reason]))
                return note
            }
            return try StrictJSON.response(note.api, status: .created)
        }
    }

    /// Dunning with the coordinator's configuration, for payment facts reported through the API.
    var dunning: BillingDunning {
        BillingDunning(
            store: store, quotas: quotas, tasks: siteTasks, connections: connections,
            grace: configuration.billing.graceDays * 86_400, logger: store.logger)
    }

    private func invoice(_ parameter: String?, of organization: OrganizationID) async throws -> InvoiceRecord {
        guard let parameter, let id = UUID(uuidString: parameter),
            let invoice = try await store.invoices.get(id, organization: organization)
        else { throw CHOMError(.notFound, "no invoice \(parameter?.prefix(40) ?? "")") }
        return invoice
    }

    private func text(_ body: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension InvoiceRecord {
    var api: InvoiceResponse {
        var response = InvoiceResponse(
            id: id.uuidString.lowercased(), organizationId: organizationID.description, issuer: issuer, number: number,
            status: status.rawValue, periodStart: period.start, periodEnd: period.end, plan: planCode, currency: currency,
            totalMinor: totalMinor, finalizedAt: finalizedAt)
        response.paidAt = paidAt
        return response
    }
}

extension CreditNoteRecord {
    var api: CreditNoteResponse {
        CreditNoteResponse(
            id: id.uuidString.lowercased(), invoiceId: invoiceID.uuidString.lowercased(), number: number,
            amountMinor: amount.minor, currency: amount.currency, reason: reason, createdAt: createdAt)
    }
}
