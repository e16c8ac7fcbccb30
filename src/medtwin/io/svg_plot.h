// io/svg_plot.h — a small, dependency-free SVG line chart: axes with round ticks and unit
// labels, one coloured line per series, a legend. Used by `medtwin simulate --plot`.
#pragma once

#include <string>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::io {

struct PlotSeries {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  bool markers = false;  // draw points (observations) instead of a line
  bool dashed = false;
  std::string colour;  // CSS colour; empty: the next colour of the palette
};

// A shaded band between two curves on a common x (a 5–95 % prediction interval).
struct PlotBand {
  std::string label;
  std::vector<double> x;
  std::vector<double> lo;
  std::vector<double> hi;
  std::string colour;  // empty: the palette's colour for the band's index
};

struct PlotSpec {
  std::string title;
  std::string x_label;          // with unit: "Time (h)"
  std::string y_label;          // "CP (mg/L)"
  std::vector<PlotBand> bands;  // drawn first, translucent, listed in the legend after series
  std::vector<PlotSeries> series;
  int width_px = 900;
  int height_px = 520;
};

// Round tick positions covering [lo, hi] (about `target` of them; 1-2-5 steps).
std::vector<double> NiceTicks(double lo, double hi, int target = 6);

std::string RenderSvgLinePlot(const PlotSpec& spec);

// The i-th colour for groups of a plot: the 8 colour-blind-safe Okabe–Ito colours, then hues
// a golden angle apart (so colours past the eighth stay distinct from each other).
std::string SeriesColour(std::size_t i);

// One group of series per subject (its lines, points and band): writes them `per_page` groups
// to a page, `path` for the first and PATH_2.svg, PATH_3.svg ... after it, each titled with
// the page ("IDs 5-8 of 12"). Returns the paths written, so no subject is left out silently.
struct PlotGroup {
  std::vector<PlotSeries> series;
  std::vector<PlotBand> bands;
};
[[nodiscard]] Result<std::vector<std::string>> WritePagedPlots(const PlotSpec& base,
                                                               const std::vector<PlotGroup>& groups,
                                                               std::size_t per_page,
                                                               const std::string& path);

// Control-variability grid analysis (Magni et al., J Diabetes Sci Technol 2008;2:630): one
// point per patient at (minimum BG, maximum BG), x reversed from 110 down to 50 mg/dL, y from
// 110 up to 400 mg/dL, over the nine zones A (best) to E. Points are clipped to the grid.
struct CvgaPoint {
  std::string label;
  double min_mg_dl = 0;
  double max_mg_dl = 0;
};
// The zone of one point: "A", "Lower B", "B", "Upper B", "Lower C", "Upper C", "Lower D",
// "Upper D", "E".
std::string CvgaZone(double min_mg_dl, double max_mg_dl);
std::string RenderCvgaPlot(const std::string& title, const std::vector<CvgaPoint>& points);

}  // namespace medtwin::io
