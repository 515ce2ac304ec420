/// What a scan does after visiting an entry.
public enum LMDBScanControl: Sendable, Hashable {
    /// Visit the next entry of the range.
    case next
    /// End the scan here.
    case stop
}
