import SluiceKafka

/// Parses and carries out control-channel commands (see `main.swift`).
struct ControlChannel: Sendable {
    enum Reply: Equatable {
        case ok
        case error(String)
        case quit
    }

    let cluster: KafkaMockCluster

    /// Executes one command line; `nil` for a blank line or a `#` comment.
    func execute(_ line: String) -> Reply? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let command = words.first?.lowercased(), !command.hasPrefix("#") else { return nil }
        let arguments = Array(words.dropFirst())
        do {
            switch command {
            case "down", "up":
                guard arguments.count == 1, let broker = Int32(arguments[0]) else {
                    return .error("usage: \(command) <broker>")
                }
                if command == "down" { try cluster.setBrokerDown(broker) } else { try cluster.setBrokerUp(broker) }
            case "rtt":
                guard arguments.count == 2, let broker = Int32(arguments[0]), let rtt = Self.duration(arguments[1]) else {
                    return .error("usage: rtt <broker> <duration, e.g. 500ms or 2s>")
                }
                try cluster.setRoundTripTime(rtt, broker: broker)
            case "errors":
                guard arguments.count >= 2, let apiKey = Self.apiKey(arguments[0]) else {
                    return .error("usage: errors <apiKey> <error> [<error>...]")
                }
                var codes: [Int32] = []
                for name in arguments.dropFirst() {
                    guard let code = Self.errorCode(name) else { return .error("unknown error code \(name)") }
                    codes.append(code)
                }
                try cluster.pushRequestErrors(apiKey: apiKey, errors: codes)
            case "clear":
                guard arguments.count == 1, let apiKey = Self.apiKey(arguments[0]) else {
                    return .error("usage: clear <apiKey>")
                }
                try cluster.clearRequestErrors(apiKey: apiKey)
            case "topic":
                guard (2...3).contains(arguments.count), let partitions = Int(arguments[1]),
                    let replication = arguments.count == 3 ? Int(arguments[2]) : 1
                else {
                    return .error("usage: topic <name> <partitions> [<replicationFactor>]")
                }
                try cluster.createTopic(arguments[0], partitions: partitions, replicationFactor: replication)
            case "quit", "exit":
                return .quit
            default:
                return .error("unknown command \(command); commands: down, up, rtt, errors, clear, topic, quit")
            }
            return .ok
        } catch let error as KafkaError {
            return .error(error.message)
        } catch {
            return .error("\(error)")
        }
    }

    /// `500ms`, `2s`, `1.5s` or `0`.
    /// `nil` for anything else, negative or longer than an hour (`inf` and `nan` included).
    static func duration(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var milliseconds: Double?
        if text.hasSuffix("ms") {
            milliseconds = Double(text.dropLast(2))
        } else if text.hasSuffix("s") {
            milliseconds = Double(text.dropLast()).map { $0 * 1_000 }
        }
        // Whole milliseconds, as the mock keeps them: anything else would be cut without a word
        // (`0.5ms` to no delay at all).
        guard let milliseconds, milliseconds >= 0, milliseconds <= 3_600_000, milliseconds == milliseconds.rounded() else { return nil }
        return .milliseconds(milliseconds)
    }

    private static let apiKeys: [String: Int16] = [
        "produce": KafkaMockCluster.APIKey.produce, "fetch": KafkaMockCluster.APIKey.fetch,
        "listoffsets": KafkaMockCluster.APIKey.listOffsets, "metadata": KafkaMockCluster.APIKey.metadata,
        "offsetcommit": KafkaMockCluster.APIKey.offsetCommit, "offsetfetch": KafkaMockCluster.APIKey.offsetFetch,
        "findcoordinator": KafkaMockCluster.APIKey.findCoordinator, "joingroup": KafkaMockCluster.APIKey.joinGroup,
        "heartbeat": KafkaMockCluster.APIKey.heartbeat, "syncgroup": KafkaMockCluster.APIKey.syncGroup,
        "initproducerid": KafkaMockCluster.APIKey.initProducerID,
    ]

    /// Kafka's request kinds are numbered from 0; librdkafka 2.0.2 knows the first 68 (`RD_KAFKAP__NUM`),
    /// and the mock matches injected errors against those only.
    static let apiKeyRange: ClosedRange<Int16> = 0...67

    static func apiKey(_ text: String) -> Int16? {
        guard let key = Int16(text) ?? apiKeys[text.lowercased()], apiKeyRange.contains(key) else { return nil }
        return key
    }

    private static let errorCodes: [String: Int32] = [
        "UNKNOWN_TOPIC_OR_PARTITION": KafkaMockCluster.ErrorCode.unknownTopicOrPartition,
        "LEADER_NOT_AVAILABLE": KafkaMockCluster.ErrorCode.leaderNotAvailable,
        "NOT_LEADER_FOR_PARTITION": KafkaMockCluster.ErrorCode.notLeaderForPartition,
        "NOT_LEADER_OR_FOLLOWER": KafkaMockCluster.ErrorCode.notLeaderForPartition,
        "REQUEST_TIMED_OUT": KafkaMockCluster.ErrorCode.requestTimedOut,
        "NETWORK_EXCEPTION": KafkaMockCluster.ErrorCode.networkException,
        "COORDINATOR_NOT_AVAILABLE": KafkaMockCluster.ErrorCode.coordinatorNotAvailable,
        "NOT_COORDINATOR": KafkaMockCluster.ErrorCode.notCoordinator,
        "NOT_ENOUGH_REPLICAS": KafkaMockCluster.ErrorCode.notEnoughReplicas,
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND": KafkaMockCluster.ErrorCode.notEnoughReplicasAfterAppend,
        "REBALANCE_IN_PROGRESS": KafkaMockCluster.ErrorCode.rebalanceInProgress,
    ]

    /// A Kafka error number (an `int16` on the wire, so other numbers are refused) or name.
    static func errorCode(_ text: String) -> Int32? {
        if let number = Int16(text) { return Int32(number) }
        return errorCodes[text.uppercased()]
    }
}
