// An organization's notification channels and outbox (`/v1/organizations/{org}/notification-channels`,
// `/v1/organizations/{org}/notifications`).
extension AdminClient {
    package func notificationChannels(organizationID: String) async throws(AdminClientError)
        -> [NotificationChannelResponse]
    {
        let list: ListResponse<NotificationChannelResponse> = try await json(
            .get, "/v1/organizations/\(segment(organizationID))/notification-channels")
        return list.items
    }

    package func createNotificationChannel(organizationID: String, _ request: CreateNotificationChannelRequest)
        async throws(AdminClientError) -> CreatedNotificationChannelResponse
    {
        try await json(.post, "/v1/organizations/\(segment(organizationID))/notification-channels", body: request)
    }

    package func deleteNotificationChannel(organizationID: String, channelID: String) async throws(AdminClientError) {
        try await noContent(
            .delete, "/v1/organizations/\(segment(organizationID))/notification-channels/\(segment(channelID))")
    }

    package func testNotificationChannel(organizationID: String, channelID: String) async throws(AdminClientError)
        -> NotificationTestResponse
    {
        try await json(
            .post, "/v1/organizations/\(segment(organizationID))/notification-channels/\(segment(channelID))/test")
    }

    /// The organization's latest messages, newest first.
    package func notifications(organizationID: String, limit: Int? = nil) async throws(AdminClientError)
        -> [NotificationResponse]
    {
        let list: ListResponse<NotificationResponse> = try await page(
            "/v1/organizations/\(segment(organizationID))/notifications", cursor: nil, limit: limit)
        return list.items
    }
}
