#include "CVips.h"
#include "library.h"

#include <math.h>

/* The gradient: t = projection of (x, y) on the angle's direction, scaled to 0...1
 * across the image, then colour = from + t * (to - from) per band. */
static VipsImage *gradient(int width, int height, const double from[3], const double to[3],
                           double angle) {
    VipsObject *scope = (VipsObject *) libvips.vips_image_new();
    VipsImage **t = (VipsImage **) libvips.vips_object_local_array(scope, 3);
    double dx = cos(angle), dy = sin(angle);
    double span = fabs(width * dx) + fabs(height * dy);
    double offset = (dx < 0 ? -width * dx : 0) + (dy < 0 ? -height * dy : 0);
    double scale[3], start[3];
    for (int band = 0; band < 3; band++) {
        scale[band] = (to[band] - from[band]) / span;
        start[band] = from[band] + scale[band] * offset;
    }
    VipsImage *out = NULL;
    if (libvips.vips_xyz(&t[0], width, height, NULL) == 0
        && (t[1] = libvips.vips_image_new_matrixv(2, 1, dx, dy)) != NULL
        && libvips.vips_recomb(t[0], &t[2], t[1], NULL) == 0
        && libvips.vips_linear(t[2], &out, scale, start, 3, "uchar", TRUE, NULL) != 0) out = NULL;
    /* out holds its own references to the intermediates. */
    libvips.g_object_unref(scope);
    return out;
}

int media_vips_render_png(int width, int height, const double from[3], const double to[3],
                          double angle, const MediaShape *shapes, int shape_count,
                          void **buffer, size_t *length) {
    VipsImage *background = gradient(width, height, from, to, angle);
    if (background == NULL) return -1;
    VipsImage *rgb = NULL;
    int failed = libvips.vips_copy(background, &rgb, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    libvips.g_object_unref(background);
    if (failed) return -1;
    /* Draw operations paint in place, so they need the pixels in memory. */
    VipsImage *canvas = libvips.vips_image_copy_memory(rgb);
    libvips.g_object_unref(rgb);
    if (canvas == NULL) return -1;
    for (int i = 0; i < shape_count && !failed; i++) {
        const MediaShape *shape = &shapes[i];
        double ink[3] = { shape->ink[0], shape->ink[1], shape->ink[2] };
        failed = shape->kind == MEDIA_SHAPE_CIRCLE
            ? libvips.vips_draw_circle(canvas, ink, 3, shape->x, shape->y, shape->size, "fill", TRUE, NULL)
            : libvips.vips_draw_rect(canvas, ink, 3, shape->x, shape->y, shape->size, shape->size,
                             "fill", TRUE, NULL);
    }
    if (!failed) failed = libvips.vips_pngsave_buffer(canvas, buffer, length, NULL);
    libvips.g_object_unref(canvas);
    return failed ? -1 : 0;
}
