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

    public struct AttachTarget: Codable, Sendable, Equatable {
        public var ownerType: MediaOwnerType
        public var ownerId: String
        public var role: MediaRole

        public init(ownerType: MediaOwnerType, ownerId: String, role: MediaRole) {
            self.ownerType = ownerType
            self.ownerId = ownerId
            self.role = role
        }
    }

    public var width: Int
    public var height: Int
    public var seed: UInt64
    public var quality: String?
    public var style: String?
    public var attach: AttachTarget?

    public init(width: Int, height: Int, seed: UInt64, quality: String? = nil, style: String? = nil,
                attach: AttachTarget? = nil) {
        self.width = width
        self.height = height
        self.seed = seed
        self.quality = quality
        self.style = style
        self.attach = attach
    }

    public var size: String { "\(width)x\(height)" }

    public static func isAllowed(width: Int, height: Int) -> Bool {
        allowedSizes.contains { $0.width == width && $0.height == height }
    }

    public var json: JSONText { (try? JSONText(encoding: self)) ?? JSONText("{}") }
}
