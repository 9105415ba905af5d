import Testing

@testable import MarksyncCore

struct LZ4CodecTests {
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    static func codeLike(_ count: Int) -> [UInt8] {
        let line = Array("    def handler(self, request):  # returns the task list\n".utf8)
        return (0..<count).map { line[$0 % line.count] }
    }

    @Test(arguments: [0, 1, 17, 100, 4_096, 65_536, 1 << 20, 5 << 20])
    func roundTripRandom(_ size: Int) throws {
        let input = Self.randomBytes(size, seed: UInt64(size))
        let compressed = try LZ4Codec.compress(input)
        #expect(try LZ4Codec.declaredSize(of: compressed) == size)
        #expect(try LZ4Codec.decompress(compressed) == input)
    }

    @Test(arguments: [1, 100, 65_536, 3 << 20])
    func repetitiveInputShrinks(_ size: Int) throws {
        let input = Self.codeLike(size)
        let compressed = try LZ4Codec.compress(input)
        if size >= 4_096 { #expect(compressed.count < input.count / 4) }
        #expect(try LZ4Codec.decompress(compressed) == input)
    }

    @Test func truncatedHeaderThrows() {
        #expect(throws: LZ4CodecError.truncatedHeader(size: 3)) { try LZ4Codec.decompress([1, 0, 0]) }
        #expect(throws: LZ4CodecError.truncatedHeader(size: 0)) { try LZ4Codec.decompress([]) }
    }

    @Test func hostileDeclaredSizeThrowsBeforeAllocating() {
        let bomb: [UInt8] = [0xff, 0xff, 0xff, 0x7f, 0x00]
        #expect(throws: LZ4CodecError.declaredSizeTooLarge(declared: 0x7fff_ffff, limit: LZ4Codec.defaultDecodeLimit)) {
            try LZ4Codec.decompress(bomb)
        }
        #expect(throws: LZ4CodecError.self) { try LZ4Codec.decompress(try LZ4Codec.compress(Self.codeLike(1000)), limit: 999) }
    }

    @Test func truncatedBodyThrows() throws {
        let compressed = try LZ4Codec.compress(Self.codeLike(10_000))
        for cut in [4, 5, compressed.count / 2, compressed.count - 1] {
            #expect(throws: LZ4CodecError.self) { try LZ4Codec.decompress(Array(compressed[0..<cut])) }
        }
    }

    @Test func flippedBytesNeverCrash() throws {
        // Every damaged payload either throws or decodes to the declared size; none crashes.
        var generator = SplitMix64(seed: 99)
        let input = Self.codeLike(20_000) + Self.randomBytes(2_000, seed: 5)
        let compressed = try LZ4Codec.compress(input)
        var thrown = 0
        for _ in 0..<2_000 {
            var damaged = compressed
            let position = 4 + Int(generator.next() % UInt64(compressed.count - 4))
            damaged[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            do {
                let output = try LZ4Codec.decompress(damaged)
                #expect(output.count == input.count)
            } catch {
                thrown += 1
            }
        }
        #expect(thrown > 0)
    }

    @Test func payloadCodecPicksTheSmallerForm() throws {
        let small = Array("x = 1".utf8)
        let (codec1, data1) = PayloadCodec.encode(small)
        #expect(codec1 == .raw)
        #expect(data1 == small)
        let big = Self.codeLike(4_000)
        let (codec2, data2) = PayloadCodec.encode(big)
        #expect(codec2 == .lz4)
        #expect(data2.count < big.count)
        #expect(try codec2.decode(data2) == big)
        let noise = Self.randomBytes(4_000, seed: 3)
        #expect(PayloadCodec.encode(noise).codec == .raw)
    }
}
