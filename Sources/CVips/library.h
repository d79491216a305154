#ifndef MEDIA_VIPS_LIBRARY_H
#define MEDIA_VIPS_LIBRARY_H

/* libvips and the GLib calls the shim makes, opened with dlopen at the first image
 * instead of linked: a worker that only serves reads never maps libvips and its ~130
 * dependencies (about 20 MB of RSS per worker). The headers still give every type. */

#include <vips/vips.h>

#define MEDIA_VIPS_SYMBOLS(X) \
    X(vips_init) X(vips_version_string) X(vips_error_buffer_copy) X(vips_block_untrusted_set) \
    X(vips_cache_set_max) X(vips_concurrency_set) X(vips_foreign_find_load) X(vips_nickname_find) \
    X(vips_image_new_from_file) X(vips_thumbnail) X(vips_tiffload) X(vips_image_copy_memory) \
    X(vips_thumbnail_image) X(vips_jpegsave_buffer) X(vips_webpsave_buffer) X(vips_pngsave_buffer) \
    X(vips_copy) X(vips_image_get_fields) X(vips_image_remove) X(vips_avg) X(vips_image_new) \
    X(vips_object_local_array) X(vips_xyz) X(vips_image_new_matrixv) X(vips_recomb) X(vips_linear) \
    X(vips_draw_circle) X(vips_draw_rect) X(vips_image_get_width) X(vips_image_get_height) \
    X(vips_image_get_n_pages) X(vips_image_get_orientation) X(vips_image_get_typeof) \
    X(vips_image_get_bands) X(vips_image_get_format) X(vips_format_sizeof) X(vips_image_get_int) \
    X(vips_image_get_string) X(vips_tracked_get_allocs) X(vips_tracked_get_mem) \
    X(g_free) X(g_object_unref) X(g_log_set_handler) X(g_type_from_name) X(g_strfreev)

#define MEDIA_VIPS_POINTER(name) __typeof__(name) *name;
struct media_vips_library { MEDIA_VIPS_SYMBOLS(MEDIA_VIPS_POINTER) };
#undef MEDIA_VIPS_POINTER

/* Filled by media_vips_library_open; read-only after it succeeds. */
extern struct media_vips_library libvips;

/* Opens the libvips of the headers this was built with (libvips.so.<current - age>)
 * and resolves every symbol above: 0, or -1 with the reason in media_vips_library_error.
 * Not thread-safe: the Swift side calls it once, under a lock. */
int media_vips_library_open(void);
extern char media_vips_library_error[256];

#endif
