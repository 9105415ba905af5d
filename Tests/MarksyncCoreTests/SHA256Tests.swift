import Testing

@testable import MarksyncCore

struct SHA256Tests {
    // FIPS 180-4 example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func knownVectors(_ input: String, _ expected: String) {
        #expect(SHA256.hexDigest(of: input) == expected)
    }

    @Test func millionAs() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hexDigest(of: input) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShot() {
        var generator = SplitMix64(seed: 7)
        let bytes = (0..<10_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for split in [0, 1, 63, 64, 65, 127, 4_999, 10_000] {
            var hasher = SHA256()
            hasher.update(bytes[0..<split])
            hasher.update(bytes[split...])
            #expect(SHA256.hex(hasher.finalize()) == SHA256.hexDigest(of: bytes), "split at \(split)")
        }
    }

    @Test func nonASCIIIsHashedAsUTF8() {
        // python3 -c 'import hashlib;print(hashlib.sha256("héllo 😀".encode()).hexdigest())'
        #expect(SHA256.hexDigest(of: "héllo 😀") == "a53c56966616f0ec3ed9db7ea07a6034430149528bbaba8966c284f9373669c2")
    }
}
