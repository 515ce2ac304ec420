import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This test binary, started again to run one child-only test, with a pipe on fd 3 for reports.
///
/// The child runs `<test binary> [--testing-library swift-testing] --filter <test>` with
/// `environment` added; the test named by the filter checks for its variable and otherwise
/// is disabled, so a normal run skips it. Its stdout and stderr go to /dev/null.
final class ChildProcess {
    /// The file descriptor on which the child writes its reports.
    static let reportDescriptor: Int32 = 3

    private static let spawnLock = Mutex(())

    let pid: pid_t
    private let readDescriptor: Int32
    private var buffered: [UInt8] = []
    private var isReaped = false

    init(test: String, environment: [String: String]) {
        let executable = Self.executablePath()
        var arguments = [executable]
        if CommandLine.arguments.contains("--testing-library") || executable.hasSuffix(".xctest") {
            arguments += ["--testing-library", "swift-testing"]
        }
        arguments += ["--filter", test]

        var variables: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            if !environment.keys.contains(where: { text.hasPrefix($0 + "=") }) {
                variables.append(text)
            }
            index += 1
        }
        variables += environment.map { "\($0)=\($1)" }

        // Both pipe ends close on exec (dup2 in the child clears the flag on fd 3 only), and pipes are
        // made and children spawned under one lock, so no other child inherits this pipe and keeps it open.
        (readDescriptor, pid) = Self.spawnLock.withLock { _ in
            var pipeDescriptors: [Int32] = [0, 0]
            precondition(pipe(&pipeDescriptors) == 0, "pipe failed: \(errno)")
            _ = fcntl(pipeDescriptors[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeDescriptors[1], F_SETFD, FD_CLOEXEC)

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], Self.reportDescriptor)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

            var pid: pid_t = 0
            let result = Self.withCStrings(arguments) { argv in
                Self.withCStrings(variables) { envp in
                    posix_spawn(&pid, executable, &actions, nil, argv, envp)
                }
            }
            close(pipeDescriptors[1])
            precondition(result == 0, "posix_spawn of \(executable) failed: \(result)")
            return (pipeDescriptors[0], pid)
        }
    }

    deinit {
        if !isReaped {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
        close(readDescriptor)
    }

    /// Kills the child with SIGKILL and waits for it.
    func killNow() {
        kill(pid, SIGKILL)
        _ = waitForExit()
    }

    /// Waits for the child to end; returns its wait status.
    @discardableResult
    func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        isReaped = true
        return status
    }

    /// The next report line, or `nil` at end of file or after `timeoutMilliseconds` without one.
    func readLine(timeoutMilliseconds: Int32 = 20_000) -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            var poller = pollfd(fd: readDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(readDescriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            buffered += chunk[..<count]
        }
    }

    /// Every complete report line until end of file (call after the child ended).
    func remainingLines() -> [String] {
        var lines: [String] = []
        while let line = readLine(timeoutMilliseconds: 1_000) {
            lines.append(line)
        }
        return lines
    }

    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(count > 0, "cannot resolve /proc/self/exe")
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
    ) -> Result {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Writes one report line to the parent (fd 3), in a child started by ``ChildProcess``.
func reportToParent(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(ChildProcess.reportDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
