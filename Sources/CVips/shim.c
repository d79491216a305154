#include "CVips.h"

#include <string.h>

static void forward_warning(const gchar *domain, GLogLevelFlags level, const gchar *message,
                            gpointer handler) {
    ((media_vips_warning_handler) handler)(message);
}

int media_vips_init(const char *argv0, int concurrency, media_vips_warning_handler warnings) {
    if (vips_init(argv0) != 0) return -1;
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, forward_warning, (gpointer) warnings);
    vips_block_untrusted_set(TRUE);
    /* The operation cache would keep decoded uploads (and their memory) alive. */
    vips_cache_set_max(0);
    vips_concurrency_set(concurrency);
    return 0;
}

char *media_vips_take_error(void) {
    return vips_error_buffer_copy();
}

const char *media_vips_find_loader(const char *path) {
    /* vips_foreign_find_load answers a class name ("VipsForeignLoadJpegFile");
     * callers compare nicknames. */
    const char *class_name = vips_foreign_find_load(path);
    if (class_name == NULL) return NULL;
    return vips_nickname_find(g_type_from_name(class_name));
}

VipsImage *media_vips_open_header(const char *path) {
    return vips_image_new_from_file(path,
                                    "access", VIPS_ACCESS_SEQUENTIAL,
                                    "fail_on", VIPS_FAIL_ON_ERROR,
                                    NULL);
}

VipsImage *media_vips_thumbnail(const char *path, int max_side, gboolean has_profile) {
    /* The file loaders' defaults (page 0, n 1) give the first page or frame. Without an
     * export profile, thumbnail still converts CMYK, 16-bit and grey to its sRGB or B_W
     * processing space, and webpsave turns B_W into RGB. */
    VipsImage *thumbnail = NULL;
    if (vips_thumbnail(path, &thumbnail, max_side,
                       "height", max_side,
                       "size", VIPS_SIZE_DOWN,
                       "export_profile", has_profile ? "srgb" : NULL,
                       "fail_on", VIPS_FAIL_ON_ERROR,
                       NULL) != 0) return NULL;
    return thumbnail;
}

VipsImage *media_vips_load_frame(const char *path) {
    VipsImage *frame = NULL;
    if (vips_tiffload(path, &frame, "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) return NULL;
    VipsImage *memory = vips_image_copy_memory(frame);
    g_object_unref(frame);
    return memory;
}

VipsImage *media_vips_thumbnail_image(VipsImage *in, int max_side) {
    VipsImage *out = NULL;
    if (vips_thumbnail_image(in, &out, max_side,
                             "height", max_side,
                             "size", VIPS_SIZE_DOWN,
                             NULL) != 0) return NULL;
    return out;
}

int media_vips_jpeg_save(VipsImage *in, int quality, void **buffer, size_t *length) {
    return vips_jpegsave_buffer(in, buffer, length, "Q", quality, "strip", TRUE, "optimize_coding", TRUE, NULL);
}

VipsImage *media_vips_decode(VipsImage *in) {
    return vips_image_copy_memory(in);
}

static gboolean is_identifying_metadata(const char *name) {
    return g_str_has_prefix(name, "exif-")
        || strcmp(name, VIPS_META_XMP_NAME) == 0
        || strcmp(name, VIPS_META_IPTC_NAME) == 0
        || strcmp(name, VIPS_META_ICC_NAME) == 0
        || strcmp(name, VIPS_META_ORIENTATION) == 0;
}

VipsImage *media_vips_without_metadata(VipsImage *in) {
    VipsImage *copy = NULL;
    if (vips_copy(in, &copy, NULL) != 0) return NULL;
    gchar **fields = vips_image_get_fields(copy);
    for (gchar **field = fields; *field != NULL; field++) {
        if (is_identifying_metadata(*field)) vips_image_remove(copy, *field);
    }
    g_strfreev(fields);
    return copy;
}

int media_vips_average(VipsImage *in, double *mean) {
    return vips_avg(in, mean, NULL);
}

int media_vips_webp_save(VipsImage *in, int quality, int effort, void **buffer, size_t *length) {
    /* strip is ignored by 8.14.1 (see media_vips_without_metadata) but states the intent. */
    return vips_webpsave_buffer(in, buffer, length, "Q", quality, "effort", effort, "strip", TRUE, NULL);
}
