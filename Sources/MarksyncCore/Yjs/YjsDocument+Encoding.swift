/// The update encoders of ``YjsDocument`` (update format v1: `writeClientsStructs`, `Item.write`,
/// `writeDeleteSet`).
extension YjsDocument {
    /// The whole document as one update (`Y.encodeStateAsUpdate(doc)`): every client's items from clock 0,
    /// tombstones as ContentDeleted, and the whole delete set.
    public func encodeStateAsUpdate() -> [UInt8] { encodeStateAsUpdate(from: YjsStateVector()) }

    /// What a document at `stateVector` lacks (`Y.encodeStateAsUpdate(doc, stateVector)`): each client's
    /// items from the vector's clock on (the first one cut at that clock), and the whole delete set.
    /// Clients the vector does not name are sent whole; clients it names that this document does not
    /// know are ignored. A clock that falls inside a surrogate pair is moved back to the pair's start, so
    /// no string is ever cut in half.
    public func encodeStateAsUpdate(from stateVector: YjsStateVector) -> [UInt8] {
        var byClient = [UInt32: [Int32]]()
        var deleted = [UInt32: [Int32]]()
        for index in items.indices where items[index].alive {
            let item = items[index]
            if item.clock + item.length > stateVector[item.client] { byClient[item.client, default: []].append(Int32(index)) }
            if item.deleted { deleted[item.client, default: []].append(Int32(index)) }
        }
        var encoder = Lib0Encoder(capacity: 1024)
        encoder.varUint(byClient.count)
        for client in byClient.keys.sorted(by: >) {
            let structs = byClient[client]!.sorted { items[Int($0)].clock < items[Int($1)].clock }
            var from = max(stateVector[client], items[Int(structs[0])].clock)
            let first = items[Int(structs[0])]
            if case .string(let units) = first.content, from > first.clock, UTF16.isTrailSurrogate(units[from - first.clock]) {
                from -= 1
            }
            writeClientStructs(structs, client: client, from: from, into: &encoder)
        }
        var deleteSet = YjsDeleteSet()
        for (client, list) in deleted {
            for index in list { deleteSet.add(client: client, clock: items[Int(index)].clock, length: items[Int(index)].length) }
        }
        deleteSet.normalize()
        deleteSet.encode(into: &encoder)
        return encoder.bytes
    }

    /// Writes one client's structs (sorted by clock, contiguous) from clock `from`, which falls in the
    /// first one (`writeStructs`).
    func writeClientStructs(_ structs: [Int32], client: UInt32, from: Int, into encoder: inout Lib0Encoder) {
        encoder.varUint(structs.count)
        encoder.varUint(client)
        encoder.varUint(from)
        for (n, index) in structs.enumerated() {
            let item = items[Int(index)]
            writeItem(item, offset: n == 0 ? from - item.clock : 0, into: &encoder)
        }
    }

    /// `Item.write(encoder, offset)`: info byte, origins, parent (only when there is no origin) and content,
    /// cut `offset` units from its start.
    func writeItem(_ item: YjsItem, offset: Int, into encoder: inout Lib0Encoder) {
        let origin = offset > 0 ? YjsID(client: item.client, clock: item.clock + offset - 1) : item.origin
        var info = item.contentRef
        if origin != nil { info |= 0x80 }
        if item.rightOrigin != nil { info |= 0x40 }
        if item.key != nil { info |= 0x20 }
        encoder.byte(info)
        if let origin {
            encoder.varUint(origin.client)
            encoder.varUint(origin.clock)
        }
        if let rightOrigin = item.rightOrigin {
            encoder.varUint(rightOrigin.client)
            encoder.varUint(rightOrigin.clock)
        }
        if origin == nil && item.rightOrigin == nil {
            switch containers[Int(item.container)].parent {
            case .root(let name):
                encoder.varUint(1)
                encoder.varString(name)
            case .item(let id):
                encoder.varUint(0)
                encoder.varUint(id.client)
                encoder.varUint(id.clock)
            }
            if let key = item.key { encoder.varString(key) }
        }
        switch item.content {
        case .deleted:
            encoder.varUint(item.length - offset)
        case .string(let units):
            encoder.varString(utf16: units[offset...])
        case .any(let values):
            encoder.varUint(values.count - offset)
            for value in values[offset...] { encoder.any(value) }
        case .type(let ref):
            encoder.varUint(UInt64(ref))
        }
    }
}
