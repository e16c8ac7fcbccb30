#include "medtwin/io/svg_plot.h"

#include "medtwin/io/nonmem_csv.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace medtwin::io {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string TickLabel(double v, double step) {
  char buf[32];
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6),
                std::abs(v) < 1e-12 * step ? 0.0 : v);
  return buf;
}

// Colour-blind-safe palette (Okabe & Ito, 2008).
const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                          "#E69F00", "#56B4E9", "#000000", "#F0E442"};

}  // namespace

std::string SeriesColour(std::size_t i) {
  constexpr std::size_t kCount = sizeof kPalette / sizeof *kPalette;
  if (i < kCount) return kPalette[i];
  // HSL with the hue stepped by the golden angle, mid saturation and lightness.
  const double hue = std::fmod(static_cast<double>(i - kCount) * 137.508 + 20, 360.0);
  char buf[48];
  std::snprintf(buf, sizeof buf, "hsl(%.0f,65%%,42%%)", hue);
  return buf;
}

Result<std::vector<std::string>> WritePagedPlots(const PlotSpec& base,
                                                 const std::vector<PlotGroup>& groups,
                                                 std::size_t per_page, const std::string& path) {
  std::vector<std::string> written;
  if (per_page == 0) per_page = 1;
  const std::size_t pages = std::max<std::size_t>(1, (groups.size() + per_page - 1) / per_page);
  std::string stem = path;
  if (stem.ends_with(".svg")) stem.resize(stem.size() - 4);
  for (std::size_t page = 0; page < pages; ++page) {
    PlotSpec spec = base;
    const std::size_t first = page * per_page;
    const std::size_t last = std::min(groups.size(), first + per_page);
    for (std::size_t g = first; g < last; ++g) {
      spec.series.insert(spec.series.end(), groups[g].series.begin(), groups[g].series.end());
      spec.bands.insert(spec.bands.end(), groups[g].bands.begin(), groups[g].bands.end());
    }
    if (pages > 1) {
      spec.title += " (subjects " + std::to_string(first + 1) + "-" + std::to_string(last) +
                    " of " + std::to_string(groups.size()) + ", page " + std::to_string(page + 1) +
                    " of " + std::to_string(pages) + ")";
    }
    const std::string page_path = page == 0 ? path : stem + "_" + std::to_string(page + 1) + ".svg";
    MEDTWIN_RETURN_IF_ERROR(WriteFileAtomically(page_path, RenderSvgLinePlot(spec)));
    written.push_back(page_path);
  }
  return written;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  double raw = (hi - lo) / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(t);
  if (ticks.front() > lo) ticks.insert(ticks.begin(), ticks.front() - step);
  if (ticks.back() < hi) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string RenderSvgLinePlot(const PlotSpec& spec) {
  const double w = spec.width_px, h = spec.height_px;
  const double left = 80, right = 170, top = 50, bottom = 60;
  const double pw = w - left - right, ph = h - top - bottom;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymax = 0, ymin = 0;
  auto extend = [&](double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y)) return;
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
  };
  for (const auto& s : spec.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) extend(s.x[i], s.y[i]);
  }
  for (const auto& b : spec.bands) {
    for (std::size_t i = 0; i < b.x.size() && i < b.lo.size() && i < b.hi.size(); ++i) {
      extend(b.x[i], b.lo[i]);
      extend(b.x[i], b.hi[i]);
    }
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  auto xt = NiceTicks(xmin, xmax);
  auto yt = NiceTicks(ymin, ymax);
  const double x0 = xt.front(), x1 = xt.back(), y0 = yt.front(), y1 = yt.back();
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto sy = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(w) + "\" height=\"" + Num(h) +
         "\" viewBox=\"0 0 " + Num(w) + " " + Num(h) +
         "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // The title across the whole width, smaller when long (a bold glyph is ~0.6 em wide).
  const double title_px = std::min(
      16.0, (w - 20) / (0.6 * std::max<double>(1, static_cast<double>(spec.title.size()))));
  out += "<text x=\"" + Num(w / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"" +
         Num(title_px) + "\" font-weight=\"bold\">" + Escape(spec.title) + "</text>\n";
  // Grid and ticks.
  for (double t : xt) {
    out += "<line x1=\"" + Num(sx(t)) + "\" y1=\"" + Num(top) + "\" x2=\"" + Num(sx(t)) +
           "\" y2=\"" + Num(top + ph) + "\" stroke=\"#e3e3e3\"/>\n";
    out += "<text x=\"" + Num(sx(t)) + "\" y=\"" + Num(top + ph + 18) +
           "\" text-anchor=\"middle\">" + TickLabel(t, xt.size() > 1 ? xt[1] - xt[0] : 1) +
           "</text>\n";
  }
  for (double t : yt) {
    out += "<line x1=\"" + Num(left) + "\" y1=\"" + Num(sy(t)) + "\" x2=\"" + Num(left + pw) +
           "\" y2=\"" + Num(sy(t)) + "\" stroke=\"#e3e3e3\"/>\n";
    out += "<text x=\"" + Num(left - 8) + "\" y=\"" + Num(sy(t) + 4) + "\" text-anchor=\"end\">" +
           TickLabel(t, yt.size() > 1 ? yt[1] - yt[0] : 1) + "</text>\n";
  }
  out += "<rect x=\"" + Num(left) + "\" y=\"" + Num(top) + "\" width=\"" + Num(pw) +
         "\" height=\"" + Num(ph) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  out += "<text x=\"" + Num(left + pw / 2) + "\" y=\"" + Num(h - 15) +
         "\" text-anchor=\"middle\">" + Escape(spec.x_label) + "</text>\n";
  out += "<text transform=\"translate(22," + Num(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + Escape(spec.y_label) + "</text>\n";
  // Bands first (under the lines), as translucent polygons: the upper curve out, the lower back.
  for (std::size_t i = 0; i < spec.bands.size(); ++i) {
    const auto& b = spec.bands[i];
    std::string upper, lower;
    for (std::size_t k = 0; k < b.x.size() && k < b.lo.size() && k < b.hi.size(); ++k) {
      if (!std::isfinite(b.x[k]) || !std::isfinite(b.lo[k]) || !std::isfinite(b.hi[k])) continue;
      upper += Num(sx(b.x[k])) + "," + Num(sy(b.hi[k])) + " ";
      lower = Num(sx(b.x[k])) + "," + Num(sy(b.lo[k])) + " " + lower;
    }
    const std::string colour = b.colour.empty() ? SeriesColour(i) : b.colour;
    out += "<polygon fill=\"" + colour + "\" fill-opacity=\"0.18\" stroke=\"none\" points=\"" +
           upper + lower + "\"><title>" + Escape(b.label) + "</title></polygon>\n";
  }
  // Series and legend (at most 12 entries listed).
  const std::size_t kLegendMax = 12;
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    const std::string colour = s.colour.empty() ? SeriesColour(i) : s.colour;
    std::string points;
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
      points += Num(sx(s.x[k])) + "," + Num(sy(s.y[k])) + " ";
    }
    if (s.markers) {
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
        out += "<circle cx=\"" + Num(sx(s.x[k])) + "\" cy=\"" + Num(sy(s.y[k])) +
               "\" r=\"4\" fill=\"" + colour + "\"><title>" + Escape(s.label) +
               "</title></circle>\n";
      }
    } else {
      out += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"1.8\"" +
             (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + " points=\"" + points + "\"><title>" +
             Escape(s.label) + "</title></polyline>\n";
    }
    if (i < kLegendMax) {
      const double ly = top + 10 + 20.0 * static_cast<double>(i);
      if (s.markers) {
        out += "<circle cx=\"" + Num(left + pw + 27) + "\" cy=\"" + Num(ly) + "\" r=\"4\" fill=\"" +
               colour + "\"/>\n";
      } else {
        out += "<line x1=\"" + Num(left + pw + 15) + "\" y1=\"" + Num(ly) + "\" x2=\"" +
               Num(left + pw + 40) + "\" y2=\"" + Num(ly) + "\" stroke=\"" + colour +
               "\" stroke-width=\"3\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
      }
      out += "<text x=\"" + Num(left + pw + 46) + "\" y=\"" + Num(ly + 4) + "\">" +
             Escape(s.label) + "</text>\n";
    }
  }
  for (std::size_t i = 0; i < spec.bands.size() && spec.series.size() + i < kLegendMax; ++i) {
    const double ly = top + 10 + 20.0 * static_cast<double>(spec.series.size() + i);
    const std::string colour =
        spec.bands[i].colour.empty() ? SeriesColour(i) : spec.bands[i].colour;
    out += "<rect x=\"" + Num(left + pw + 15) + "\" y=\"" + Num(ly - 6) +
           "\" width=\"25\" height=\"12\" fill=\"" + colour + "\" fill-opacity=\"0.3\"/>\n";
    out += "<text x=\"" + Num(left + pw + 46) + "\" y=\"" + Num(ly + 4) + "\">" +
           Escape(spec.bands[i].label) + "</text>\n";
  }
  if (spec.series.size() > kLegendMax) {
    out += "<text x=\"" + Num(left + pw + 15) + "\" y=\"" +
           Num(top + 10 + 20.0 * static_cast<double>(kLegendMax)) + "\">… and " +
           std::to_string(spec.series.size() - kLegendMax) + " more</text>\n";
  }
  out += "</svg>\n";
  return out;
}

