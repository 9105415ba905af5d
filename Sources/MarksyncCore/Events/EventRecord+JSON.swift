/// A record read from parsed JSON instead of Foundation's `JSONDecoder`: the same fields and the same
/// rules as the `Codable` conformance (required: doc, seq, ts, author, kind; every other field optional,
/// `null` as absent), about four times cheaper per line, which is most of an `import`.
extension EventRecord {
    /// Why a JSON value is not an event record.
    public struct JSONError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// Reads a record from a parsed export line (an object; unknown keys, such as `type`, are ignored).
    public init(json: JSONValue) throws(JSONError) {
        guard let object = json.objectValue else { throw JSONError(message: "an event record must be a JSON object") }
        func value(_ key: String) -> JSONValue? {
            guard let found = object[key], found != .null else { return nil }
            return found
        }
        func string(_ key: String) throws(JSONError) -> String? {
            guard let found = value(key) else { return nil }
            guard let text = found.stringValue else { throw JSONError(message: "\(key) must be a string") }
            return text
        }
        func int(_ key: String) throws(JSONError) -> Int? {
            guard let found = value(key) else { return nil }
            guard let number = found.intValue else { throw JSONError(message: "\(key) must be an integer") }
            return number
        }
        func bool(_ key: String) throws(JSONError) -> Bool? {
            guard let found = value(key) else { return nil }
            guard let flag = found.boolValue else { throw JSONError(message: "\(key) must be true or false") }
            return flag
        }
        func required<T>(_ key: String, _ read: (String) throws(JSONError) -> T?) throws(JSONError) -> T {
            guard let found = try read(key) else { throw JSONError(message: "an event record needs \(key)") }
            return found
        }
        doc = try required("doc", string)
        seq = try required("seq", int)
        ts = Int64(try required("ts", int))
        author = try required("author", string)
        kind = try required("kind", string)
        client_id = try string("client_id")
        base_seq = try int("base_seq")
        block = try string("block")
        hash = try string("hash")
        index = try int("index")
        block_kind = try string("block_kind")
        lang = try string("lang")
        meta = try string("meta")
        path = try string("path")
        style = try string("style")
        opening = try string("opening")
        closing = try string("closing")
        content = try string("content")
        one_empty_line = try bool("one_empty_line")
        prose_before = try string("prose_before")
        prose_after = try string("prose_after")
        patch = try string("patch")
        result_length = try int("result_length")
        sha256 = try string("sha256")
        text = try string("text")
        block_seq = try int("block_seq")
        verdict = try string("verdict")
        document_seq = try int("document_seq")
        command = try string("command")
        started_ms = try int("started_ms").map(Int64.init)
        duration_ms = try int("duration_ms").map(Int64.init)
        exit_code = try int("exit_code")
        output_tail = try string("output_tail")
        line_ending = try string("line_ending")
    }
}
