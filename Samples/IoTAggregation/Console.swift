import Foundation

/// Writes lines to standard output (flushed at once, so pipes see them) and standard error.
enum Console {
    /// Prints `text` and a newline to standard output and flushes it.
    static func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    /// Writes `text` and a newline to standard error.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether standard output is a terminal.
    static var isTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
}
