import Sluice
import SluiceTesting
import Testing

@Suite("WindowKind validation")
struct WindowKindTests {
    @Test(
        "Valid window kinds pass validation",
        arguments: [
            WindowKind.tumbling(.milliseconds(1)), .tumbling(.seconds(10)), .hopping(size: .seconds(10), slide: .seconds(10)),
            .hopping(size: .seconds(10), slide: .seconds(3)), .hopping(size: .milliseconds(1), slide: .milliseconds(1)),
            .session(gap: .milliseconds(1)), .session(gap: .seconds(30)),
        ])
    func validKinds(kind: WindowKind) throws {
        try kind.validate()
    }

    @Test(
        "Invalid window kinds throw an invalid-configuration error that names the problem",
        arguments: [
            (WindowKind.tumbling(.zero), "tumbling"),
            (.tumbling(.microseconds(999)), "tumbling"),
            (.tumbling(.seconds(-1)), "tumbling"),
            (.hopping(size: .seconds(10), slide: .zero), "hopping"),
            (.hopping(size: .zero, slide: .zero), "hopping"),
            (.hopping(size: .seconds(5), slide: .seconds(10)), "slide"),
            (.session(gap: .zero), "session"),
            (.session(gap: .seconds(-5)), "session"),
        ])
    func invalidKinds(kind: WindowKind, mentioning word: String) {
        let error = #expect(throws: SluiceError.self) { try kind.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(word) == true, "\(error?.message ?? "")")
    }

    @Test("A slide longer than the size names both durations")
    func slideLongerThanSize() {
        let error = #expect(throws: SluiceError.self) {
            try WindowKind.hopping(size: .seconds(5), slide: .seconds(10)).validate()
        }
        #expect(error?.message.contains("10") == true && error?.message.contains("5") == true, "\(error?.message ?? "")")
    }

    /// A pipeline with an invalid window must be refused when it is defined, as the other
    /// programmer mistakes in a definition are (a session without a merge function, a negative
    /// allowed lateness), instead of dividing by zero on its first record.
    @Test("Defining a pipeline with an invalid window is refused")
    func definitionRejectsInvalidWindow() async {
        await #expect(processExitsWith: .failure) {
            _ = EnginePipelines.keyed().window(.tumbling(.zero)).count()
        }
    }
}
