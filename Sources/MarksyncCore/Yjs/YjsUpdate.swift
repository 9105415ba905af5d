/// A parsed Yjs update (format v1): the structs of each client and the delete set, as written, without
/// integrating them into a document. Used to check updates (tests, incoming client messages) and to
/// describe them.
public struct YjsUpdate: Sendable, Equatable {
    /// Where an item without origins lives: a root type by name, or a nested type by its item id.
    public enum Parent: Sendable, Equatable {
        case root(String)
        case item(client: UInt64, clock: Int)
    }

    /// The content of a struct.
    public enum Content: Sendable, Equatable {
        case gc
        case skip
        case deleted
        case json([String])
        case binary([UInt8])
        case string(String)
        case embed(String)
        case format(key: String, value: String)
        /// A nested type: 0 YArray, 1 YMap, 2 YText, 3 YXmlElement (with a name), 4 YXmlFragment, 5 YXmlHook
        /// (with a name), 6 YXmlText.
        case type(UInt8, name: String?)
        case any([YjsAny])
        case doc(guid: String, options: YjsAny)
    }

    /// One struct (an item, or a GC or skip range).
    public struct Struct: Sendable, Equatable {
        public var client: UInt64
        public var clock: Int
        public var length: Int
        public var info: UInt8
        public var origin: (client: UInt64, clock: Int)?
        public var rightOrigin: (client: UInt64, clock: Int)?
        public var parent: Parent?
        public var parentSub: String?
        public var content: Content

        public static func == (lhs: Struct, rhs: Struct) -> Bool {
            lhs.client == rhs.client && lhs.clock == rhs.clock && lhs.length == rhs.length && lhs.info == rhs.info
                && lhs.origin?.client == rhs.origin?.client && lhs.origin?.clock == rhs.origin?.clock
                && lhs.rightOrigin?.client == rhs.rightOrigin?.client && lhs.rightOrigin?.clock == rhs.rightOrigin?.clock
                && lhs.parent == rhs.parent && lhs.parentSub == rhs.parentSub && lhs.content == rhs.content
        }
    }

    /// The structs, client group by client group, in the order written.
    public var structs: [Struct] = []
    /// Deleted ranges per client, as written.
    public var deleteSet: [(client: UInt64, ranges: [(clock: Int, length: Int)])] = []

    public static func == (lhs: YjsUpdate, rhs: YjsUpdate) -> Bool {
        guard lhs.structs == rhs.structs, lhs.deleteSet.count == rhs.deleteSet.count else { return false }
        for (a, b) in zip(lhs.deleteSet, rhs.deleteSet) {
            guard a.client == b.client, a.ranges.count == b.ranges.count else { return false }
            for (x, y) in zip(a.ranges, b.ranges) where x.clock != y.clock || x.length != y.length { return false }
        }
        return true
    }

    /// True when the update carries nothing (`00 00`).
    public var isEmpty: Bool { structs.isEmpty && deleteSet.allSatisfy { $0.ranges.isEmpty } }

    /// Parses an update; a struct count, length or string beyond the bytes given is refused.
    public init(decoding bytes: [UInt8]) throws(YjsError) {
        var decoder = Lib0Decoder(bytes)
        let groups = try decoder.varUintInt(limit: decoder.remaining)
        for _ in 0..<groups {
            let count = try decoder.varUintInt(limit: decoder.remaining)
            let client = try decoder.varUint()
            var clock = try decoder.varUintInt(limit: Int.max >> 2)
            for _ in 0..<count {
                let parsed = try Self.readStruct(&decoder, client: client, clock: clock)
                structs.append(parsed)
                // Checked: the clock and the lengths are client numbers.
                let (next, overflow) = clock.addingReportingOverflow(parsed.length)
                guard !overflow, next <= Int.max >> 1 else {
                    throw YjsError("malformed", "the clocks of client \(client) run past \(Int.max >> 1)")
                }
                clock = next
            }
        }
        let clients = try decoder.varUintInt(limit: decoder.remaining)
        for _ in 0..<clients {
            let client = try decoder.varUint()
            let count = try decoder.varUintInt(limit: decoder.remaining)
            var ranges = [(clock: Int, length: Int)]()
            for _ in 0..<count {
                ranges.append((try decoder.varUintInt(limit: Int.max >> 2), try decoder.varUintInt(limit: Int.max >> 2)))
            }
            deleteSet.append((client, ranges))
        }
        guard decoder.isAtEnd else { throw YjsError("malformed", "trailing bytes after the update's delete set") }
    }

    private static func readStruct(_ decoder: inout Lib0Decoder, client: UInt64, clock: Int) throws(YjsError) -> Struct {
        let info = try decoder.byte()
        let ref = info & 0x1f
        if ref == 0 || ref == 10 {
            let length = try decoder.varUintInt()
            return Struct(client: client, clock: clock, length: length, info: info, content: ref == 0 ? .gc : .skip)
        }
        func id() throws(YjsError) -> (client: UInt64, clock: Int) {
            (try decoder.varUint(), try decoder.varUintInt(limit: Int.max >> 2))
        }
        let origin = info & 0x80 != 0 ? try id() : nil
        let rightOrigin = info & 0x40 != 0 ? try id() : nil
        var parent: Parent?
        var parentSub: String?
        if origin == nil && rightOrigin == nil {
            if try decoder.varUint() == 1 {
                parent = .root(try decoder.varString())
            } else {
                let parentID = try id()
                parent = .item(client: parentID.client, clock: parentID.clock)
            }
            if info & 0x20 != 0 { parentSub = try decoder.varString() }
        }
        let content: Content
        var length = 1
        switch ref {
        case 1:
            length = try decoder.varUintInt()
            content = .deleted
        case 2:
            length = try decoder.varUintInt(limit: decoder.remaining)
            var values = [String]()
            for _ in 0..<length { values.append(try decoder.varString()) }
            content = .json(values)
        case 3: content = .binary(try decoder.varUint8Array())
        case 4:
            let text = try decoder.varString()
            length = text.utf16.count
            content = .string(text)
        case 5: content = .embed(try decoder.varString())
        case 6: content = .format(key: try decoder.varString(), value: try decoder.varString())
        case 7:
            let typeRef = try decoder.varUintInt(limit: 255)
            content = .type(UInt8(typeRef), name: typeRef == 3 || typeRef == 5 ? try decoder.varString() : nil)
        case 8:
            length = try decoder.varUintInt(limit: decoder.remaining)
            var values = [YjsAny]()
            for _ in 0..<length { values.append(try decoder.any()) }
            content = .any(values)
        case 9: content = .doc(guid: try decoder.varString(), options: try decoder.any())
        default: throw YjsError("unsupported", "unknown struct content ref \(ref)")
        }
        guard length > 0 else { throw YjsError("malformed", "an empty struct at clock \(clock) of client \(client)") }
        return Struct(
            client: client, clock: clock, length: length, info: info, origin: origin, rightOrigin: rightOrigin, parent: parent,
            parentSub: parentSub, content: content)
    }
}
