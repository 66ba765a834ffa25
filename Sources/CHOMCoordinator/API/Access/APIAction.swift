/// Every admin API operation, one case per route. The policy table (`Policy.rule(for:)`)
/// says who may perform each; `AccessControl` checks it for every route, in one place.
package enum APIAction: String, Sendable, CaseIterable {
    // Open.
    case health, openAPI, login, loginTwoFactor, acceptInvitation
    // The caller's own account.
    case rotateToken, logout, meRead, changePassword, twoFactorEnroll, twoFactorConfirm, twoFactorDisable
    case tokensList, tokenCreate, tokenRevoke, tokensRevokeAll
    // Organizations and their people.
    case organizationsList, organizationCreate, organizationRead, organizationUpdate
    case tenantsList, tenantCreate, tenantRead
    case membersList, memberUpdate, memberRemove
    case invitationsList, invitationCreate, invitationDelete
    // Tenant data.
    case sitesList, tenantSitesList, siteCreate, siteRead, releaseUpload, siteDeploy, taskRead
    case siteConfigure, siteRollback, siteSuspend, siteResume, siteRemove, siteLogsRead
    case backupsList, backupCreate, backupRestore, backupVerify, backupScheduleRead, backupScheduleUpdate
    // Audit.
    case auditList, auditVerify, auditVerifyWithCheckpoints, auditCheckpoints
    // The fleet.
    case agentsList, agentRead, agentDelete, joinTokenCreate, joinTokensList, joinTokenRevoke, joinTokenUses
    case prometheusDiscovery
    // Scheduling and migration (platform operators).
    case agentCordon, agentUncordon, agentDrain, agentLabelsUpdate, siteMove, migrationsList, migrationRead
    case fleetRebalance, siteRequestsUpdate, agentFailoverPlan, siteFailoverUpdate, agentPing
    // Billing.
    case plansList, planCreate, planUpdate, billingRead, subscriptionUpdate, subscriptionCancel
    case invoicesList, invoiceRead, creditNoteCreate, invoicePayment, stripeWebhook
    // Alerts.
    case alertsList, alertmanagerWebhook, siteMetricsRead, tenantMetricsRead
    // Notifications.
    case notificationChannelsList, notificationChannelCreate, notificationChannelDelete, notificationChannelTest
    case notificationsList
}
