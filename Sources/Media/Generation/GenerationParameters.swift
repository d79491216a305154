import Foundation
import MariaDB

/// What a job asks the provider for, stored as the job's `params` JSON. Only the known
/// keys are accepted; the attach target rides along so the runner can attach the result.
public struct GenerationParameters: Codable, Sendable, Equatable {
    /// Sizes every provider supports (OpenAI's DALL·E 3 / gpt-image sizes, and small
    /// squares for previews and tests).
    public static let allowedSizes: [(width: Int, height: Int)] = [
        (256, 256), (512, 512), (1024, 1024), (1024, 1536), (1536, 1024), (1024, 1792), (1792, 1024),
    ]
    public static let defaultSize = (width: 1024, height: 1024)

    public var width: Int
    public var height: Int
    public var seed: UInt64
    public var quality: String?
    public var style: String?
    public var attach: AttachmentTarget?

    public init(width: Int, height: Int, seed: UInt64, quality: String? = nil, style: String? = nil,
                attach: AttachmentTarget? = nil) {
        self.width = width
        self.height = height
        self.seed = seed
        self.quality = quality
        self.style = style
        self.attach = attach
    }

    public static let qualities = ["standard", "hd", "low", "medium", "high", "auto"]
    public static let styles = ["vivid", "natural"]
    /// Seeds stay exact in JSON (a double's integer range).
    public static let maxSeed: UInt64 = 1 << 53

    /// What a client asked for, checked: a size from the list (width alone means a square,
    /// neither means the default), a known quality and style, a JSON-safe seed (random when
    /// absent).
    public static func validated(width: Int?, height: Int?, seed: UInt64?, quality: String?,
                                 style: String?) throws -> GenerationParameters {
        let chosenWidth = width ?? defaultSize.width
        let chosenHeight = height ?? (width == nil ? defaultSize.height : chosenWidth)
        guard isAllowed(width: chosenWidth, height: chosenHeight) else {
            let sizes = allowedSizes.map { "\($0.width)x\($0.height)" }.joined(separator: ", ")
            throw MediaError.invalid(code: "invalid_size",
                                     message: "Size \(chosenWidth)x\(chosenHeight) is not offered; one of: \(sizes).")
        }
        if let quality, !qualities.contains(quality) {
            throw MediaError.invalid(code: "invalid_params",
                                     message: "`quality` is one of: \(qualities.joined(separator: ", ")).")
        }
        if let style, !styles.contains(style) {
            throw MediaError.invalid(code: "invalid_params", message: "`style` is one of: \(styles.joined(separator: ", ")).")
        }
        if let seed, seed > maxSeed {
            throw MediaError.invalid(code: "invalid_params", message: "`seed` is at most 2^53 (JSON-safe).")
        }
        return GenerationParameters(width: chosenWidth, height: chosenHeight, seed: seed ?? UInt64.random(in: 0...maxSeed),
                                    quality: quality, style: style)
    }

    public var size: String { "\(width)x\(height)" }

    public static func isAllowed(width: Int, height: Int) -> Bool {
        allowedSizes.contains { $0.width == width && $0.height == height }
    }

    public var json: JSONText { (try? JSONText(encoding: self)) ?? JSONText("{}") }
}
