/// One message of the y-websocket protocol (y-protocols `sync.js`, `awareness.js`, `auth.js`): a varUint
/// message type, then its payload.
///
/// ```
/// 0 sync       0 step 1 (state vector) | 1 step 2 (update) | 2 update (update)   payload: varUint8Array
/// 1 awareness  varUint8Array(awareness update)
/// 2 auth       0 = permission denied, varString(reason)
/// 3 query awareness
/// ```
public enum YjsSyncMessage: Sendable, Equatable {
    /// "What I have": an encoded state vector.
    case syncStep1([UInt8])
    /// The answer to step 1: everything the asker lacks, as an update.
    case syncStep2([UInt8])
    /// An incremental update.
    case update([UInt8])
    /// An awareness update (``YjsAwarenessUpdate``), encoded.
    case awareness([UInt8])
    /// Permission denied, with the reason.
    case permissionDenied(String)
    /// A request for every awareness state.
    case queryAwareness
    /// A message type this side does not know (it is ignored).
    case unknown(UInt64)

    /// The message's bytes (a binary WebSocket frame).
    public var encoded: [UInt8] {
        var encoder = Lib0Encoder(capacity: 16)
        switch self {
        case .syncStep1(let stateVector):
            encoder.varUint(0)
            encoder.varUint(0)
            encoder.varUint8Array(stateVector)
        case .syncStep2(let update):
            encoder.varUint(0)
            encoder.varUint(1)
            encoder.varUint8Array(update)
        case .update(let update):
            encoder.varUint(0)
            encoder.varUint(2)
            encoder.varUint8Array(update)
        case .awareness(let payload):
            encoder.varUint(1)
            encoder.varUint8Array(payload)
        case .permissionDenied(let reason):
            encoder.varUint(2)
            encoder.varUint(0)
            encoder.varString(reason)
        case .queryAwareness:
            encoder.varUint(3)
        case .unknown(let type):
            encoder.varUint(type)
        }
        return encoder.bytes
    }

    /// Parses a message.
    public init(decoding bytes: [UInt8]) throws(YjsError) {
        var decoder = Lib0Decoder(bytes)
        let type = try decoder.varUint()
        switch type {
        case 0:
            let sub = try decoder.varUint()
            let payload = try decoder.varUint8Array()
            switch sub {
            case 0: self = .syncStep1(payload)
            case 1: self = .syncStep2(payload)
            case 2: self = .update(payload)
            default: throw YjsError("unsupported", "unknown sync message type \(sub)")
            }
        case 1: self = .awareness(try decoder.varUint8Array())
        case 2:
            let kind = try decoder.varUint()
            let reason = try decoder.varString()
            guard kind == 0 else { throw YjsError("unsupported", "auth message \(kind) (\(reason))") }
            self = .permissionDenied(reason)
        case 3: self = .queryAwareness
        default: self = .unknown(type)
        }
    }
}

/// An awareness update: for each client, its clock and its state as JSON text (`"null"`: the client is
/// gone).
public struct YjsAwarenessUpdate: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var client: UInt64
        public var clock: Int
        /// JSON text; `null` when the client left.
        public var state: String

        public init(client: UInt64, clock: Int, state: String) {
            self.client = client
            self.clock = clock
            self.state = state
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry]) { self.entries = entries }

    public init(decoding bytes: [UInt8]) throws(YjsError) {
        var decoder = Lib0Decoder(bytes)
        let count = try decoder.varUintInt(limit: decoder.remaining)
        var entries = [Entry]()
        for _ in 0..<count {
            entries.append(
                Entry(client: try decoder.varUint(), clock: try decoder.varUintInt(limit: Int.max >> 2), state: try decoder.varString()))
        }
        guard decoder.isAtEnd else { throw YjsError("malformed", "trailing bytes after the awareness update") }
        self.entries = entries
    }

    public var encoded: [UInt8] {
        var encoder = Lib0Encoder(capacity: 64)
        encoder.varUint(entries.count)
        for entry in entries {
            encoder.varUint(entry.client)
            encoder.varUint(entry.clock)
            encoder.varString(entry.state)
        }
        return encoder.bytes
    }
}
