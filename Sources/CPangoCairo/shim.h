#ifndef LRJ_CPANGOCAIRO_SHIM_H
#define LRJ_CPANGOCAIRO_SHIM_H

#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#include <pango/pangocairo.h>

// Pango units per point (PANGO_SCALE is a macro).
static inline int lrj_pango_scale(void) { return PANGO_SCALE; }

#endif
