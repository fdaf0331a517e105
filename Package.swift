// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "SwitchboardCore", targets: ["SwitchboardCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "SwitchboardCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SwitchboardStore", dependencies: ["SwitchboardCore", "CSQLite"]),
        .target(
            name: "SwitchboardServer",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardStore",
                "SwitchboardServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            // The end-to-end tests run the binary and read its database back through the store.
            dependencies: ["SwitchboardCore", "SwitchboardStore"],
            // Labelled data the tests read from the source tree, not bundled resources.
            exclude: ["DevSet"]
        ),
        .testTarget(name: "SwitchboardStoreTests", dependencies: ["SwitchboardStore", "SwitchboardCore"]),
        .testTarget(
            name: "SwitchboardServerTests",
            dependencies: ["SwitchboardServer", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
    ]
)

// One set of Swift settings for every target (a system library has no Swift to set them on).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
