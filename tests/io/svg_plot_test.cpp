// Plots a person can read (issue 17): colours stay distinct past the palette's eight, a 5-95 %
// interval is a shaded band, and paged plots leave no subject out.
#include "medtwin/io/svg_plot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace medtwin::io {
namespace {

namespace fs = std::filesystem;

TEST(SvgPlot, ColoursStayDistinctPastEight) {
  std::set<std::string> colours;
  for (std::size_t i = 0; i < 40; ++i) colours.insert(SeriesColour(i));
  EXPECT_EQ(colours.size(), 40u);
  EXPECT_EQ(SeriesColour(0), "#0072B2");  // Okabe–Ito first
}

TEST(SvgPlot, BandIsAShadedPolygonListedInTheLegend) {
  PlotSpec spec;
  spec.title = "t";
  spec.bands.push_back({"ID 1 5-95 %", {0, 1, 2}, {1, 2, 3}, {2, 4, 6}, "#0072B2"});
  spec.series.push_back({"ID 1 forecast", {0, 1, 2}, {1.5, 3, 4.5}, false, false, "#0072B2"});
  const std::string svg = RenderSvgLinePlot(spec);
  EXPECT_NE(svg.find("<polygon fill=\"#0072B2\" fill-opacity=\"0.18\""), std::string::npos);
  EXPECT_NE(svg.find(">ID 1 5-95 %</text>"), std::string::npos);
  // The band is drawn before (under) the line.
  EXPECT_LT(svg.find("<polygon"), svg.find("<polyline"));
}

TEST(SvgPlot, PagedPlotsHoldEverySubject) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_svg_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<PlotGroup> groups;
  for (int i = 1; i <= 10; ++i) {
    groups.push_back({{{"ID " + std::to_string(i), {0, 1}, {1, 2}, false, false, ""}}, {}});
  }
  PlotSpec base;
  base.title = "model on data.csv";
  auto written = WritePagedPlots(base, groups, 4, (dir / "fit.svg").string());
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  ASSERT_EQ(written->size(), 3u);
  EXPECT_EQ((*written)[1], (dir / "fit_2.svg").string());
  std::string all;
  for (const auto& path : *written) {
    std::ifstream in(path);
    all += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  for (int i = 1; i <= 10; ++i) {
    EXPECT_NE(all.find(">ID " + std::to_string(i) + "</text>"), std::string::npos) << i;
  }
  EXPECT_NE(all.find("(subjects 9-10 of 10, page 3 of 3)"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medtwin::io