std::string CvgaZone(double lo, double hi) {
  // Columns by minimum: > 90, 70–90, < 70; rows by maximum: < 180, 180–300, > 300.
  const int col = lo > 90 ? 0 : (lo >= 70 ? 1 : 2);
  const int row = hi < 180 ? 0 : (hi <= 300 ? 1 : 2);
  static const char* kZones[3][3] = {
      {"A", "Lower B", "Lower C"}, {"Upper B", "B", "Lower D"}, {"Upper C", "Upper D", "E"}};
  return kZones[row][col];
}

std::string RenderCvgaPlot(const std::string& title, const std::vector<CvgaPoint>& points) {
  const double w = 620, h = 560, left = 80, top = 50, pw = 440, ph = 420;
  // x: 110 (left) → 50 (right); y: 110 (bottom) → 400 (top).
  auto px = [&](double bg) { return left + (110 - std::clamp(bg, 50.0, 110.0)) / 60 * pw; };
  auto py = [&](double bg) { return top + (400 - std::clamp(bg, 110.0, 400.0)) / 290 * ph; };
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(w) + "\" height=\"" +
                    Num(h) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + Num(w / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" +
         Escape(title) + "</text>\n";
  const double xs[] = {110, 90, 70, 50}, ys[] = {110, 180, 300, 400};
  // Zone fills: greener is better.
  auto fill = [](const std::string& z) {
    if (z == "A") return "#1a9850";
    if (z.find('B') != std::string::npos) return "#91cf60";
    if (z.find('C') != std::string::npos) return "#fee08b";
    if (z.find('D') != std::string::npos) return "#fc8d59";
    return "#d73027";
  };
  for (int c = 0; c < 3; ++c) {
    for (int r = 0; r < 3; ++r) {
      const double x0 = px(xs[c]), x1 = px(xs[c + 1]), y0 = py(ys[r + 1]), y1 = py(ys[r]);
      const std::string zone = CvgaZone((xs[c] + xs[c + 1]) / 2, (ys[r] + ys[r + 1]) / 2);
      out += "<rect x=\"" + Num(x0) + "\" y=\"" + Num(y0) + "\" width=\"" + Num(x1 - x0) +
             "\" height=\"" + Num(y1 - y0) + "\" fill=\"" + fill(zone) +
             "\" fill-opacity=\"0.35\" stroke=\"#555\"/>\n";
      out += "<text x=\"" + Num((x0 + x1) / 2) + "\" y=\"" + Num(y0 + 16) +
             "\" text-anchor=\"middle\" fill=\"#333\">" + zone + "</text>\n";
    }
  }
  for (double v : xs) {
    out += "<text x=\"" + Num(px(v)) + "\" y=\"" + Num(top + ph + 18) +
           "\" text-anchor=\"middle\">" + TickLabel(v, 10) + "</text>\n";
  }
  for (double v : ys) {
    out += "<text x=\"" + Num(left - 8) + "\" y=\"" + Num(py(v) + 4) + "\" text-anchor=\"end\">" +
           TickLabel(v, 10) + "</text>\n";
  }
  out += "<text x=\"" + Num(left + pw / 2) + "\" y=\"" + Num(top + ph + 42) +
         "\" text-anchor=\"middle\">Minimum BG (mg/dL)</text>\n";
  out += "<text transform=\"translate(22," + Num(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">Maximum BG (mg/dL)</text>\n";
  for (const auto& p : points) {
    out += "<circle cx=\"" + Num(px(p.min_mg_dl)) + "\" cy=\"" + Num(py(p.max_mg_dl)) +
           "\" r=\"5\" fill=\"#0072B2\" stroke=\"black\"><title>" + Escape(p.label) + ": min " +
           Num(p.min_mg_dl) + ", max " + Num(p.max_mg_dl) + " mg/dL</title></circle>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace medtwin::io
