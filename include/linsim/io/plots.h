// Small figures for reports, as PNG bytes through cairo: a scatter plot and a histogram.
#pragma once

#include <string>

#include "linsim/core/types.h"

namespace linsim {

struct PlotLabels {
  std::string title;
  std::string x;
  std::string y;
};

// Points (x_i, y_i); log_x draws x on a log10 axis (x ≤ 0 is left out). At most `max_points`
// points are drawn (an evenly spaced subset, so the figure does not depend on a seed).
std::string scatter_png(const Vector& x, const Vector& y, bool log_x, const PlotLabels& labels,
                        Index max_points = 20000);

// Histogram of `values` over [lo, hi] in `bins` equal bins (values outside are clamped).
std::string histogram_png(const Vector& values, double lo, double hi, int bins, const PlotLabels& labels);

}  // namespace linsim
