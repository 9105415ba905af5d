import Testing

@testable import MarksyncCore

// The y-websocket endpoint reads a viewer's binary messages: sync messages, updates, state vectors and awareness
// updates. Damaged or hostile bytes (lengths past the end, varints of 10 bytes, clocks near 2^62) must be a
// `YjsError`, never a trap. The seed is printed before the run; MARKSYNC_FUZZ_SEED=<seed> replays it.

@Suite struct YjsHostileInputTests {
    /// Valid messages to mutate: the updates of a random document stream, its state vector and sync messages.
    static func corpus() throws -> (projection: YjsProjection, messages: [[UInt8]]) {
        var random = YjsRandomDocument(seed: 5)
        var projection = YjsProjection(document: "demo")
        var messages = [[UInt8]]()
        for _ in 0..<60 {
            let update = try projection.apply(random.step())
            messages.append(update)
            messages.append(YjsSyncMessage.update(update).encoded)
        }
        messages.append(projection.encodeStateAsUpdate())
        messages.append(projection.stateVector.encoded)
        messages.append(YjsSyncMessage.syncStep1(projection.stateVector.encoded).encoded)
        messages.append(YjsAwarenessUpdate([.init(client: 7, clock: 1, state: #"{"user":{"name":"alice"}}"#)]).encoded)
        return (projection, messages)
    }

    /// Everything the server does with a viewer's bytes.
    static func read(_ bytes: [UInt8], _ projection: YjsProjection) {
        _ = try? YjsUpdate(decoding: bytes)
        _ = try? YjsAwarenessUpdate(decoding: bytes)
        if let vector = try? YjsStateVector(decoding: bytes) { _ = projection.encodeStateAsUpdate(from: vector) }
        if let message = try? YjsSyncMessage(decoding: bytes) {
            switch message {
            case .syncStep1(let vector):
                if let vector = try? YjsStateVector(decoding: vector) { _ = projection.encodeStateAsUpdate(from: vector) }
            case .syncStep2(let update), .update(let update): _ = try? YjsUpdate(decoding: update)
            case .awareness(let payload): _ = try? YjsAwarenessUpdate(decoding: payload)
            default: break
            }
        }
    }

    static let hostileVarints: [[UInt8]] = [
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], [0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0x80], [0], [1], [0x7F],
    ]

    @Test func mutatedAndRandomMessagesAreErrorsNotTraps() throws {
        let seed = hostileInputSeed(0x5EED_0715_0001)
        print("YjsHostileInputTests: seed \(seed) (MARKSYNC_FUZZ_SEED=\(seed) replays it)")
        var random = SplitMix64(seed: seed)
        func next(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }
        let (projection, messages) = try Self.corpus()
        var parsedUpdates = 0
        for _ in 0..<5_000 {
            var bytes: [UInt8]
            if next(10) == 0 {
                bytes = (0..<next(48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = messages[next(messages.count)]
                for _ in 0..<(1 + next(4)) {
                    let at = next(bytes.count + 1)
                    switch next(5) {
                    case 0: bytes.insert(contentsOf: Self.hostileVarints[next(Self.hostileVarints.count)], at: at)
                    case 1: if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: random.next()) }
                    case 2: bytes = Array(bytes.prefix(at))
                    case 3: if at < bytes.count { bytes[at] ^= 0x80 }
                    default: if at < bytes.count { bytes.remove(at: at) }
                    }
                }
            }
            Self.read(bytes, projection)
            if (try? YjsUpdate(decoding: bytes)) != nil { parsedUpdates += 1 }
        }
        print("YjsHostileInputTests: 5000 messages, \(parsedUpdates) read as updates")
    }

    /// Clocks and lengths at the bounds the decoder allows: a struct run whose clocks would pass them is refused.
    @Test func clocksNearTheLimitAreRefusedOrRead() {
        for (start, lengths) in [(Int.max >> 2, [Int(Int32.max), Int(Int32.max)]), (0, [Int(Int32.max)]), (Int.max >> 2, [1])] {
            var encoder = Lib0Encoder()
            encoder.varUint(1)  // one client group
            encoder.varUint(lengths.count)
            encoder.varUint(UInt64(1))  // client
            encoder.varUint(start)
            for length in lengths {
                encoder.byte(0)  // GC
                encoder.varUint(length)
            }
            encoder.varUint(0)  // empty delete set
            let update = try? YjsUpdate(decoding: encoder.bytes)
            #expect(update?.structs.count == lengths.count)
        }
        // A clock past the bound.
        var encoder = Lib0Encoder()
        encoder.varUint(1)
        encoder.varUint(1)
        encoder.varUint(UInt64(1))
        encoder.raw([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        encoder.byte(0)
        encoder.varUint(1)
        encoder.varUint(0)
        #expect(throws: YjsError.self) { try YjsUpdate(decoding: encoder.bytes) }
    }

    /// A viewer's state vector may name any clock for a client the document knows.
    @Test func extremeStateVectorsDoNotTrap() throws {
        let (projection, _) = try Self.corpus()
        for clock in [0, 1, Int.max >> 1, Int.max, Int.min, -1] {
            var clocks = [UInt32: Int]()
            for client in projection.stateVector.clocks.keys { clocks[client] = clock }
            _ = projection.encodeStateAsUpdate(from: YjsStateVector(clocks))
        }
    }
}
