import Foundation

/// An asset as a response shows it: the record and each variant with the URL a client
/// fetches it from. URLs are made here, in the domain, so that every response that carries
/// one gets it from the same delivery adapter.
public struct PresentedAsset: Sendable {
    public let asset: MediaAsset
    /// The variants in kind order (original, thumbnail, preview, poster), and each one's URL
    /// at the same index: the array the repository made, kept whole, where pairing each
    /// variant with its URL copied every variant (and retained each of its Strings).
    public let variants: [MediaVariant]
    public let urls: [DeliveryURL]
}

/// Loads assets' variants in one query and gives each its URL.
public struct AssetPresenter {
    let variants: VariantRepository
    let delivery: any DeliveryAdapter

    public init(variants: VariantRepository, delivery: any DeliveryAdapter) {
        self.variants = variants
        self.delivery = delivery
    }

    public func present(_ assets: [MediaAsset]) throws -> [PresentedAsset] {
        present(assets, variants: try variants.variants(ofAssets: assets.map(\.id)))
    }

    /// The variants of the assets `ids`, by asset; nil when `rendered` holds a rendering of
    /// what was read (see `RenderedContent`), and then no variant is decoded.
    public func variants(ofAssets ids: [String],
                         unlessRendered rendered: (any RenderedContent)?) throws -> [String: [MediaVariant]]? {
        try variants.variants(ofAssets: ids, unlessKnown: rendered.map { $0.contains })
    }

    /// The assets with their variants (`variants(ofAssets:unlessRendered:)`'s).
    public func present(_ assets: [MediaAsset], variants grouped: [String: [MediaVariant]]) -> [PresentedAsset] {
        assets.map { present($0, variants: grouped[$0.id] ?? []) }
    }

    public func present(_ asset: MediaAsset) throws -> PresentedAsset {
        try present(asset, variants: variants.variants(ofAssets: [asset.id])[asset.id] ?? [])
    }

    /// What response validators include: the URLs' generation (see `DeliveryAdapter`).
    public func urlGeneration(at date: Date) -> String? { delivery.urlGeneration(at: date) }

    /// An asset whose variants are already at hand (just ingested).
    public func present(_ asset: MediaAsset, variants: [MediaVariant]) -> PresentedAsset {
        // Queries read them in this order already (the SQL ENUM's): sorted only when ingest
        // made them in another, so a page's variants are not copied for nothing.
        let inOrder = variants.indices.dropFirst().allSatisfy {
            variants[$0 - 1].kind.displayRank <= variants[$0].kind.displayRank
        }
        let ordered = inOrder ? variants : variants.sorted { $0.kind.displayRank < $1.kind.displayRank }
        return PresentedAsset(asset: asset, variants: ordered,
                              urls: ordered.map { delivery.url(for: $0.storageKey, kind: $0.kind) })
    }
}
