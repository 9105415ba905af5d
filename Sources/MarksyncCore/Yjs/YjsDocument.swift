/// The root types of the projection, in a fixed order. Root types are never encoded: a reader asks for
/// them by name (`doc.getMap("blocks")`, pycrdt `Doc({"blocks": Map(), …})`).
public enum YjsRoot: Int, CaseIterable, Sendable {
    /// Y.Map: document-level values (`format`, `project`, `created`, `line_ending`).
    case meta = 0
    /// Y.Map: block id → Y.Text with the block's content.
    case blocks
    /// Y.Array: the block ids in document order.
    case order
    /// Y.Map: the prose between blocks → Y.Text. Key: the id of the block before the gap, `""` for the gap
    /// at the top of the document. A gap that was always empty has no entry.
    case prose
    /// Y.Map: block id → object with the block's fence (`kind`, `lang`, `meta`, `path`, `open`, `close`).
    case headers

    /// The root's name in the Yjs document.
    public var name: String {
        switch self {
        case .meta: "meta"
        case .blocks: "blocks"
        case .order: "order"
        case .prose: "prose"
        case .headers: "headers"
        }
    }

    /// True for Y.Map roots, false for the Y.Array.
    public var isMap: Bool { self != .order }
}

/// One Yjs item (a struct of the update format): a run of units made by one client with consecutive
/// clocks, placed between `origin` and `rightOrigin` when it was made.
struct YjsItem: Sendable {
    enum Content: Sendable {
        /// UTF-16 code units (a ContentString).
        case string([UInt16])
        /// Values of an array or map (a ContentAny).
        case any([YjsAny])
        /// A nested type (a ContentType); 2 is Y.Text.
        case type(UInt8)
        /// A tombstone without its content (a ContentDeleted).
        case deleted
    }

    var client: UInt32
    var clock: Int
    /// Units: UTF-16 code units for strings, values for ContentAny, 1 for a type.
    var length: Int
    /// The size at the log boundary: code points for strings, values for ContentAny, 1 for a type.
    var width: Int
    var origin: YjsID?
    var rightOrigin: YjsID?
    /// The container (root or nested type) the item belongs to.
    var container: Int32
    /// For a type item: the container it holds (kept after the item is deleted, its children still exist).
    var child: Int32 = -1
    /// The map key (Yjs `parentSub`).
    var key: String?
    var deleted = false
    /// False once the item was merged into its left neighbour (its slot is unused).
    var alive = true
    var content: Content

    var id: YjsID { YjsID(client: client, clock: clock) }
    var lastID: YjsID { YjsID(client: client, clock: clock + length - 1) }
    var liveWidth: Int { deleted ? 0 : width }

    /// The content ref of the update format.
    var contentRef: UInt8 {
        switch content {
        case .deleted: 1
        case .string: 4
        case .type: 7
        case .any: 8
        }
    }
}

/// A root type or a nested Y.Text: for sequences, its items in document order (tombstones included) in
/// chunks with their live widths; for maps, each key's chain of items (the last one is the value).
struct YjsContainer: Sendable {
    enum Parent: Sendable, Equatable {
        case root(String)
        case item(YjsID)
    }

    var parent: Parent
    var isMap: Bool
    var chunks: [[Int32]] = []
    /// Live width of each chunk.
    var widths: [Int] = []
    /// Live width of the whole sequence.
    var total = 0
    /// A chunk and the live width before it, where the last search ended (edits are usually close).
    var hintChunk = 0
    var hintStart = 0
    var chains: [String: [Int32]] = [:]
    /// Chunks that grew or shrank during the current operation (``YjsDocument/tidy(_:)`` looks at them).
    var dirty: [Int] = []

    init(parent: Parent, isMap: Bool) {
        self.parent = parent
        self.isMap = isMap
    }
}

/// A place in a sequence: chunk and index in the chunk.
struct YjsLocation: Equatable {
    var chunk: Int
    var index: Int
}

