package import CHOMCore

/// Who may do what: the one RBAC table, role × action.
package enum Policy {
    package enum Audience: Sendable, Equatable {
        /// No token needed.
        case anyone
        /// Any signed-in user (the route itself limits what is visible).
        case authenticated
        /// Any signed-in user, with a session token (not a personal access token): password and 2FA.
        case session
        /// A role of at least this in the organization (or tenant) the route names; operators pass.
        case member(OrganizationRole)
        /// Platform operators only.
        case platformOperator
    }

    package struct Rule: Sendable, Equatable {
        package var audience: Audience
        /// What a personal access token must carry (nil: no ability needed).
        package var ability: Ability?
    }

    package static func rule(for action: APIAction) -> Rule {
        switch action {
        // The Stripe webhook carries no user's token: its signature (WebhookSignature) is checked
        // instead; Alertmanager's receiver checks the bearer token Alertmanager is configured with.
        case .health, .openAPI, .login, .loginTwoFactor, .acceptInvitation, .stripeWebhook, .alertmanagerWebhook:
            Rule(audience: .anyone, ability: nil)
        case .rotateToken, .logout, .meRead:
            Rule(audience: .authenticated, ability: nil)
        case .changePassword, .twoFactorEnroll, .twoFactorConfirm, .twoFactorDisable:
            Rule(audience: .session, ability: nil)
        case .tokensList: Rule(audience: .authenticated, ability: .tokensRead)
        case .tokenCreate, .tokenRevoke, .tokensRevokeAll: Rule(audience: .authenticated, ability: .tokensWrite)
        case .organizationsList: Rule(audience: .authenticated, ability: .organizationsRead)
        case .organizationCreate: Rule(audience: .platformOperator, ability: .organizationsWrite)
        case .organizationRead: Rule(audience: .member(.viewer), ability: .organizationsRead)
        case .organizationUpdate: Rule(audience: .member(.owner), ability: .organizationsWrite)
        case .tenantsList, .tenantRead: Rule(audience: .member(.viewer), ability: .tenantsRead)
        case .tenantCreate: Rule(audience: .member(.admin), ability: .tenantsWrite)
        case .membersList: Rule(audience: .member(.viewer), ability: .membersRead)
        case .memberUpdate, .memberRemove: Rule(audience: .member(.admin), ability: .membersWrite)
        case .invitationsList: Rule(audience: .member(.admin), ability: .membersRead)
        case .invitationCreate, .invitationDelete: Rule(audience: .member(.admin), ability: .membersWrite)
        case .sitesList: Rule(audience: .authenticated, ability: .sitesRead)
        case .tenantSitesList, .siteRead: Rule(audience: .member(.viewer), ability: .sitesRead)
        case .siteCreate: Rule(audience: .member(.member), ability: .sitesWrite)
        case .releaseUpload, .siteDeploy: Rule(audience: .member(.member), ability: .sitesDeploy)
        case .taskRead: Rule(audience: .member(.viewer), ability: .tasksRead)
        case .siteConfigure: Rule(audience: .member(.member), ability: .sitesWrite)
        // Logs hold visitors' addresses and request paths: members and up, not viewers.
        case .siteLogsRead: Rule(audience: .member(.member), ability: .sitesRead)
        case .siteRollback, .backupCreate, .backupVerify: Rule(audience: .member(.member), ability: .sitesDeploy)
        case .siteSuspend, .siteResume, .siteRemove, .backupScheduleUpdate:
            Rule(audience: .member(.admin), ability: .sitesWrite)
        case .backupRestore: Rule(audience: .member(.admin), ability: .sitesDeploy)
        case .backupsList, .backupScheduleRead: Rule(audience: .member(.viewer), ability: .sitesRead)
        case .auditList: Rule(audience: .member(.admin), ability: .auditRead)
        case .auditVerify, .auditVerifyWithCheckpoints, .auditCheckpoints:
            Rule(audience: .platformOperator, ability: .auditRead)
        case .agentsList, .agentRead, .prometheusDiscovery: Rule(audience: .platformOperator, ability: .agentsRead)
        case .agentDelete: Rule(audience: .platformOperator, ability: .agentsWrite)
        case .agentCordon, .agentUncordon, .agentDrain, .agentLabelsUpdate, .siteMove, .fleetRebalance,
            .siteRequestsUpdate, .siteFailoverUpdate, .agentPing:
            Rule(audience: .platformOperator, ability: .agentsWrite)
        case .migrationsList, .migrationRead, .agentFailoverPlan: Rule(audience: .platformOperator, ability: .agentsRead)
        case .joinTokenCreate, .joinTokenRevoke: Rule(audience: .platformOperator, ability: .joinTokensWrite)
        case .joinTokensList, .joinTokenUses: Rule(audience: .platformOperator, ability: .agentsRead)
        case .plansList: Rule(audience: .authenticated, ability: .billingRead)
        case .planCreate, .planUpdate: Rule(audience: .platformOperator, ability: .billingWrite)
        // Money is the owners' business: admins run the organization's sites, not its bill.
        case .billingRead, .invoicesList, .invoiceRead: Rule(audience: .member(.owner), ability: .billingRead)
        // A correction of a finalized invoice is the hosting company's decision.
        case .creditNoteCreate, .invoicePayment: Rule(audience: .platformOperator, ability: .billingWrite)
        case .subscriptionUpdate, .subscriptionCancel: Rule(audience: .member(.owner), ability: .billingWrite)
        // Scoped like sites: each caller sees the alerts of the sites it can read.
        case .alertsList: Rule(audience: .authenticated, ability: .sitesRead)
        case .siteMetricsRead, .tenantMetricsRead: Rule(audience: .member(.viewer), ability: .sitesRead)
        // Where the organization's news goes is its admins' choice; a channel can leak it anywhere.
        case .notificationChannelsList, .notificationsList: Rule(audience: .member(.admin), ability: .organizationsRead)
        case .notificationChannelCreate, .notificationChannelDelete, .notificationChannelTest:
            Rule(audience: .member(.admin), ability: .organizationsWrite)
        }
    }

    /// The minimum organization role an action needs, if it is a membership action.
    package static func minimumRole(for action: APIAction) -> OrganizationRole? {
        if case .member(let role) = rule(for: action).audience { return role }
        return nil
    }
}
