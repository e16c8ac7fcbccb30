#include "medtwin/cli/vpc_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "medtwin/decide/exposure.h"
#include "medtwin/estimate/population_simulation.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"

namespace medtwin::cli {
namespace {

using nlohmann::json;

constexpr double kPercentiles[3] = {0.05, 0.5, 0.95};

// Bin edges over the observation times: a bin per distinct time when there are at most 12,
// else `bins` (default 8) bins of about equal count whose edges fall between distinct times.
std::vector<double> BinEdges(std::vector<double> times, int bins) {
  std::sort(times.begin(), times.end());
  std::vector<double> distinct = times;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<double> edges;
  if (bins == 0 && distinct.size() <= 12) {
    for (std::size_t k = 1; k < distinct.size(); ++k) {
      edges.push_back(0.5 * (distinct[k - 1] + distinct[k]));
    }
    return edges;
  }
  const int n = bins > 0 ? bins : 8;
  for (int b = 1; b < n; ++b) {
    const std::size_t at = times.size() * static_cast<std::size_t>(b) / static_cast<std::size_t>(n);
    if (at == 0 || at >= times.size()) continue;
    // Between the distinct times around the split, so equal times share a bin.
    auto upper = std::upper_bound(distinct.begin(), distinct.end(), times[at - 1]);
    if (upper == distinct.end()) continue;
    const double edge = 0.5 * (*(upper - 1) + *upper);
    if (edges.empty() || edge > edges.back()) edges.push_back(edge);
  }
  return edges;
}

std::size_t BinOf(const std::vector<double>& edges, double t) {
  return static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), t) - edges.begin());
}

}  // namespace

