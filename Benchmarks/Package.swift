// swift-tools-version: 6.0
// Benchmarks of lrj's libraries, kept out of the root package so that `swift build` and `swift test`
// never compile them. Run with ./index-bench.sh or ./synopsis-bench.sh (release build).
import PackageDescription

let package = Package(
  name: "lrj-benchmarks",
  platforms: [.macOS(.v14)],
  dependencies: [
    .package(name: "lrj", path: ".."),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
  ],
  targets: [
    .executableTarget(
      name: "index-bench",
      dependencies: [
        .product(name: "Index", package: "lrj"),
        .product(name: "Consultation", package: "lrj"),
        .product(name: "Store", package: "lrj"),
        .product(name: "StorePostgres", package: "lrj"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
      ]),
    .executableTarget(
      name: "synopsis-plan",
      dependencies: [
        .product(name: "Synopsis", package: "lrj"),
        .product(name: "Index", package: "lrj"),
      ],
      swiftSettings: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
      ]),
  ]
)
