// swift-tools-version: 6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

// L7 at compile time (DESIGN.md §2, §8): every target of Sources that Swift compiles runs this
// build-tool plugin first; it applies the rules of Plugins/L7Rules to the target's files, to the C
// and system-library targets it depends on and to this manifest, and fails the build naming the
// file, the line and the rule of anything L7 excludes.
let l7: [Target.PluginUsage] = [.plugin(name: "L7Check")]

let package = Package(
  name: "lrj",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "lrj", targets: ["lrj"]),
    // Libraries, exported for the Benchmarks package.
    .library(name: "Media", targets: ["Media"]),
    .library(name: "Index", targets: ["Index"]),
    .library(name: "Ingest", targets: ["Ingest"]),
    .library(name: "Synopsis", targets: ["Synopsis"]),
    .library(name: "Consultation", targets: ["Consultation"]),
    .library(name: "Store", targets: ["Store"]),
    .library(name: "StorePostgres", targets: ["StorePostgres"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
  ],
  targets: [
    // C libraries from Debian, wrapped as header-only system modules.
    .systemLibrary(
      name: "CFFmpeg", pkgConfig: "libavformat",
      providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    // cairo and Pango lay out and write the closure report's PDF.
    .systemLibrary(name: "CPangoCairo", pkgConfig: "pangocairo", providers: [.apt(["libpango1.0-dev", "libcairo2-dev"])]),
    // Compiled C: FFmpeg's log callback takes a va_list, which Swift cannot format.
    .target(
      name: "CFFmpegLog", dependencies: ["CFFmpeg"]),
    // Compiled C++ behind a C header: OpenCV's DNN module running the optional CNN classifier
    // (YOLOX-nano). Debian ships no opencv4.pc without the whole of libopencv-dev, so the include
    // folder and the three libraries (core, imgproc, dnn: nothing else) are named here.
    .target(
      name: "CObjectClassifier",
      cxxSettings: [.unsafeFlags(["-I/usr/include/opencv4"])],
      linkerSettings: [.unsafeFlags(["-lopencv_dnn", "-lopencv_imgproc", "-lopencv_core"])]),
    // Compiled C: OpenVINO's C API bound at run time (dlopen) from the PyPI wheel's libraries when
    // `make deps` installed them; nothing of OpenVINO is linked.
    .target(name: "COpenVINO"),  // dlopen is in glibc itself (2.34 and later)

    // Libraries, in dependency order (DESIGN.md §3).
    .target(
      name: "Media",
      dependencies: ["CFFmpeg", "CFFmpegLog", "CPNG", "CPangoCairo", .product(name: "Logging", package: "swift-log")],
      swiftSettings: swiftSettings, plugins: l7),
    // The store: values and protocols only (no engine); an engine per database (DESIGN.md §3).
    .target(name: "Store", swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "StoreSQLite",
      dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "StorePostgres",
      dependencies: [
        "Store", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "Index",
      dependencies: [
        "Store", "StoreSQLite",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "Ingest",
      dependencies: [
        "Media", "Index", "CObjectClassifier", "COpenVINO", "L7Rules",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "Synopsis",
      dependencies: ["Media", "Index", .product(name: "Logging", package: "swift-log")],
      swiftSettings: swiftSettings, plugins: l7),
    .target(
      name: "Consultation",
      dependencies: [
        "Ingest", "Synopsis", "Index", "Media", "Store", "StoreSQLite", "StorePostgres",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings, plugins: l7),

    // The executable: argument parsing and printing only.
    .executableTarget(
      name: "lrj",
      dependencies: [
        "Consultation", "Media", "Index", "Ingest", "Synopsis",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: swiftSettings, plugins: l7),
    // Renders the synthetic Samples clip and its ground truth (see Samples/README.md).
    .executableTarget(
      name: "lrj-samplegen",
      dependencies: ["Media", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: swiftSettings, plugins: l7),

    // L7's rules (one place: the scanner the plugin runs, Ingest's check of a detector model's
    // classes and the tests use them), the scanner and the plugin. They live in Plugins/, which is
    // not scanned: the rules have to spell what they refuse.
    .target(name: "L7Rules", path: "Plugins/L7Rules", swiftSettings: swiftSettings),
    .executableTarget(name: "lrj-l7-scan", dependencies: ["L7Rules"], path: "Plugins/L7Scan", swiftSettings: swiftSettings),
    .plugin(name: "L7Check", capability: .buildTool(), dependencies: ["lrj-l7-scan"]),

    // One test target per module; lrjTests drives the built executables end to end.
    .target(name: "TestSupport", dependencies: ["Media"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
    .testTarget(
      name: "StoreTests", dependencies: ["Store", "StoreSQLite", "StorePostgres", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(name: "MediaTests", dependencies: ["Media", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(
      name: "IndexTests",
      dependencies: ["Index", "Store", "StoreSQLite", "StorePostgres", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "IngestTests", dependencies: ["Ingest", "Index", "Media", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(name: "L7RulesTests", dependencies: ["L7Rules", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(name: "SynopsisTests", dependencies: ["Synopsis", "Index", "Media"], swiftSettings: swiftSettings),
    .testTarget(
      name: "ConsultationTests",
      dependencies: [
        "Consultation", "Index", "TestSupport", "Store", "StoreSQLite", "StorePostgres", "L7Rules",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Crypto", package: "swift-crypto"),
      ], swiftSettings: swiftSettings),
    .testTarget(
      name: "lrjTests", dependencies: [
        "lrj", "lrj-samplegen", "Media", "Index", "Consultation", "Synopsis", "TestSupport", "Store", "StorePostgres",
        .product(name: "GRDB", package: "GRDB.swift"),
      ], swiftSettings: swiftSettings),
  ]
)
