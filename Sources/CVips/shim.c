#include "CVips.h"
#include "library.h"

#include <stdlib.h>
#include <string.h>

static void forward_warning(const gchar *domain, GLogLevelFlags level, const gchar *message,
                            gpointer handler) {
    ((media_vips_warning_handler) handler)(message);
}

int media_vips_init(const char *argv0, int concurrency, media_vips_warning_handler warnings) {
    if (media_vips_library_open() != 0 || libvips.vips_init(argv0) != 0) return -1;
    libvips.g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, forward_warning, (gpointer) warnings);
    libvips.vips_block_untrusted_set(TRUE);
    /* The operation cache would keep decoded uploads (and their memory) alive. */
    libvips.vips_cache_set_max(0);
    libvips.vips_concurrency_set(concurrency);
    return 0;
}

char *media_vips_take_error(void) {
    /* Before libvips is open the only error is why it did not open. */
    if (libvips.vips_error_buffer_copy == NULL) return strdup(media_vips_library_error);
    return libvips.vips_error_buffer_copy();
}

void media_vips_free(void *memory) {
    /* GLib's g_free is free() since 2.46, so text from strdup above is freed either way. */
    if (libvips.g_free != NULL) libvips.g_free(memory); else free(memory);
}

void media_vips_unref(VipsImage *image) {
    libvips.g_object_unref(image);
}

int media_vips_tracked_allocations(void) {
    return libvips.vips_tracked_get_allocs();
}

size_t media_vips_tracked_memory(void) {
    return libvips.vips_tracked_get_mem();
}

const char *media_vips_version(void) {
    return libvips.vips_version_string();
}

MediaImageGeometry media_vips_geometry(VipsImage *image) {
    return (MediaImageGeometry) {
        .width = libvips.vips_image_get_width(image),
        .height = libvips.vips_image_get_height(image),
        .pages = libvips.vips_image_get_n_pages(image),
        .orientation = libvips.vips_image_get_orientation(image),
        .bands = libvips.vips_image_get_bands(image),
        .bytes_per_band = (int) libvips.vips_format_sizeof(libvips.vips_image_get_format(image)),
        .has_color_profile = libvips.vips_image_get_typeof(image, VIPS_META_ICC_NAME) != 0,
    };
}

int media_vips_get_int(VipsImage *image, const char *field, int *value) {
    if (libvips.vips_image_get_typeof(image, field) == 0) return -1;
    return libvips.vips_image_get_int(image, field, value);
}

const char *media_vips_get_string(VipsImage *image, const char *field) {
    const char *value = NULL;
    if (libvips.vips_image_get_typeof(image, field) == 0
        || libvips.vips_image_get_string(image, field, &value) != 0) return NULL;
    return value;
}

const char *media_vips_find_loader(const char *path) {
    /* vips_foreign_find_load answers a class name ("VipsForeignLoadJpegFile");
     * callers compare nicknames. */
    const char *class_name = libvips.vips_foreign_find_load(path);
    if (class_name == NULL) return NULL;
    return libvips.vips_nickname_find(libvips.g_type_from_name(class_name));
}

VipsImage *media_vips_open_header(const char *path) {
    return libvips.vips_image_new_from_file(path,
                                    "access", VIPS_ACCESS_SEQUENTIAL,
                                    "fail_on", VIPS_FAIL_ON_ERROR,
                                    NULL);
}

VipsImage *media_vips_thumbnail(const char *path, int max_side, int has_profile) {
    /* The file loaders' defaults (page 0, n 1) give the first page or frame. Without an
     * export profile, thumbnail still converts CMYK, 16-bit and grey to its sRGB or B_W
     * processing space, and webpsave turns B_W into RGB. */
    VipsImage *thumbnail = NULL;
    if (libvips.vips_thumbnail(path, &thumbnail, max_side,
                       "height", max_side,
                       "size", VIPS_SIZE_DOWN,
                       "export_profile", has_profile ? "srgb" : NULL,
                       "fail_on", VIPS_FAIL_ON_ERROR,
                       NULL) != 0) return NULL;
    return thumbnail;
}

VipsImage *media_vips_load_frame(const char *path) {
    VipsImage *frame = NULL;
    if (libvips.vips_tiffload(path, &frame, "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) return NULL;
    VipsImage *memory = libvips.vips_image_copy_memory(frame);
    libvips.g_object_unref(frame);
    return memory;
}

VipsImage *media_vips_thumbnail_image(VipsImage *in, int max_side) {
    VipsImage *out = NULL;
    if (libvips.vips_thumbnail_image(in, &out, max_side,
                             "height", max_side,
                             "size", VIPS_SIZE_DOWN,
                             NULL) != 0) return NULL;
    return out;
}

int media_vips_jpeg_save(VipsImage *in, int quality, void **buffer, size_t *length) {
    return libvips.vips_jpegsave_buffer(in, buffer, length, "Q", quality, "strip", TRUE, "optimize_coding", TRUE, NULL);
}

VipsImage *media_vips_decode(VipsImage *in) {
    return libvips.vips_image_copy_memory(in);
}

static gboolean is_identifying_metadata(const char *name) {
    return strncmp(name, "exif-", 5) == 0
        || strcmp(name, VIPS_META_XMP_NAME) == 0
        || strcmp(name, VIPS_META_IPTC_NAME) == 0
        || strcmp(name, VIPS_META_ICC_NAME) == 0
        || strcmp(name, VIPS_META_ORIENTATION) == 0;
}

VipsImage *media_vips_without_metadata(VipsImage *in) {
    VipsImage *copy = NULL;
    if (libvips.vips_copy(in, &copy, NULL) != 0) return NULL;
    gchar **fields = libvips.vips_image_get_fields(copy);
    for (gchar **field = fields; *field != NULL; field++) {
        if (is_identifying_metadata(*field)) libvips.vips_image_remove(copy, *field);
    }
    libvips.g_strfreev(fields);
    return copy;
}

int media_vips_average(VipsImage *in, double *mean) {
    return libvips.vips_avg(in, mean, NULL);
}

int media_vips_webp_save(VipsImage *in, int quality, int effort, void **buffer, size_t *length) {
    /* strip is ignored by 8.14.1 (see media_vips_without_metadata) but states the intent. */
    return libvips.vips_webpsave_buffer(in, buffer, length, "Q", quality, "effort", effort, "strip", TRUE, NULL);
}
