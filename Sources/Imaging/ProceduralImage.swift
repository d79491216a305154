import CVips
import Foundation

/// The offline image "generator": a gradient with shapes drawn over it, every choice
/// taken from a hash of the prompt and the seed. The same request always gives the same
/// PNG, and a different prompt or seed a visibly different one, so the whole generation
/// flow can run and be tested with no provider and no network.
public enum ProceduralImage {
    /// The side lengths it renders.
    public static let sides = 16...4096

    public static func render(prompt: String, seed: UInt64, width: Int, height: Int) throws -> [UInt8] {
        guard sides.contains(width), sides.contains(height) else {
            throw ImagingError.invalidDimensions(width: width, height: height)
        }
        try Vips.initialize()
        var random = SplitMix64(state: fnv1a(prompt) ^ seed &* 0x9E37_79B9_7F4A_7C15)
        let baseHue = random.unit()
        let from = rgb(hue: baseHue, saturation: 0.55, value: 0.95)
        let to = rgb(hue: (baseHue + 0.35 + 0.3 * random.unit()).truncatingRemainder(dividingBy: 1),
                     saturation: 0.75, value: 0.35)
        let angle = random.unit() * 2 * Double.pi
        let shortSide = Double(min(width, height))
        let shapes = (0..<(5 + Int(random.next() % 10))).map { _ -> MediaShape in
            let color = rgb(hue: random.unit(), saturation: 0.4 + 0.5 * random.unit(), value: 0.5 + 0.5 * random.unit())
            return MediaShape(kind: random.next() % 2 == 0 ? MEDIA_SHAPE_CIRCLE : MEDIA_SHAPE_RECT,
                              x: Int32(random.unit() * Double(width)), y: Int32(random.unit() * Double(height)),
                              size: Int32(shortSide * (0.04 + 0.22 * random.unit())),
                              ink: (color[0], color[1], color[2]))
        }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard media_vips_render_png(Int32(width), Int32(height), from, to, angle, shapes, Int32(shapes.count),
                                    &buffer, &length) == 0, let buffer else {
            throw ImagingError.processingFailed("procedural render failed: \(Vips.takeError())")
        }
        defer { media_vips_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    /// FNV-1a: a hash that, unlike Swift's `Hasher`, is the same in every process.
    private static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// HSV (all 0...1) to RGB 0...255.
    private static func rgb(hue: Double, saturation: Double, value: Double) -> [Double] {
        let sector = hue * 6
        let fraction = sector - sector.rounded(.down)
        let p = value * (1 - saturation)
        let q = value * (1 - saturation * fraction)
        let t = value * (1 - saturation * (1 - fraction))
        let channels: (Double, Double, Double) = switch Int(sector) % 6 {
        case 0: (value, t, p)
        case 1: (q, value, p)
        case 2: (p, value, t)
        case 3: (p, q, value)
        case 4: (t, p, value)
        default: (value, p, q)
        }
        return [channels.0 * 255, channels.1 * 255, channels.2 * 255]
    }
}

/// SplitMix64: a tiny, well-mixed generator whose sequence is fixed by its seed.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
