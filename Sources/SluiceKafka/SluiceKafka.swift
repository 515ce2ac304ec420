// Placeholder until the Kafka layer lands.
enum SluiceKafkaModule {}
