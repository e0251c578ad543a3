#include "linsim/io/plots.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/heatmap.h"
#include "io/png.h"

namespace linsim {
namespace {

constexpr int kWidth = 560, kHeight = 400;
constexpr int kLeft = 70, kRight = 36, kTop = 44, kBottom = 56;

struct Frame {
  cairo_surface_t* surface;
  cairo_t* cr;
};

Frame begin(const PlotLabels& labels) {
  Frame f;
  f.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, kWidth, kHeight);
  f.cr = cairo_create(f.surface);
  cairo_set_source_rgb(f.cr, 1, 1, 1);
  cairo_paint(f.cr);
  cairo_select_font_face(f.cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(f.cr, 15);
  cairo_set_source_rgb(f.cr, 0.1, 0.1, 0.1);
  cairo_text_extents_t ext;
  cairo_text_extents(f.cr, labels.title.c_str(), &ext);
  cairo_move_to(f.cr, kWidth / 2.0 - ext.width / 2 - ext.x_bearing, 26);
  cairo_show_text(f.cr, labels.title.c_str());
  cairo_select_font_face(f.cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(f.cr, 13);
  cairo_text_extents(f.cr, labels.x.c_str(), &ext);
  cairo_move_to(f.cr, kLeft + (kWidth - kLeft - kRight) / 2.0 - ext.width / 2 - ext.x_bearing, kHeight - 12);
  cairo_show_text(f.cr, labels.x.c_str());
  cairo_save(f.cr);
  cairo_text_extents(f.cr, labels.y.c_str(), &ext);
  cairo_move_to(f.cr, 18, kTop + (kHeight - kTop - kBottom) / 2.0 + ext.width / 2);
  cairo_rotate(f.cr, -M_PI / 2);
  cairo_show_text(f.cr, labels.y.c_str());
  cairo_restore(f.cr);
  return f;
}

// Axes box with ticks at 5 evenly spaced values of each range.
void axes(cairo_t* cr, double x0, double x1, double y0, double y1, bool log_x) {
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, kLeft + 0.5, kTop + 0.5, w, h);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  for (int t = 0; t <= 4; ++t) {
    const double fx = t / 4.0;
    const double xv = x0 + (x1 - x0) * fx;
    const std::string xl = log_x ? fmt::format("{:.3g}", std::pow(10.0, xv)) : fmt::format("{:.3g}", xv);
    cairo_move_to(cr, kLeft + fx * w - 10, kTop + h + 16);
    cairo_show_text(cr, xl.c_str());
    const double yv = y0 + (y1 - y0) * fx;
    cairo_move_to(cr, 24, kTop + h - fx * h + 4);
    cairo_show_text(cr, fmt::format("{:.3g}", yv).c_str());
  }
}

void pad(double& lo, double& hi) {
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  } else {
    const double m = 0.03 * (hi - lo);
    lo -= m;
    hi += m;
  }
}

}  // namespace

std::string scatter_png(const Vector& x, const Vector& y, bool log_x, const PlotLabels& labels, Index max_points) {
  if (x.size() != y.size()) throw InvalidArgument("scatter: x and y differ in length");
  std::vector<std::pair<double, double>> pts;
  const Index n = x.size();
  const Index step = std::max<Index>(1, (n + max_points - 1) / std::max<Index>(max_points, 1));
  for (Index i = 0; i < n; i += step) {
    if (log_x && !(x(i) > 0)) continue;
    const double xv = log_x ? std::log10(x(i)) : x(i);
    if (std::isfinite(xv) && std::isfinite(y(i))) pts.emplace_back(xv, y(i));
  }
  Frame f = begin(labels);
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (!pts.empty()) {
    x0 = x1 = pts[0].first;
    y0 = y1 = pts[0].second;
    for (const auto& [a, b] : pts) {
      x0 = std::min(x0, a), x1 = std::max(x1, a), y0 = std::min(y0, b), y1 = std::max(y1, b);
    }
  }
  pad(x0, x1);
  pad(y0, y1);
  axes(f.cr, x0, x1, y0, y1, log_x);
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  cairo_set_source_rgba(f.cr, 0.13, 0.40, 0.67, 0.45);
  for (const auto& [a, b] : pts) {
    cairo_arc(f.cr, kLeft + (a - x0) / (x1 - x0) * w, kTop + h - (b - y0) / (y1 - y0) * h, 2.0, 0, 2 * M_PI);
    cairo_fill(f.cr);
  }
  cairo_destroy(f.cr);
  return surface_png(f.surface);
}

std::string histogram_png(const Vector& values, double lo, double hi, int bins, const PlotLabels& labels) {
  if (bins < 1 || !(hi > lo)) throw InvalidArgument("histogram: needs bins >= 1 and lo < hi");
  std::vector<double> count(static_cast<size_t>(bins), 0.0);
  for (Index i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values(i))) continue;
    const double t = std::clamp((values(i) - lo) / (hi - lo) * bins, 0.0, static_cast<double>(bins - 1));
    const int b = static_cast<int>(t);
    count[static_cast<size_t>(b)] += 1;
  }
  const double top = std::max(1.0, *std::max_element(count.begin(), count.end()));
  Frame f = begin(labels);
  axes(f.cr, lo, hi, 0, top, false);
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  for (int b = 0; b < bins; ++b) {
    const double bh = count[static_cast<size_t>(b)] / top * h;
    cairo_set_source_rgb(f.cr, 0.13, 0.40, 0.67);
    cairo_rectangle(f.cr, kLeft + b * w / bins + 1, kTop + h - bh, w / bins - 2, bh);
    cairo_fill(f.cr);
  }
  cairo_destroy(f.cr);
  return surface_png(f.surface);
}

}  // namespace linsim
