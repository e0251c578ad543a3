// PNG encoding of a cairo image surface, shared by the figure writers (heatmap.cc, plots.cc).
// Private to the library: cairo's types stay out of the public headers.
#pragma once

#include <cairo.h>

#include <string>

namespace linsim {

// Encodes `surface` as PNG bytes and destroys it.
std::string surface_png(cairo_surface_t* surface);

}  // namespace linsim
