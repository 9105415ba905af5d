/// The id of one unit of Yjs content: the client that made it and that client's clock (a count of the
/// units it made before, from 0, with no gaps). A string's units are UTF-16 code units.
public struct YjsID: Sendable, Hashable, CustomStringConvertible {
    public var client: UInt32
    public var clock: Int

    public init(client: UInt32, clock: Int) {
        self.client = client
        self.clock = clock
    }

    public var description: String { "(\(client), \(clock))" }
}

/// How much of each client's content a document holds: client → next clock (`encodeStateVector`).
public struct YjsStateVector: Sendable, Equatable {
    public var clocks: [UInt32: Int]

    public init(_ clocks: [UInt32: Int] = [:]) { self.clocks = clocks }

    /// The next clock of a client (0 when it is unknown).
    public subscript(client: UInt32) -> Int { clocks[client] ?? 0 }

    /// The encoded state vector: count, then (client, clock) pairs, clients by descending id (Yjs ≥ 13.5.47).
    public var encoded: [UInt8] {
        var encoder = Lib0Encoder()
        encode(into: &encoder)
        return encoder.bytes
    }

    func encode(into encoder: inout Lib0Encoder) {
        encoder.varUint(clocks.count)
        for (client, clock) in clocks.sorted(by: { $0.key > $1.key }) {
            encoder.varUint(client)
            encoder.varUint(clock)
        }
    }

    /// Reads an encoded state vector. Client ids of 2^32 and above (pycrdt makes up to 53-bit ids) are
    /// ignored: they can never be one of this projection's clients.
    public init(decoding bytes: [UInt8]) throws(YjsError) {
        var decoder = Lib0Decoder(bytes)
        try self.init(from: &decoder)
        guard decoder.isAtEnd else { throw YjsError("malformed", "trailing bytes after the state vector") }
    }

    init(from decoder: inout Lib0Decoder) throws(YjsError) {
        let count = try decoder.varUintInt(limit: decoder.remaining)
        var clocks = [UInt32: Int]()
        for _ in 0..<count {
            let client = try decoder.varUint()
            let clock = try decoder.varUintInt(limit: Int(Int64.max >> 1))
            if client <= UInt64(UInt32.max) { clocks[UInt32(client)] = clock }
        }
        self.clocks = clocks
    }
}

/// Deleted id ranges per client, sorted and merged (the delete set of an update).
public struct YjsDeleteSet: Sendable, Equatable {
    /// client → ranges (clock, length), sorted by clock, merged when they touch.
    public private(set) var ranges: [UInt32: [(clock: Int, length: Int)]]

    public init() { ranges = [:] }

    public static func == (lhs: YjsDeleteSet, rhs: YjsDeleteSet) -> Bool {
        guard lhs.ranges.keys.sorted() == rhs.ranges.keys.sorted() else { return false }
        for (client, list) in lhs.ranges {
            guard let other = rhs.ranges[client], other.count == list.count else { return false }
            for (a, b) in zip(list, other) where a.clock != b.clock || a.length != b.length { return false }
        }
        return true
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Adds a range (kept unsorted until ``normalize()``).
    mutating func add(client: UInt32, clock: Int, length: Int) {
        guard length > 0 else { return }
        ranges[client, default: []].append((clock, length))
    }

    /// Sorts each client's ranges and merges those that overlap or touch (`sortAndMergeDeleteSet`).
    mutating func normalize() {
        for (client, list) in ranges {
            let sorted = list.sorted { $0.clock < $1.clock }
            var merged = [(clock: Int, length: Int)]()
            merged.reserveCapacity(sorted.count)
            for range in sorted {
                if let last = merged.last, last.clock + last.length >= range.clock {
                    merged[merged.count - 1].length = max(last.length, range.clock + range.length - last.clock)
                } else {
                    merged.append(range)
                }
            }
            ranges[client] = merged
        }
    }

    /// Writes the delete set, clients by descending id (Yjs ≥ 13.5.47). Call ``normalize()`` first.
    func encode(into encoder: inout Lib0Encoder) {
        encoder.varUint(ranges.count)
        for client in ranges.keys.sorted(by: >) {
            let list = ranges[client]!
            encoder.varUint(client)
            encoder.varUint(list.count)
            for range in list {
                encoder.varUint(range.clock)
                encoder.varUint(range.length)
            }
        }
    }

    /// Whether a unit is deleted.
    public func contains(_ id: YjsID) -> Bool {
        guard let list = ranges[id.client] else { return false }
        return list.contains { id.clock >= $0.clock && id.clock < $0.clock + $0.length }
    }
}
