import Foundation

/// A revision as the history commands take it: wherever a seq is accepted (`--to`, `--at`, `diff A B`),
/// so are `HEAD`, `HEAD~N`, an ISO-8601 time and a relative time such as `2h`.
///
/// Parsing is pure: it does no I/O and takes "now" from the caller. A time is resolved to a seq by the
/// store (the last event at or before that time).
public enum Revision: Sendable, Equatable, CustomStringConvertible {
    /// An event's seq (`0` is the empty document).
    case seq(Int)
    /// `HEAD` (`back` = 0) or `HEAD~N`: N events before the head.
    case head(back: Int)
    /// An instant, in Unix milliseconds: the document as it was at that time.
    case time(ms: Int64)

    /// Why a revision does not parse.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var description: String {
            "\(text.debugDescription) is not a revision: use a seq (42), HEAD, HEAD~N, an ISO time "
                + "(2026-12-08T10:00:00Z, 2026-12-08 10:00, 2026-12-08) or a relative time (30s, 15m, 2h, 3d, 1w)"
        }
    }

    /// Parses a revision.
    /// - Parameters:
    ///   - text: `42`, `HEAD`, `head~3`, `HEAD^`, `2026-12-08T10:00:00Z`, `2026-12-08 10:00:00+01:00`,
    ///     `2026-12-08` (midnight), `2h`, `30m`, `3d`, `1w`, `45s`, `2h ago`.
    ///   - now: the current time (relative times count back from it).
    ///   - timeZone: the zone of an ISO time written without one (the user's local zone).
    public init(parsing text: String, now: Date, timeZone: TimeZone = .current) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seq = Int(trimmed), seq >= 0 {
            self = .seq(seq)
            return
        }
        let upper = trimmed.uppercased()
        if upper == "HEAD" || upper == "@" {
            self = .head(back: 0)
            return
        }
        if upper.hasPrefix("HEAD~") || upper.hasPrefix("HEAD^") {
            let rest = upper.dropFirst(5)
            if rest.isEmpty {
                self = .head(back: 1)
                return
            }
            if upper.hasPrefix("HEAD~"), let back = Int(rest), back >= 0 {
                self = .head(back: back)
                return
            }
            if rest.allSatisfy({ $0 == "^" }) {
                self = .head(back: rest.count + 1)
                return
            }
            throw ParseError(text: text)
        }
        if let seconds = Self.relativeSeconds(trimmed) {
            self = .time(ms: Int64(((now.timeIntervalSince1970 - seconds) * 1000).rounded()))
            return
        }
        if let date = Self.isoDate(trimmed, timeZone: timeZone) {
            self = .time(ms: Int64((date.timeIntervalSince1970 * 1000).rounded()))
            return
        }
        throw ParseError(text: text)
    }

    public var description: String {
        switch self {
        case .seq(let seq): String(seq)
        case .head(let back): back == 0 ? "HEAD" : "HEAD~\(back)"
        case .time(let ms): "@\(ms)ms"
        }
    }

    /// The seq of a `.seq` or `.head` revision given the head seq (nil for a time, which needs the log).
    public func seq(head: Int) -> Int? {
        switch self {
        case .seq(let seq): seq
        case .head(let back): max(0, head - back)
        case .time: nil
        }
    }

    /// `2h`, `30m`, `3d`, `1w`, `45s` (also `2 hours`, `2h ago`): seconds back from now.
    static func relativeSeconds(_ text: String) -> Double? {
        var body = text.lowercased()
        if body.hasSuffix(" ago") { body.removeLast(4) }
        body = body.replacingOccurrences(of: " ", with: "")
        let digits = body.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let amount = Double(digits), amount >= 0 else { return nil }
        let unit = body.dropFirst(digits.count)
        let units: [(names: [String], seconds: Double)] = [
            (["s", "sec", "secs", "second", "seconds"], 1),
            (["m", "min", "mins", "minute", "minutes"], 60),
            (["h", "hr", "hrs", "hour", "hours"], 3600),
            (["d", "day", "days"], 86400),
            (["w", "week", "weeks"], 604_800),
        ]
        for entry in units where entry.names.contains(String(unit)) { return amount * entry.seconds }
        return nil
    }

    /// An ISO-8601 time: date, date and time (`T` or a space, with or without seconds and fraction), with
    /// `Z`, `±HH:MM`, `±HHMM` or no zone (then `timeZone`).
    static func isoDate(_ text: String, timeZone: TimeZone) -> Date? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func number(_ count: Int) -> Int? {
            guard index + count <= scalars.count else { return nil }
            var value = 0
            for scalar in scalars[index..<index + count] {
                guard let digit = Int(String(scalar)), ("0"..."9").contains(scalar) else { return nil }
                value = value * 10 + digit
            }
            index += count
            return value
        }
        func expect(_ character: Unicode.Scalar) -> Bool {
            guard index < scalars.count, scalars[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        var components = DateComponents(year: year, month: month, day: day, hour: 0, minute: 0, second: 0)
        var fraction = 0.0
        var zone = timeZone
        if index < scalars.count {
            guard expect("T") || expect("t") || expect(" ") else { return nil }
            guard let hour = number(2), expect(":"), let minute = number(2) else { return nil }
            components.hour = hour
            components.minute = minute
            if expect(":") {
                guard let second = number(2) else { return nil }
                components.second = second
                if expect(".") || expect(",") {
                    let start = index
                    while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
                    guard index > start, let value = Double("0." + String(String.UnicodeScalarView(scalars[start..<index]))) else { return nil }
                    fraction = value
                }
            }
            if index < scalars.count {
                if expect("Z") || expect("z") {
                    zone = TimeZone(secondsFromGMT: 0)!
                } else if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" {
                    let sign = scalars[index] == "-" ? -1 : 1
                    index += 1
                    guard let hours = number(2) else { return nil }
                    _ = expect(":")
                    let minutes = number(2) ?? 0
                    guard let offset = TimeZone(secondsFromGMT: sign * (hours * 3600 + minutes * 60)) else { return nil }
                    zone = offset
                } else {
                    return nil
                }
            }
        }
        guard index == scalars.count else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(components.hour!), (0...59).contains(components.minute!),
            (0...60).contains(components.second!)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        components.timeZone = zone
        guard let date = calendar.date(from: components) else { return nil }
        // Reject dates the calendar rolled over (2026-02-31).
        guard calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(fraction)
    }
}