Status RunVpc(const VpcArgs& args) {
  if (args.replicates < 20 || args.replicates > 10'000) {
    return InvalidArgument("--replicates", "20..10000 (the CI needs at least 20)");
  }
  if (args.bins < 0 || args.bins > 100) return InvalidArgument("--bins", "0..100");
  MEDTWIN_TRY(estimate::PopulationModel pop, estimate::FindPopulationModel(args.model));
  MEDTWIN_TRY(estimate::MapEstimator estimator,
              estimate::MapEstimator::Create(pop, SimOptionsFor(args.locf)));
  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, estimator.data_info(),
                                                  IgnoringColumns(args.ignore_columns)));
  // The observations, and the bins over their times.
  std::vector<double> obs_times, obs_values;
  for (const auto& s : data.subjects) {
    for (const auto& r : s.records) {
      if (r.evid == sim::Evid::kObservation && !std::isnan(r.dv)) {
        obs_times.push_back(r.time);
        obs_values.push_back(r.dv);
      }
    }
  }
  if (obs_times.size() < 3) return InvalidArgument("DV", "a VPC needs observations");
  const std::vector<double> edges = BinEdges(obs_times, args.bins);
  const std::size_t n_bins = edges.size() + 1;
  std::vector<std::vector<double>> observed(n_bins), bin_times(n_bins);
  for (std::size_t k = 0; k < obs_times.size(); ++k) {
    const std::size_t bin = BinOf(edges, obs_times[k]);
    observed[bin].push_back(obs_values[k]);
    bin_times[bin].push_back(obs_times[k]);
  }
  std::fprintf(stderr, "vpc: %d replicates of %zu subjects ...\n", args.replicates,
               data.subjects.size());
  MEDTWIN_TRY(auto sims,
              estimate::SimulatePopulation(estimator, data.subjects, args.replicates, args.seed),
              args.data_path);
  // Per replicate and bin, the simulated observations; then their percentiles.
  std::vector<std::vector<std::vector<double>>> simulated(static_cast<std::size_t>(args.replicates),
                                                          std::vector<std::vector<double>>(n_bins));
  for (const auto& r : sims) {
    const auto& records = data.subjects[r.subject].records;
    for (std::size_t k = 0; k < records.size(); ++k) {
      if (records[k].evid != sim::Evid::kObservation || std::isnan(records[k].dv)) continue;
      simulated[static_cast<std::size_t>(r.replicate - 1)][BinOf(edges, records[k].time)].push_back(
          r.dv[k]);
    }
  }
  json bins = json::array();
  std::string csv = "BIN,TIME,N,OBS_P05,OBS_P50,OBS_P95";
  for (const char* p : {"P05", "P50", "P95"}) {
    csv += std::string(",SIM_") + p + "_LO,SIM_" + p + "_MED,SIM_" + p + "_HI";
  }
  csv += "\n";
  int inside = 0, checked = 0;
  io::PlotSpec plot;
  plot.title = "VPC: " + pop.name + " on " +
               std::filesystem::path(args.data_path).filename().string() + " (" +
               std::to_string(args.replicates) + " simulations)";
  plot.x_label = "Time";
  plot.y_label = "DV";
  const char* kNames[3] = {"5th pct", "median", "95th pct"};
  const char* kColours[3] = {"#0072B2", "#D55E00", "#0072B2"};
  std::vector<io::PlotBand> bands(3);
  std::vector<io::PlotSeries> lines(3);
  for (int p = 0; p < 3; ++p) {
    // Short labels: the legend is 120 px wide.
    bands[static_cast<std::size_t>(p)] = {
        std::string(kNames[p]) + " 95% CI (sim)", {}, {}, {}, kColours[p]};
    lines[static_cast<std::size_t>(p)] = {
        std::string(kNames[p]) + " (obs)", {}, {}, false, p != 1, "#000000"};
  }
  char buf[64];
  for (std::size_t b = 0; b < n_bins; ++b) {
    if (observed[b].empty()) continue;
    const double t_mid = decide::Quantile(bin_times[b], 0.5);
    json bin = {{"bin", b + 1}, {"time", t_mid}, {"n", observed[b].size()}};
    std::snprintf(buf, sizeof buf, "%zu,%.10g,%zu", b + 1, t_mid, observed[b].size());
    csv += buf;
    double obs_pct[3];
    for (int p = 0; p < 3; ++p) {
      obs_pct[p] = decide::Quantile(observed[b], kPercentiles[p]);
      std::snprintf(buf, sizeof buf, ",%.10g", obs_pct[p]);
      csv += buf;
    }
    json percentiles = json::array();
    for (int p = 0; p < 3; ++p) {
      std::vector<double> across;
      for (const auto& rep : simulated) {
        if (!rep[b].empty()) across.push_back(decide::Quantile(rep[b], kPercentiles[p]));
      }
      const double lo = decide::Quantile(across, 0.025), med = decide::Quantile(across, 0.5),
                   hi = decide::Quantile(across, 0.975);
      const bool in = obs_pct[p] >= lo && obs_pct[p] <= hi;
      inside += in ? 1 : 0;
      ++checked;
      percentiles.push_back({{"percentile", 100 * kPercentiles[p]},
                             {"observed", obs_pct[p]},
                             {"simulated_ci", {lo, med, hi}},
                             {"inside", in}});
      std::snprintf(buf, sizeof buf, ",%.10g,%.10g,%.10g", lo, med, hi);
      csv += buf;
      auto& band = bands[static_cast<std::size_t>(p)];
      band.x.push_back(t_mid);
      band.lo.push_back(lo);
      band.hi.push_back(hi);
      lines[static_cast<std::size_t>(p)].x.push_back(t_mid);
      lines[static_cast<std::size_t>(p)].y.push_back(obs_pct[p]);
    }
    csv += "\n";
    bin["percentiles"] = percentiles;
    bins.push_back(bin);
  }
  io::PlotSeries points{"observations", obs_times, obs_values, true, false, "#999999"};
  plot.bands = bands;
  plot.series = {points, lines[1], lines[0], lines[2]};
  const std::string csv_path = BesideOutput(args.out_path, args.csv_path, ".csv");
  const std::string plot_path = BesideOutput(args.out_path, args.plot_path, ".svg");
  json out = {{"model", pop.name},
              {"replicates", args.replicates},
              {"seed", args.seed},
              {"bins", bins},
              {"percentiles_inside_ci", inside},
              {"percentiles_checked", checked},
              {"csv", csv_path},
              {"plot", plot_path}};
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(plot_path, io::RenderSvgLinePlot(plot)));
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(csv_path, csv));
  return io::WriteFileAtomically(args.out_path, out.dump(2) + "\n");
}

void AddVpcCommand(CLI::App& app) {
  auto args = std::make_shared<VpcArgs>();
  auto* vpc = app.add_subcommand(
      "vpc",
      "Visual predictive check: the data's design simulated --replicates times under a\n"
      "population model (IIV and residual error), observations binned by time; per bin the\n"
      "observed 5th/50th/95th percentiles against the 95 % CI of the simulated ones.\n"
      "Writes VPC.json, a CSV per bin and an SVG.");
  vpc->add_option("--model", args->model, "Population model name or .json (e.g. popfit's)")
      ->required();
  vpc->add_option("--data", args->data_path, "Records with DV, CSV")->required();
  vpc->add_option("--replicates", args->replicates, "Simulations of the data set")
      ->capture_default_str();
  vpc->add_option("--bins", args->bins,
                  "Time bins (0: one per distinct time when at most 12, else 8 of equal count)")
      ->capture_default_str();
  vpc->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  AddIgnoreColumnOption(vpc, &args->ignore_columns);
  AddLocfOption(vpc, &args->locf);
  vpc->add_option("--out", args->out_path, "VPC.json")->required();
  vpc->add_option("--csv", args->csv_path, "Per-bin CSV (default: OUT with .csv)");
  vpc->add_option("--plot", args->plot_path, "SVG (default: OUT with .svg)");
  OnChosen(vpc, [args] { return Report("vpc", RunVpc(*args)); });
}

}  // namespace medtwin::cli
