#include "library.h"

#include <dlfcn.h>
#include <stdio.h>

struct media_vips_library libvips;
char media_vips_library_error[256];

int media_vips_library_open(void) {
    char soname[32];
    snprintf(soname, sizeof soname, "libvips.so.%d", VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE);
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(media_vips_library_error, sizeof media_vips_library_error, "cannot open %s: %s", soname, dlerror());
        return -1;
    }
    /* dlsym on the handle also searches its dependencies, GLib among them. The table is
     * published only whole: media_vips_take_error and media_vips_free test its entries. */
    struct media_vips_library resolved;
#define MEDIA_VIPS_RESOLVE(name) \
    if ((resolved.name = (__typeof__(name) *) dlsym(handle, #name)) == NULL) { \
        snprintf(media_vips_library_error, sizeof media_vips_library_error, "%s lacks %s", soname, #name); \
        dlclose(handle); \
        return -1; \
    }
    MEDIA_VIPS_SYMBOLS(MEDIA_VIPS_RESOLVE)
#undef MEDIA_VIPS_RESOLVE
    libvips = resolved;
    return 0;
}
