/// The Swift client of the sync protocol (being written).
public enum MarksyncClientVersion {
    public static let protocolVersion = 1
}
