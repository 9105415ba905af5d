/// Version numbers of the tool and of the formats it writes.
public enum MarksyncVersion {
    /// The version of marksync-log.
    public static let tool = "0.1.0"
    /// The version of the log format (schema and event encoding). A binary refuses a log with a newer one.
    public static let logFormat = 1
}
