#include "medtwin/cli/fit_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/decide/exposure.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"

namespace medtwin::cli {
namespace {

constexpr std::size_t kSubjectsPerPlot = 4;  // readable: 12 lines and point sets a page

struct Window {
  double from_h, to_h;
};

Result<std::vector<Window>> ParseWindows(const std::vector<std::string>& specs) {
  std::vector<Window> out;
  for (const auto& spec : specs) {
    const auto colon = spec.find(':');
    char* end1 = nullptr;
    char* end2 = nullptr;
    double from = 0, to = 0;
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < spec.size();
    if (ok) {
      const std::string a = spec.substr(0, colon), b = spec.substr(colon + 1);
      from = std::strtod(a.c_str(), &end1);
      to = std::strtod(b.c_str(), &end2);
      ok = *end1 == '\0' && *end2 == '\0' && std::isfinite(from) && std::isfinite(to);
    }
    if (!ok) return InvalidArgument("--auc", "'" + spec + "' is not FROM:TO in hours, e.g. 0:24");
    if (from < 0 || to <= from) {
      return InvalidArgument("--auc", "'" + spec + "': need 0 <= FROM < TO");
    }
    out.push_back({from, to});
  }
  return out;
}

double FirstDoseTime(const sim::Subject& subject) {
  for (const auto& r : subject.records) {
    if (r.evid == sim::Evid::kDose || r.evid == sim::Evid::kResetDose) return r.time;
  }
  return subject.records.empty() ? 0 : subject.records.front().time;
}

}  // namespace

Status RunFit(const FitArgs& args) {
  using nlohmann::json;
  MEDTWIN_TRY(estimate::PopulationModel pop, estimate::FindPopulationModel(args.model));
  MEDTWIN_TRY(estimate::MapEstimator estimator,
              estimate::MapEstimator::Create(pop, SimOptionsFor(args.locf)));
  MEDTWIN_TRY(std::vector<Window> windows, ParseWindows(args.auc_windows));
  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, estimator.data_info(),
                                                  IgnoringColumns(args.ignore_columns)));

  json out = {{"model", pop.name}, {"source", pop.source}, {"subjects", json::array()}};
  io::PlotSpec plot;
  plot.title = pop.name + " on " + std::filesystem::path(args.data_path).filename().string() +
               ": observed, individual (MAP) and population predictions";
  std::vector<io::PlotGroup> groups;
  plot.x_label = "Time (h)";
  plot.y_label = "Concentration (mg/L)";
  int without_levels = 0;
  for (const auto& subject : data.subjects) {
    MEDTWIN_TRY(auto fit, estimator.Fit(subject), args.data_path + ": ID " + subject.id);
    json s = {{"id", subject.id}, {"ofv", fit.ofv}, {"observations", fit.observation_count}};
    json eta = json::object(), params = json::object(), se = json::object();
    for (std::size_t k = 0; k < pop.eta_names.size(); ++k) {
      eta[pop.eta_names[k]] = fit.eta(static_cast<Eigen::Index>(k));
    }
    for (std::size_t k = 0; k < fit.parameter_names.size(); ++k) {
      params[fit.parameter_names[k]] = fit.parameters[k];
      se[fit.parameter_names[k]] = fit.parameter_se[k];
    }
    json cov = json::array();
    for (Eigen::Index r = 0; r < fit.eta_covariance.rows(); ++r) {
      json row = json::array();
      for (Eigen::Index c = 0; c < fit.eta_covariance.cols(); ++c)
        row.push_back(fit.eta_covariance(r, c));
      cov.push_back(row);
    }
    json preds = json::array();
    for (const auto& p : fit.predictions) {
      preds.push_back({{"time", p.time}, {"dv", p.dv}, {"ipred", p.ipred}, {"pred", p.pred}});
    }
    s["eta"] = eta;
    s["params"] = params;
    s["se"] = se;
    s["eta_covariance"] = cov;
    s["predictions"] = preds;
    // Exposure of the individual (MAP) curve on a 5-min grid, windows relative to the first dose.
    if (!subject.records.empty()) {
      const double t0 = FirstDoseTime(subject);
      std::vector<Window> w = windows;
      if (w.empty()) {
        const double span = subject.records.back().time - t0;
        for (double d = 0; d == 0 || d < span; d += 24) w.push_back({d, d + 24});
      }
      double t_end = 0;
      for (const auto& win : w) t_end = std::max(t_end, t0 + win.to_h);
      MEDTWIN_TRY(auto curve, estimator.PredictCurve(subject, fit.eta, t_end, 1.0 / 12));
      json exposure = json::array();
      for (const auto& win : w) {
        const double a = t0 + win.from_h, b = t0 + win.to_h;
        exposure.push_back({{"from_h", win.from_h},
                            {"to_h", win.to_h},
                            {"auc_mg_h_per_l", decide::Auc(curve, a, b)},
                            {"cmax_mg_per_l", decide::Cmax(curve, a, b)},
                            {"cmin_mg_per_l", decide::Cmin(curve, a, b)}});
      }
      s["exposure"] = exposure;
    }
    if (fit.observation_count == 0) {
      // Nothing to individualize from: say so instead of presenting the prior as a fit.
      s["note"] = "no drug levels for this ID: the estimates are the population prior";
      ++without_levels;
    }
    out["subjects"].push_back(s);

    if (!args.plot_path.empty()) {
      const double t_end = subject.records.back().time + 12;
      MEDTWIN_TRY(auto ipred, estimator.PredictCurve(subject, fit.eta, t_end, 0.25));
      MEDTWIN_TRY(auto pred, estimator.PredictCurve(subject, Eigen::VectorXd::Zero(fit.eta.size()),
                                                    t_end, 0.25));
      io::PlotSeries obs{"ID " + subject.id + " observed", {}, {}, true, false, ""};
      io::PlotSeries ind{"ID " + subject.id + " individual", {}, {}, false, false, ""};
      io::PlotSeries popn{"ID " + subject.id + " population", {}, {}, false, true, ""};
      for (const auto& p : fit.predictions) {
        obs.x.push_back(p.time);
        obs.y.push_back(p.dv);
      }
      for (auto [t, c] : ipred) {
        ind.x.push_back(t);
        ind.y.push_back(c);
      }
      for (auto [t, c] : pred) {
        popn.x.push_back(t);
        popn.y.push_back(c);
      }
      // One colour per subject on its page: observed, individual and population share it.
      obs.colour = ind.colour = popn.colour = io::SeriesColour(groups.size() % kSubjectsPerPlot);
      groups.push_back({{std::move(obs), std::move(ind), std::move(popn)}, {}});
    }
  }
  if (without_levels > 0) {  // counted, not named: identifiers stay out of logs
    std::fprintf(stderr,
                 "medtwin fit: %d subject(s) without drug levels: their estimates are the prior "
                 "(see \"note\" in %s)\n",
                 without_levels, args.out_path.c_str());
  }
  if (!args.plot_path.empty()) {
    // Every subject, four to a page (plot.svg, plot_2.svg, ...): none left out silently.
    MEDTWIN_TRY(out["plots"], io::WritePagedPlots(plot, groups, kSubjectsPerPlot, args.plot_path));
  }
  return io::WriteFileAtomically(args.out_path, out.dump(2) + "\n");
}