/// An export-only Yjs document: the items of the projection, the operations that make them (the same
/// ones Yjs makes for `Y.Text.insert/delete`, `Y.Array.insert/push/delete` and `Y.Map.set/delete`), and
/// the update encoders (update format v1).
///
/// Every change happens in a transaction under one client id (``begin(client:)`` … ``commit()``); the
/// commit returns the transaction's update, byte-identical to the one Yjs ≥ 13.5.47 emits for the same
/// operations. Items of one client that Yjs would merge are merged; nothing is garbage-collected: a
/// deleted item stays as a tombstone (ContentDeleted) with its origins.
///
/// Positions given to the text operations are code points; inside, items count UTF-16 code units, and
/// no operation ever splits a surrogate pair.
public struct YjsDocument: Sendable {
    var items: [YjsItem] = []
    var containers: [YjsContainer]
    /// Each client's next clock.
    var nextClock: [UInt32: Int] = [:]
    var transaction: Transaction?

    struct Transaction: Sendable {
        var client: UInt32
        var beforeClock: Int
        var arenaStart: Int
        var deleteSet = YjsDeleteSet()
        /// Older items that absorbed units made in this transaction.
        var absorbers: [Int32] = []
    }

    /// Chunks are split above this many items.
    static let chunkLimit = 96

    /// The empty document (its update is `00 00`).
    public init() {
        containers = YjsRoot.allCases.map { YjsContainer(parent: .root($0.name), isMap: $0.isMap) }
    }

    /// The state vector: client → next clock.
    public var stateVector: YjsStateVector { YjsStateVector(nextClock.filter { $0.value > 0 }) }

    /// How many items (structs) the document holds, tombstones included.
    public var itemCount: Int { items.reduce(0) { $0 + ($1.alive ? 1 : 0) } }

    // MARK: - Transactions

    /// Starts a transaction under `client`.
    public mutating func begin(client: UInt32) {
        precondition(transaction == nil, "a Yjs transaction is already open")
        transaction = Transaction(client: client, beforeClock: nextClock[client] ?? 0, arenaStart: items.count)
    }

    /// Ends the transaction and returns its update: the structs it made (one client group) and what it
    /// deleted. With `encoding` false (replays), nothing is encoded and the result is empty.
    @discardableResult
    public mutating func commit(encoding: Bool = true) -> [UInt8] {
        guard var transaction else { preconditionFailure("no Yjs transaction is open") }
        self.transaction = nil
        guard encoding else { return [] }
        transaction.deleteSet.normalize()
        var encoder = Lib0Encoder(capacity: 64)
        let client = transaction.client
        let before = transaction.beforeClock
        let after = nextClock[client] ?? 0
        if after > before {
            var indices = Set<Int32>()
            for index in transaction.arenaStart..<items.count { indices.insert(Int32(index)) }
            indices.formUnion(transaction.absorbers)
            let structs = indices.filter {
                let item = items[Int($0)]
                return item.alive && item.client == client && item.clock + item.length > before
            }.sorted { items[Int($0)].clock < items[Int($1)].clock }
            encoder.varUint(1)
            writeClientStructs(structs, client: client, from: before, into: &encoder)
        } else {
            encoder.varUint(0)
        }
        transaction.deleteSet.encode(into: &encoder)
        return encoder.bytes
    }

    /// The client of the open transaction.
    var client: UInt32 {
        guard let transaction else { preconditionFailure("no Yjs transaction is open") }
        return transaction.client
    }

    // MARK: - Map operations

    /// `map.set(key, value)` with a ContentAny value.
    public mutating func mapSet(_ root: YjsRoot, _ key: String, _ value: YjsAny) {
        precondition(root.isMap)
        _ = mapSet(Int32(root.rawValue), key, content: .any([value]), length: 1)
    }

    /// `map.set(key, new Y.Text(text))`: a new Y.Text (the previous value, if any, is deleted with its
    /// content) holding `text` as one item.
    public mutating func mapSetText(_ root: YjsRoot, _ key: String, _ text: String) {
        precondition(root.isMap)
        let item = mapSet(Int32(root.rawValue), key, content: .type(2), length: 1)
        let scalars = text.unicodeScalars.map(\.value)
        if !scalars.isEmpty { insertText(items[Int(item)].child, at: 0, scalars) }
    }

