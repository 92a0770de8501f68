#ifndef LRJ_CPNG_SHIM_H
#define LRJ_CPNG_SHIM_H

#include <png.h>

// The simplified png_image API only: errors come back as return codes, never by longjmp.
static inline png_uint_32 lrj_png_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 lrj_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 lrj_png_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 lrj_png_flag_fast(void) { return PNG_IMAGE_FLAG_FAST; }
static inline int lrj_png_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }

#endif
