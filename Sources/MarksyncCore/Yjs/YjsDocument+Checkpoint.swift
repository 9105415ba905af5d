/// Checkpoints of ``YjsDocument``: the items in document order with their ids, origins and content, so
/// a projection restarts from a checkpoint without replaying the log before it. (An update cannot serve:
/// rebuilding the order from one needs a full Yjs integrator.)
extension YjsDocument {
    /// Format version of the model checkpoint.
    static let checkpointVersion = 1

    /// The document as checkpoint bytes.
    public func encodeCheckpoint() -> [UInt8] {
        var encoder = Lib0Encoder(capacity: 4096)
        encoder.varUint(Self.checkpointVersion)
        let clocks = nextClock.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        encoder.varUint(clocks.count)
        for (client, clock) in clocks {
            encoder.varUint(client)
            encoder.varUint(clock)
        }
        for root in YjsRoot.allCases { writeContainer(Int32(root.rawValue), into: &encoder) }
        return encoder.bytes
    }

    private func writeContainer(_ container: Int32, into encoder: inout Lib0Encoder) {
        let c = Int(container)
        if containers[c].isMap {
            let keys = containers[c].chains.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            encoder.varUint(keys.count)
            for key in keys {
                let chain = containers[c].chains[key]!
                encoder.varString(key)
                encoder.varUint(chain.count)
                for index in chain { writeCheckpointItem(items[Int(index)], into: &encoder) }
            }
        } else {
            var count = 0
            for chunk in containers[c].chunks { count += chunk.count }
            encoder.varUint(count)
            for chunk in containers[c].chunks {
                for index in chunk { writeCheckpointItem(items[Int(index)], into: &encoder) }
            }
        }
    }

    private func writeCheckpointItem(_ item: YjsItem, into encoder: inout Lib0Encoder) {
        var flags: UInt8 = item.deleted ? 1 : 0
        if item.origin != nil { flags |= 2 }
        if item.rightOrigin != nil { flags |= 4 }
        if item.child >= 0 { flags |= 8 }
        let kind: UInt8 =
            switch item.content {
            case .deleted: 0
            case .string: 1
            case .any: 2
            case .type: 3
            }
        flags |= kind << 4
        encoder.byte(flags)
        encoder.varUint(item.client)
        encoder.varUint(item.clock)
        encoder.varUint(item.length)
        if let origin = item.origin {
            encoder.varUint(origin.client)
            encoder.varUint(origin.clock)
        }
        if let rightOrigin = item.rightOrigin {
            encoder.varUint(rightOrigin.client)
            encoder.varUint(rightOrigin.clock)
        }
        switch item.content {
        case .deleted: break
        case .string(let units): encoder.varString(utf16: units[...])
        case .any(let values):
            encoder.varUint(values.count)
            for value in values { encoder.any(value) }
        case .type(let ref): encoder.byte(ref)
        }
        if item.child >= 0 { writeContainer(item.child, into: &encoder) }
    }

    /// A document from checkpoint bytes.
    public init(checkpoint bytes: [UInt8]) throws(YjsError) {
        self.init()
        var decoder = Lib0Decoder(bytes)
        let version = try decoder.varUintInt()
        guard version == Self.checkpointVersion else {
            throw YjsError("bad_checkpoint", "Yjs model checkpoint version \(version) is not known to this marksync-log")
        }
        let clients = try decoder.varUintInt(limit: decoder.remaining)
        for _ in 0..<clients {
            let client = try decoder.varUint()
            guard client <= UInt64(UInt32.max) else { throw YjsError("bad_checkpoint", "client id \(client) is too large") }
            nextClock[UInt32(client)] = try decoder.varUintInt(limit: Int.max >> 1)
        }
        for root in YjsRoot.allCases { try readContainer(Int32(root.rawValue), from: &decoder, depth: 0) }
        guard decoder.isAtEnd else { throw YjsError("bad_checkpoint", "trailing bytes in the Yjs model checkpoint") }
    }

    private mutating func readContainer(_ container: Int32, from decoder: inout Lib0Decoder, depth: Int) throws(YjsError) {
        guard depth < 8 else { throw YjsError("bad_checkpoint", "types nest too deeply") }
        let c = Int(container)
        if containers[c].isMap {
            let keys = try decoder.varUintInt(limit: decoder.remaining)
            for _ in 0..<keys {
                let key = try decoder.varString()
                let length = try decoder.varUintInt(limit: decoder.remaining)
                var chain = [Int32]()
                for _ in 0..<length {
                    chain.append(try readCheckpointItem(container: container, key: key, from: &decoder, depth: depth))
                }
                containers[c].chains[key] = chain
            }
        } else {
            let count = try decoder.varUintInt(limit: decoder.remaining)
            var chunk = [Int32]()
            var width = 0
            let fill = Self.chunkLimit * 3 / 4
            for _ in 0..<count {
                let index = try readCheckpointItem(container: container, key: nil, from: &decoder, depth: depth)
                chunk.append(index)
                width += items[Int(index)].liveWidth
                if chunk.count == fill {
                    containers[c].chunks.append(chunk)
                    containers[c].widths.append(width)
                    containers[c].total += width
                    chunk.removeAll(keepingCapacity: true)
                    width = 0
                }
            }
            if !chunk.isEmpty {
                containers[c].chunks.append(chunk)
                containers[c].widths.append(width)
                containers[c].total += width
            }
        }
    }

    private mutating func readCheckpointItem(container: Int32, key: String?, from decoder: inout Lib0Decoder, depth: Int)
        throws(YjsError) -> Int32
    {
        let flags = try decoder.byte()
        func id() throws(YjsError) -> YjsID {
            let client = try decoder.varUint()
            guard client <= UInt64(UInt32.max) else { throw YjsError("bad_checkpoint", "client id \(client) is too large") }
            return YjsID(client: UInt32(client), clock: try decoder.varUintInt(limit: Int.max >> 1))
        }
        let own = try id()
        let length = try decoder.varUintInt()
        let origin = flags & 2 != 0 ? try id() : nil
        let rightOrigin = flags & 4 != 0 ? try id() : nil
        let content: YjsItem.Content
        var width = length
        switch flags >> 4 {
        case 0: content = .deleted
        case 1:
            let (units, scalars) = try decoder.varStringUTF16()
            guard units.count == length else { throw YjsError("bad_checkpoint", "a string item has the wrong length") }
            width = scalars
            content = .string(units)
        case 2:
            let count = try decoder.varUintInt(limit: decoder.remaining)
            var values = [YjsAny]()
            for _ in 0..<count { values.append(try decoder.any()) }
            guard values.count == length else { throw YjsError("bad_checkpoint", "an array item has the wrong length") }
            content = .any(values)
        case 3: content = .type(try decoder.byte())
        default: throw YjsError("bad_checkpoint", "unknown item content kind")
        }
        var item = YjsItem(
            client: own.client, clock: own.clock, length: length, width: width, origin: origin, rightOrigin: rightOrigin,
            container: container, key: key, deleted: flags & 1 != 0, content: content)
        guard own.clock + length <= nextClock[own.client] ?? 0 else {
            throw YjsError("bad_checkpoint", "item \(own) is past its client's clock")
        }
        let index = Int32(items.count)
        if flags & 8 != 0 {
            item.child = Int32(containers.count)
            containers.append(YjsContainer(parent: .item(own), isMap: false))
            items.append(item)
            try readContainer(item.child, from: &decoder, depth: depth + 1)
        } else {
            items.append(item)
        }
        return index
    }
}
