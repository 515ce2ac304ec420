// swift-tools-version: 6.1
// Sluice benchmarks: a package of their own, so they stay out of the default build and
// out of `make test`. Run them with `bash Benchmarks/run.sh` (or `make bench`).
import PackageDescription

let package = Package(
    name: "SluiceBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice-bench", targets: ["SluiceBench"]),
    ],
    dependencies: [
        .package(name: "Sluice", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // The ceiling: plain C librdkafka loops that only count.
        .target(
            name: "RawKafka",
            linkerSettings: [.linkedLibrary("rdkafka")]
        ),
        .executableTarget(
            name: "SluiceBench",
            dependencies: [
                "RawKafka",
                .product(name: "Sluice", package: "Sluice"),
                .product(name: "SluiceKafka", package: "Sluice"),
                .product(name: "SluiceTesting", package: "Sluice"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
