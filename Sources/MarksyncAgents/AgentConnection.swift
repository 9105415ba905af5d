import MarksyncClient

/// An agent's own connection for writes and reads (its writes carry its name as author). Opened on first
/// use, reopened after a failure; the client reconnects by itself and resends unanswered writes.
actor AgentConnection {
    let endpoint: ServerEndpoint
    let name: String
    private var client: SyncClient?

    init(endpoint: ServerEndpoint, name: String) {
        self.endpoint = endpoint
        self.name = name
    }

    static func options(_ endpoint: ServerEndpoint, name: String) -> SyncClient.Options {
        var options = SyncClient.Options()
        options.name = name
        options.token = endpoint.token
        options.document = endpoint.document
        options.reconnect = true
        options.maxReconnectAttempts = nil
        options.maxReconnectDelay = .seconds(10)
        options.requestTimeout = .seconds(120)
        return options
    }

    private func connected() async throws -> SyncClient {
        if let client { return client }
        let client = try await SyncClient.connect(to: endpoint.url, options: Self.options(endpoint, name: name))
        self.client = client
        return client
    }

    /// Runs a request on the connection; a connection failure drops it so that the next call reconnects.
    func use<T: Sendable>(_ body: @Sendable (SyncClient) async throws -> T) async throws -> T {
        let client = try await connected()
        do {
            return try await body(client)
        } catch let error as SyncClientError {
            if case .nack = error { throw error }
            await client.close()
            if self.client === client { self.client = nil }
            throw error
        }
    }

    func close() async {
        await client?.close()
        client = nil
    }
}
