import CVips

/// Owns one reference to a libvips image and gives it back (g_object_unref) when the
/// handle goes away, so every path, thrown errors included, releases its GObjects.
/// Sendable: a VipsImage is immutable once built, and libvips' own worker threads read one
/// image from many threads at once (a video frame's variants are made concurrently).
final class VipsImageHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<VipsImage>

    /// Takes over a new reference from a CVips call; nil when the call failed.
    init?(_ pointer: UnsafeMutablePointer<VipsImage>?) {
        guard let pointer else { return nil }
        self.pointer = pointer
    }

    deinit { g_object_unref(pointer) }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    /// `n-pages` (frames of a GIF, pages of a TIFF, images of a HEIF), 1 when absent.
    var pages: Int { Int(vips_image_get_n_pages(pointer)) }
    /// The EXIF orientation, 1 (upright) when absent.
    var orientation: Int { Int(vips_image_get_orientation(pointer)) }
    var hasColorProfile: Bool { vips_image_get_typeof(pointer, VIPS_META_ICC_NAME) != 0 }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    /// Bytes of one band of one pixel as decoded (1 for 8-bit, 2 for 16-bit, ...).
    var bytesPerBand: Int { Int(vips_format_sizeof(vips_image_get_format(pointer))) }
    /// Set by jpegload for a progressive JPEG and by pngload for an Adam7-interlaced PNG.
    var isInterlaced: Bool { integer("interlaced") == 1 }
    /// Whether jpegload found chroma subsampled (anything but "4:4:4").
    var hasSubsampledChroma: Bool { string("jpeg-chroma-subsample").map { $0 != "4:4:4" } ?? false }

    private func integer(_ field: String) -> Int? {
        guard vips_image_get_typeof(pointer, field) != 0 else { return nil }
        var value: Int32 = 0
        return vips_image_get_int(pointer, field, &value) == 0 ? Int(value) : nil
    }

    private func string(_ field: String) -> String? {
        guard vips_image_get_typeof(pointer, field) != 0 else { return nil }
        var value: UnsafePointer<CChar>?
        return vips_image_get_string(pointer, field, &value) == 0 ? value.map { String(cString: $0) } : nil
    }
}
