#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Sluice
import SluiceTesting
import Testing

/// What `CrashRecoveryHarness.Report` counts as a crash point reached.
@Suite("Crash recovery report")
struct CrashRecoveryReportTests {
    @Test("a run the harness killed at its timeout did not reach its crash point; one that killed itself did")
    func timedOutRunsDoNotCountAsReached() {
        var report = CrashRecoveryHarness.Report()
        report.crashPointOutcomes = [
            .midPublish: .signaled(SIGKILL), .beforeOutboxTrim: .signaled(SIGKILL), .beforeOffsetCommit: .exited(0),
        ]
        report.crashPointsTimedOut = [.beforeOutboxTrim]
        #expect(report.crashPointsReached == [.midPublish])
    }
}
