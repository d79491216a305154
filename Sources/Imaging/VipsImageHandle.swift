import CVips

/// Owns one reference to a libvips image and gives it back (media_vips_unref) when the
/// handle goes away, so every path, thrown errors included, releases its GObjects.
/// Sendable: a VipsImage is immutable once built, and libvips' own worker threads read one
/// image from many threads at once (a video frame's variants are made concurrently).
final class VipsImageHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Read once: an image's header fields do not change after it is built.
    private let geometry: MediaImageGeometry

    /// Takes over a new reference from a CVips call; nil when the call failed.
    init?(_ pointer: OpaquePointer?) {
        guard let pointer else { return nil }
        self.pointer = pointer
        geometry = media_vips_geometry(pointer)
    }

    deinit { media_vips_unref(pointer) }

    var width: Int { Int(geometry.width) }
    var height: Int { Int(geometry.height) }
    /// `n-pages` (frames of a GIF, pages of a TIFF, images of a HEIF), 1 when absent.
    var pages: Int { Int(geometry.pages) }
    /// The EXIF orientation, 1 (upright) when absent.
    var orientation: Int { Int(geometry.orientation) }
    var hasColorProfile: Bool { geometry.has_color_profile != 0 }
    var bands: Int { Int(geometry.bands) }
    /// Bytes of one band of one pixel as decoded (1 for 8-bit, 2 for 16-bit, ...).
    var bytesPerBand: Int { Int(geometry.bytes_per_band) }
    /// Set by jpegload for a progressive JPEG and by pngload for an Adam7-interlaced PNG.
    var isInterlaced: Bool { integer("interlaced") == 1 }
    /// Whether jpegload found chroma subsampled (anything but "4:4:4").
    var hasSubsampledChroma: Bool { string("jpeg-chroma-subsample").map { $0 != "4:4:4" } ?? false }

    private func integer(_ field: String) -> Int? {
        var value: Int32 = 0
        return media_vips_get_int(pointer, field, &value) == 0 ? Int(value) : nil
    }

    private func string(_ field: String) -> String? {
        media_vips_get_string(pointer, field).map { String(cString: $0) }
    }
}
