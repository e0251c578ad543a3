// Figures: a row of similarity heatmaps with titles and one shared colour bar, written as PNG
// through cairo (text with the system's sans-serif font).
#pragma once

#include <string>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

struct HeatmapPanel {
  std::string title;
  // Square, already in display order; drawn with (0, 0) at the top left. Not a copy: a figure of
  // 15 panels over 3,000 items would hold 1 GB more.
  const Matrix* values = nullptr;
};

struct HeatmapOptions {
  std::string title;                          // over the whole figure
  double vmin = -1.0;                         // colour scale shared by all panels
  double vmax = 1.0;
  std::string colorbar_label = "similarity";
  int panel_pixels = 320;                     // each panel is panel_pixels square
  int columns = 0;                            // panels per row; 0: all in one row
};

// Writes the figure atomically to `path` (refuses an existing file unless force). Values are
// block-averaged down to the panel size; a diverging blue–white–red scale maps vmin..vmax.
void write_heatmaps(const std::string& path, const std::vector<HeatmapPanel>& panels,
                    const HeatmapOptions& options, bool force);

// The same figure as PNG bytes (for embedding in HTML).
std::string heatmap_png(const std::vector<HeatmapPanel>& panels, const HeatmapOptions& options);

// The RGB colour (0–1 each) of `t` in [0, 1] on the diverging scale (0 blue, ½ white, 1 red).
void diverging_colour(double t, double rgb[3]);

}  // namespace linsim