    /// `map.delete(key)`: the current value is deleted (a Y.Text with its content).
    public mutating func mapDelete(_ root: YjsRoot, _ key: String) {
        guard let last = containers[root.rawValue].chains[key]?.last, !items[Int(last)].deleted else { return }
        deleteItem(last)
    }

    /// The current value of a map key when it is a ContentAny value.
    public func mapValue(_ root: YjsRoot, _ key: String) -> YjsAny? {
        guard let last = containers[root.rawValue].chains[key]?.last, !items[Int(last)].deleted,
            case .any(let values) = items[Int(last)].content
        else { return nil }
        return values.last
    }

    /// The live keys of a map root, sorted.
    public func mapKeys(_ root: YjsRoot) -> [String] {
        containers[root.rawValue].chains.compactMap { key, chain in
            chain.last.flatMap { items[Int($0)].deleted ? nil : key }
        }.sorted()
    }

    /// The Y.Text that is the current value of a map key.
    func textContainer(_ root: YjsRoot, _ key: String) -> Int32? {
        guard let last = containers[root.rawValue].chains[key]?.last else { return nil }
        let item = items[Int(last)]
        guard !item.deleted, item.child >= 0 else { return nil }
        return item.child
    }

    /// True when a map key's current value is a Y.Text.
    public func hasText(_ root: YjsRoot, _ key: String) -> Bool { textContainer(root, key) != nil }

    /// The text of the Y.Text at a map key.
    public func text(_ root: YjsRoot, _ key: String) -> String? {
        textContainer(root, key).map(text(of:))
    }

    /// Inserts code points into the Y.Text at a map key (`Y.Text.insert` at a code point position).
    public mutating func textInsert(_ root: YjsRoot, _ key: String, at position: Int, _ text: String) {
        guard let container = textContainer(root, key) else { preconditionFailure("no Y.Text at \(root.name)[\(key)]") }
        insertText(container, at: position, text.unicodeScalars.map(\.value))
    }

    /// Deletes code points from the Y.Text at a map key.
    public mutating func textDelete(_ root: YjsRoot, _ key: String, at position: Int, count: Int) {
        guard let container = textContainer(root, key) else { preconditionFailure("no Y.Text at \(root.name)[\(key)]") }
        deleteRange(container, at: position, count: count)
    }

    /// The code point length of the Y.Text at a map key.
    public func textLength(_ root: YjsRoot, _ key: String) -> Int? {
        textContainer(root, key).map { containers[Int($0)].total }
    }

    // MARK: - Array operations (the `order` root)

    /// `Y.Array.push(values)`.
    public mutating func arrayPush(_ root: YjsRoot, _ values: [YjsAny]) {
        precondition(!root.isMap)
        insertArray(Int32(root.rawValue), at: containers[root.rawValue].total, values, push: true)
    }

    /// `Y.Array.insert(index, values)`.
    public mutating func arrayInsert(_ root: YjsRoot, at index: Int, _ values: [YjsAny]) {
        precondition(!root.isMap)
        insertArray(Int32(root.rawValue), at: index, values, push: false)
    }

    /// `Y.Array.delete(index, count)`.
    public mutating func arrayDelete(_ root: YjsRoot, at index: Int, count: Int = 1) {
        precondition(!root.isMap)
        deleteRange(Int32(root.rawValue), at: index, count: count)
    }

    /// The live values of an array root.
    public func arrayValues(_ root: YjsRoot) -> [YjsAny] {
        var out = [YjsAny]()
        forEachItem(Int32(root.rawValue)) { item in
            if !item.deleted, case .any(let values) = item.content { out.append(contentsOf: values) }
        }
        return out
    }

    // MARK: - Internals shared by the operations

    /// Appends a new item of the open transaction (its clock is the client's next clock).
    mutating func newItem(
        container: Int32, content: YjsItem.Content, length: Int, width: Int, origin: YjsID?, rightOrigin: YjsID?, key: String? = nil
    ) -> YjsItem {
        let client = self.client
        let clock = nextClock[client] ?? 0
        nextClock[client] = clock + length
        return YjsItem(
            client: client, clock: clock, length: length, width: width, origin: origin, rightOrigin: rightOrigin,
            container: container, key: key, content: content)
    }

