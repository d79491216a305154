#ifndef CVIPS_H
#define CVIPS_H

/* Non-variadic wrappers around libvips 8.14 for Swift, which cannot call C variadic
 * functions (vips_thumbnail(..., NULL)) or macros (VIPS_INIT).
 *
 * Conventions: functions returning VipsImage * return a new reference (release it with
 * g_object_unref) or NULL on failure; functions returning int return 0 on success and
 * -1 on failure. After any failure call media_vips_take_error() at once: the libvips
 * error buffer is process-global. */

#include <stddef.h>

/* libvips' image, opaque here: this header is all the Swift side sees, and libvips is
 * opened at run time (library.h), not linked. */
typedef struct _VipsImage VipsImage;

/* Receives libvips warnings (domain "VIPS"), which would otherwise go to stderr as
 * plain text between the service's JSON log lines. */
typedef void (*media_vips_warning_handler)(const char *message);

/* Opens libvips (it is not linked: see library.h), vips_init, then the settings an
 * untrusted-input server needs: block untrusted loaders (svg, pdf, ImageMagick, ...),
 * no operation cache, `concurrency` worker threads. */
int media_vips_init(const char *argv0, int concurrency, media_vips_warning_handler warnings);

/* The libvips error buffer's text, which is then cleared (or, before libvips opened,
 * why it did not); free it with media_vips_free. */
char *media_vips_take_error(void);

/* Frees what libvips allocated: error text, encoded buffers. */
void media_vips_free(void *memory);

/* Gives back one reference to an image. */
void media_vips_unref(VipsImage *image);

/* libvips' own count of its live allocations, and their bytes (the leak test's measure). */
int media_vips_tracked_allocations(void);
size_t media_vips_tracked_memory(void);

/* libvips' version, "8.14.1". */
const char *media_vips_version(void);

typedef struct {
    int width, height;
    int pages;             /* n-pages (frames, HEIF images), 1 when absent */
    int orientation;       /* EXIF orientation, 1 when absent */
    int bands;
    int bytes_per_band;    /* as decoded: 1 for 8-bit, 2 for 16-bit, ... */
    int has_color_profile; /* an embedded ICC profile */
} MediaImageGeometry;

MediaImageGeometry media_vips_geometry(VipsImage *image);

/* An integer or string header field: 0 and *value, or -1 (NULL) when absent. The string
 * belongs to the image. */
int media_vips_get_int(VipsImage *image, const char *field, int *value);
const char *media_vips_get_string(VipsImage *image, const char *field);

/* The nickname of the file loader libvips would pick for `path` ("jpegload", ...),
 * or NULL if none accepts it. Sniffs the file's bytes. In 8.14.1 this can name a
 * blocked loader ("svgload"): blocking only takes effect when the loader runs. */
const char *media_vips_find_loader(const char *path);

/* Opens `path` reading the header only: pixels are decoded only when something asks
 * for them. */
VipsImage *media_vips_open_header(const char *path);

/* One downsizing thumbnail of the first page or frame, fitting max_side x max_side,
 * never upscaled, auto-rotated, in 8-bit sRGB. Decoding happens lazily, so corrupt
 * pixel data (fail_on = error) fails later, in media_vips_decode.
 * Pass has_profile when the file embeds an ICC profile: only then is export_profile
 * "srgb" set. In 8.14.1 setting it on an untagged image routes the pixels through
 * libvips' own sRGB -> Lab conversion and shifts saturated colours (pure blue comes
 * out as 85,15,253); untagged RGB is sRGB already. */
VipsImage *media_vips_thumbnail(const char *path, int max_side, int has_profile);

/* The image's pixels computed into memory; NULL when decoding fails. Variants are
 * decoded before they are encoded because webpsave in 8.14.1 leaks about 0.5 MB when
 * the pipeline under it fails (a truncated upload); a failure here leaks nothing. */
VipsImage *media_vips_decode(VipsImage *in);

/* A copy without exif-*, xmp-data, iptc-data, icc-profile-data and orientation:
 * webpsave in 8.14.1 embeds them even with strip set. (It still writes a fresh EXIF
 * block of its own; the Swift side drops that chunk from the WebP container.) */
VipsImage *media_vips_without_metadata(VipsImage *in);

/* A video frame ffmpeg wrote as uncompressed 8-bit RGB TIFF, decoded into memory once
 * so that several variants are made from it without reading the file again. (PPM would
 * be simpler, but vips_block_untrusted_set blocks ppmload.) */
VipsImage *media_vips_load_frame(const char *path);

/* Fits an image already in memory inside max_side × max_side, never upscaling. */
VipsImage *media_vips_thumbnail_image(VipsImage *in, int max_side);

/* Encodes as baseline JPEG at `quality`, metadata stripped (jpegsave honours strip). */
int media_vips_jpeg_save(VipsImage *in, int quality, void **buffer, size_t *length);

/* The mean of every sample of every band (0...255 for 8-bit images). */
int media_vips_average(VipsImage *in, double *mean);

/* Encodes as WebP at `quality` (1...100) and `effort` (0...6, libvips' default 4: lower
 * is faster, files a little larger); *buffer is freed with media_vips_free. */
int media_vips_webp_save(VipsImage *in, int quality, int effort, void **buffer, size_t *length);

/* One shape of a procedural image. */
typedef enum {
    MEDIA_SHAPE_CIRCLE = 0,  /* centre (x, y), radius = size */
    MEDIA_SHAPE_RECT = 1,    /* top-left (x, y), side = size */
} MediaShapeKind;

typedef struct {
    MediaShapeKind kind;
    int x, y, size;
    double ink[3];
} MediaShape;

/* Renders a linear gradient from `from` to `to` (RGB 0...255) along `angle` radians,
 * draws `shapes` over it in order, and encodes the result as PNG; *buffer is freed
 * with media_vips_free. */
int media_vips_render_png(int width, int height, const double from[3], const double to[3],
                          double angle, const MediaShape *shapes, int shape_count,
                          void **buffer, size_t *length);

#endif
