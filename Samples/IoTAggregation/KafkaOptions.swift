import Foundation
import ArgumentParser
import SluiceKafka

/// The `--brokers` flag every Kafka subcommand shares.
struct KafkaOptions: ParsableArguments {
    /// Bootstrap brokers, comma-separated.
    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap brokers, comma-separated.", valueName: "host:port[,host:port…]"))
    var brokers: String

    /// The brokers as a list.
    var bootstrapServers: [String] {
        brokers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The brokers as given, for messages.
    var description: String { bootstrapServers.joined(separator: ",") }

    /// A client configuration for these brokers.
    func configuration(clientID: String) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrapServers)
        configuration.clientID = clientID
        return configuration
    }

    mutating func validate() throws {
        do {
            try KafkaConfiguration(bootstrapServers: bootstrapServers).validate()
        } catch let error as KafkaError {
            throw ValidationError("--brokers: \(error.message)")
        }
    }
}