void AddFitCommand(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  auto* fit = app.add_subcommand(
      "fit",
      "Bayesian MAP individualization: for every ID in the record file, the η that minimize\n"
      "ηᵀΩ⁻¹η + Σ[(y−f)²/σ² + ln σ²] under a population model, with individual parameters,\n"
      "their approximate SE (Laplace), OFV and predictions at the observations (FIT.json).\n"
      "Covariate columns as the model declares (e.g. CRCL mL/min, WT kg, DIAL 0/1; or AGE,\n"
      "SEX 0 male/1 female, SCR mg/dL for Cockcroft-Gault).");
  fit->add_option("--model", args->model,
                  "Population model: vancomycin_goti2018, vancomycin_buelga2005, or a .json file")
      ->required();
  fit->add_option("--data", args->data_path, "Records with DV levels, CSV")->required();
  AddIgnoreColumnOption(fit, &args->ignore_columns);
  AddLocfOption(fit, &args->locf);
  fit->add_option("--out", args->out_path, "FIT.json (written atomically)")->required();
  fit->add_option("--plot", args->plot_path,
                  "SVG: observed levels, individual fit and population prediction");
  fit->add_option(
      "--auc", args->auc_windows,
      "Exposure window FROM:TO in hours after the first dose (repeatable), e.g.\n"
      "--auc 0:24 --auc 24:48; default: each day up to the one holding the last record.\n"
      "FIT.json reports AUC, Cmax and Cmin of the individual curve per window.");

  OnChosen(fit, [args] { return Report("fit", RunFit(*args)); });
}

}  // namespace medtwin::cli