    mutating func mapSet(_ container: Int32, _ key: String, content: YjsItem.Content, length: Int) -> Int32 {
        let left = containers[Int(container)].chains[key]?.last
        var item = newItem(
            container: container, content: content, length: length, width: length, origin: left.map { items[Int($0)].lastID },
            rightOrigin: nil, key: key)
        let index = Int32(items.count)
        if case .type = content {
            item.child = Int32(containers.count)
            containers.append(YjsContainer(parent: .item(item.id), isMap: false))
        }
        items.append(item)
        containers[Int(container)].chains[key, default: []].append(index)
        if let left, !items[Int(left)].deleted { deleteItem(left) }
        return index
    }

    /// Marks an item deleted (records it in the transaction's delete set); a type's content goes with it.
    /// Sequence widths are the caller's business.
    mutating func deleteItem(_ index: Int32) {
        let i = Int(index)
        guard !items[i].deleted else { return }
        items[i].deleted = true
        items[i].content = .deleted
        transaction?.deleteSet.add(client: items[i].client, clock: items[i].clock, length: items[i].length)
        let child = items[i].child
        if child >= 0 { deleteAll(child) }
    }

    /// Deletes every live item of a container (a deleted type's content), then merges what Yjs merges.
    mutating func deleteAll(_ container: Int32) {
        let c = Int(container)
        if containers[c].isMap {
            for chain in containers[c].chains.values { if let last = chain.last { deleteItem(last) } }
            return
        }
        for chunk in containers[c].chunks {
            for index in chunk where !items[Int(index)].deleted { deleteItem(index) }
        }
        for k in containers[c].widths.indices { containers[c].widths[k] = 0 }
        containers[c].total = 0
        mergeAll(container)
    }

    /// The text of a sequence of strings.
    func text(of container: Int32) -> String {
        var units = [UInt16]()
        forEachItem(container) { item in
            if !item.deleted, case .string(let value) = item.content { units.append(contentsOf: value) }
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// The code points of a text's live items, between `padding` code points 1, 2, … at both ends (the
    /// layout of ``DocumentState``'s block texts).
    func paddedScalars(of container: Int32, padding: Int) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(containers[Int(container)].total + 2 * padding)
        for k in 0..<padding { out.append(UInt32(k + 1)) }
        for chunk in containers[Int(container)].chunks {
            for index in chunk {
                guard !items[Int(index)].deleted, case .string(let units) = items[Int(index)].content else { continue }
                var i = 0
                while i < units.count {
                    let unit = units[i]
                    if UTF16.isLeadSurrogate(unit), i + 1 < units.count {
                        out.append(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(units[i + 1]) - 0xDC00))
                        i += 2
                    } else {
                        out.append(UInt32(unit))
                        i += 1
                    }
                }
            }
        }
        for k in 0..<padding { out.append(UInt32(k + 1)) }
        return out
    }

    func forEachItem(_ container: Int32, _ body: (YjsItem) -> Void) {
        for chunk in containers[Int(container)].chunks {
            for index in chunk { body(items[Int(index)]) }
        }
    }

    /// The document's roots as plain values (for tests and checks): meta values, block texts, order.
    public var snapshot: Snapshot {
        var snapshot = Snapshot()
        for key in mapKeys(.meta) { snapshot.meta[key] = mapValue(.meta, key) }
        for key in mapKeys(.blocks) { snapshot.blocks[key] = text(.blocks, key) ?? "" }
        snapshot.order = arrayValues(.order).compactMap(\.stringValue)
        for key in mapKeys(.prose) { snapshot.prose[key] = text(.prose, key) ?? "" }
        for key in mapKeys(.headers) { snapshot.headers[key] = mapValue(.headers, key) }
        return snapshot
    }

    /// Plain values of the roots.
    public struct Snapshot: Sendable, Equatable {
        public var meta: [String: YjsAny] = [:]
        public var blocks: [String: String] = [:]
        public var order: [String] = []
        public var prose: [String: String] = [:]
        public var headers: [String: YjsAny] = [:]
        public init() {}
    }
}
