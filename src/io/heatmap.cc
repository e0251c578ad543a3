#include "linsim/io/heatmap.h"
#include "io/png.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"

namespace linsim {
namespace {

// ColorBrewer RdBu (11 classes), reversed so that low values are blue.
constexpr double kScale[11][3] = {
    {0x05, 0x30, 0x61}, {0x21, 0x66, 0xac}, {0x43, 0x93, 0xc3}, {0x92, 0xc5, 0xde},
    {0xd1, 0xe5, 0xf0}, {0xf7, 0xf7, 0xf7}, {0xfd, 0xdb, 0xc7}, {0xf4, 0xa5, 0x82},
    {0xd6, 0x60, 0x4d}, {0xb2, 0x18, 0x2b}, {0x67, 0x00, 0x1f}};

// Block average of a square matrix down (or nearest-neighbour up) to size × size.
Matrix resample(const Matrix& values, int size) {
  const Index n = values.rows();
  Matrix out = Matrix::Zero(size, size);
  for (int r = 0; r < size; ++r) {
    const Index r0 = static_cast<Index>(static_cast<double>(r) * n / size);
    const Index r1 = std::max(r0 + 1, static_cast<Index>(static_cast<double>(r + 1) * n / size));
    for (int c = 0; c < size; ++c) {
      const Index c0 = static_cast<Index>(static_cast<double>(c) * n / size);
      const Index c1 = std::max(c0 + 1, static_cast<Index>(static_cast<double>(c + 1) * n / size));
      out(r, c) = values.block(r0, c0, r1 - r0, c1 - c0).mean();
    }
  }
  return out;
}

cairo_status_t write_to_stream(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::ostream*>(closure);
  out->write(reinterpret_cast<const char*>(data), length);
  return *out ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

void centred_text(cairo_t* cr, const std::string& text, double cx, double y) {
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  cairo_move_to(cr, cx - ext.width / 2 - ext.x_bearing, y);
  cairo_show_text(cr, text.c_str());
}

}  // namespace

void diverging_colour(double t, double rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.5, 0.0, 1.0) * 10.0;
  const int lo = std::min(9, static_cast<int>(std::floor(t)));
  const double f = t - lo;
  for (int k = 0; k < 3; ++k) rgb[k] = ((1 - f) * kScale[lo][k] + f * kScale[lo + 1][k]) / 255.0;
}

std::string heatmap_png(const std::vector<HeatmapPanel>& panels, const HeatmapOptions& o) {
  if (panels.empty()) throw InvalidArgument("a figure needs at least one panel");
  if (!(o.vmax > o.vmin)) throw InvalidArgument(fmt::format("colour scale needs vmin < vmax, got {} and {}", o.vmin, o.vmax));
  for (const auto& p : panels) {
    if (p.values == nullptr || p.values->rows() != p.values->cols() || p.values->rows() == 0) {
      throw InvalidArgument(fmt::format("panel '{}' is not a non-empty square matrix", p.title));
    }
  }
  const int n = static_cast<int>(panels.size());
  const int cols = o.columns > 0 ? std::min(o.columns, n) : n;
  const int rows = (n + cols - 1) / cols;
  const int px = o.panel_pixels;
  const int gap = 24, margin = 20, title_h = o.title.empty() ? 0 : 40, label_h = 34, bar_w = 120;
  const int width = margin + cols * px + (cols - 1) * gap + bar_w;
  const int height = title_h + rows * (label_h + px) + (rows - 1) * gap + 2 * margin;
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  if (!o.title.empty()) {
    cairo_set_font_size(cr, 20);
    centred_text(cr, o.title, width / 2.0, margin + 18);
  }
  double rgb[3];
  for (int k = 0; k < n; ++k) {
    const int x0 = margin + (k % cols) * (px + gap);
    const int y0 = margin + title_h + (k / cols) * (label_h + px + gap);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 15);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    centred_text(cr, panels[static_cast<size_t>(k)].title, x0 + px / 2.0, y0 + label_h - 10);
    const Matrix img = resample(*panels[static_cast<size_t>(k)].values, px);
    cairo_surface_t* tile = cairo_image_surface_create(CAIRO_FORMAT_RGB24, px, px);
    cairo_surface_flush(tile);
    unsigned char* data = cairo_image_surface_get_data(tile);
    const int stride = cairo_image_surface_get_stride(tile);
    for (int r = 0; r < px; ++r) {
      auto* line = reinterpret_cast<std::uint32_t*>(data + r * stride);
      for (int c = 0; c < px; ++c) {
        diverging_colour((img(r, c) - o.vmin) / (o.vmax - o.vmin), rgb);
        line[c] = (static_cast<std::uint32_t>(std::lround(rgb[0] * 255)) << 16) |
                  (static_cast<std::uint32_t>(std::lround(rgb[1] * 255)) << 8) |
                  static_cast<std::uint32_t>(std::lround(rgb[2] * 255));
      }
    }
    cairo_surface_mark_dirty(tile);
    cairo_set_source_surface(cr, tile, x0, y0 + label_h);
    cairo_paint(cr);
    cairo_surface_destroy(tile);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0 + 0.5, y0 + label_h + 0.5, px - 1, px - 1);
    cairo_stroke(cr);
  }
  // Colour bar, spanning the first row of panels.
  const int bx = width - bar_w + 20;
  const int by = margin + title_h + label_h;
  const int bh = px;
  for (int r = 0; r < bh; ++r) {
    diverging_colour(1.0 - static_cast<double>(r) / (bh - 1), rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, bx, by + r, 22, 1);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_rectangle(cr, bx + 0.5, by + 0.5, 21, bh - 1);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 13);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  for (int t = 0; t <= 4; ++t) {
    const double v = o.vmax - (o.vmax - o.vmin) * t / 4.0;
    const double y = by + (bh - 1) * t / 4.0;
    cairo_move_to(cr, bx + 22, y + 0.5);
    cairo_line_to(cr, bx + 27, y + 0.5);
    cairo_stroke(cr);
    cairo_move_to(cr, bx + 30, y + 5);
    cairo_show_text(cr, fmt::format("{:g}", v).c_str());
  }
  cairo_save(cr);
  cairo_move_to(cr, bx + 78, by + bh / 2.0);
  cairo_rotate(cr, -M_PI / 2);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, o.colorbar_label.c_str(), &ext);
  cairo_rel_move_to(cr, -ext.width / 2 - ext.x_bearing, 0);
  cairo_show_text(cr, o.colorbar_label.c_str());
  cairo_restore(cr);
  cairo_destroy(cr);
  return surface_png(surface);
}

std::string surface_png(cairo_surface_t* surface) {
  std::ostringstream png;
  const cairo_status_t status = cairo_surface_write_to_png_stream(surface, write_to_stream, &png);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) throw Error(fmt::format("cannot encode PNG: {}", cairo_status_to_string(status)));
  return png.str();
}

void write_heatmaps(const std::string& path, const std::vector<HeatmapPanel>& panels,
                    const HeatmapOptions& o, bool force) {
  const std::string png = heatmap_png(panels, o);
  AtomicFile file(path, force);
  file.stream().write(png.data(), static_cast<std::streamsize>(png.size()));
  file.commit();
}

}  // namespace linsim
