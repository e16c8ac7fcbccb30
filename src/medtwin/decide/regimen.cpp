#include "medtwin/decide/regimen.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <thread>

#include "medtwin/core/format.h"

namespace medtwin::decide {
namespace {

constexpr double kGridH = 1.0 / 12;  // 5 minutes

Result<std::pair<double, double>> ParseRange(std::string_view text, const std::string& spec) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return InvalidArgument(spec, "expected LOW:HIGH");
  double lo = 0, hi = 0;
  auto a = std::from_chars(text.data(), text.data() + colon, lo);
  auto b = std::from_chars(text.data() + colon + 1, text.data() + text.size(), hi);
  if (a.ec != std::errc() || a.ptr != text.data() + colon || b.ec != std::errc() ||
      b.ptr != text.data() + text.size()) {
    return InvalidArgument(spec, "LOW and HIGH must be numbers");
  }
  if (!(lo >= 0 && hi > lo)) return InvalidArgument(spec, "need 0 <= LOW < HIGH");
  return std::pair{lo, hi};
}

}  // namespace

bool Target::Attained(const Exposure& e) const {
  auto outside = [](bool has, double v, double lo, double hi) { return has && (v < lo || v > hi); };
  return !outside(has_auc24, e.auc24, auc24_lo, auc24_hi) &&
         !outside(has_trough, e.trough, trough_lo, trough_hi) &&
         !outside(has_peak, e.peak, peak_lo, peak_hi) &&
         !outside(has_time_above_mic, e.time_above_mic_pct, time_above_mic_lo, time_above_mic_hi);
}

std::string Target::ToString() const {
  std::string s;
  auto add = [&s](bool has, const std::string& what, double lo, double hi, const char* unit) {
    if (!has) return;
    s += (s.empty() ? "" : ", ") + what + " " + FormatNumber(lo) + "-" + FormatNumber(hi) + unit;
  };
  add(has_auc24, "AUC24", auc24_lo, auc24_hi, " mg*h/L");
  add(has_trough, "trough", trough_lo, trough_hi, " mg/L");
  add(has_peak, "peak", peak_lo, peak_hi, " mg/L");
  add(has_time_above_mic, "time above MIC " + FormatNumber(mic) + " mg/L", time_above_mic_lo,
      time_above_mic_hi, " % of the interval");
  return s;
}

Result<Target> ParseTargets(const std::vector<std::string>& specs) {
  Target t;
  for (const std::string& spec : specs) {
    const auto eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    if (eq == std::string::npos)
      return InvalidArgument("--target " + spec, "expected NAME=LOW:HIGH");
    if (name == "mic") {
      const std::string_view text = std::string_view(spec).substr(eq + 1);
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), t.mic);
      if (ec != std::errc() || ptr != text.data() + text.size() || !(t.mic > 0)) {
        return InvalidArgument("--target " + spec, "the MIC is a number > 0 (mg/L)");
      }
      continue;
    }
    MEDTWIN_TRY(auto range, ParseRange(std::string_view(spec).substr(eq + 1), "--target " + spec));
    if (name == "auc24") {
      t.has_auc24 = true;
      std::tie(t.auc24_lo, t.auc24_hi) = range;
    } else if (name == "trough") {
      t.has_trough = true;
      std::tie(t.trough_lo, t.trough_hi) = range;
    } else if (name == "peak" || name == "cmax") {
      t.has_peak = true;
      std::tie(t.peak_lo, t.peak_hi) = range;
    } else if (name == "time_above_mic") {
      if (range.second > 100) {
        return InvalidArgument("--target " + spec, "a percentage of the interval: HIGH <= 100");
      }
      t.has_time_above_mic = true;
      std::tie(t.time_above_mic_lo, t.time_above_mic_hi) = range;
    } else {
      return InvalidArgument(
          "--target " + spec,
          "unknown target '" + name + "' (auc24, trough, peak or cmax, time_above_mic with mic)");
    }
  }
  if (t.has_time_above_mic != (t.mic > 0)) {
    return InvalidArgument("--target", t.has_time_above_mic
                                           ? "time_above_mic needs the MIC: mic=VALUE (mg/L)"
                                           : "mic is only used by a time_above_mic target");
  }
  if (!t.has_auc24 && !t.has_trough && !t.has_peak && !t.has_time_above_mic)
    return InvalidArgument("--target", "at least one target is needed");
  return t;
}

Result<Regimen> ParseRegimen(const std::string& text, double default_infusion_h) {
  const std::string field = "--what-if " + text;
  const auto at = text.find('@');
  if (at == std::string::npos) return InvalidArgument(field, "expected DOSE@INTERVAL[/INFUSION_H]");
  const auto slash = text.find('/', at);
  auto number = [&](std::string_view s, double& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
  };
  Regimen r;
  r.infusion_h = default_infusion_h;
  const std::string_view sv(text);
  if (!number(sv.substr(0, at), r.dose_mg) ||
      !number(sv.substr(at + 1, slash == std::string::npos ? std::string::npos : slash - at - 1),
              r.interval_h) ||
      (slash != std::string::npos && !number(sv.substr(slash + 1), r.infusion_h))) {
    return InvalidArgument(field, "dose, interval and infusion time must be numbers");
  }
  if (!(r.dose_mg > 0) || !(r.interval_h > 0) || r.infusion_h < 0 || r.infusion_h > r.interval_h) {
    return InvalidArgument(field, "need dose > 0, interval > 0, 0 <= infusion <= interval");
  }
  return r;
}

std::vector<double> LatestCovariates(const sim::Subject& subject, std::size_t columns) {
  std::vector<double> out(columns, std::nan(""));
  for (const auto& r : subject.records) {
    for (std::size_t c = 0; c < columns && c < r.covariates.size(); ++c) {
      if (!std::isnan(r.covariates[c])) out[c] = r.covariates[c];
    }
  }
  return out;
}

Result<Curve> SteadyStateCurve(estimate::MapEstimator& estimator, const PatientPosterior& patient,
                               const Regimen& regimen, const Eigen::VectorXd& eta) {
  sim::Subject s{"regimen", {}};
  sim::Record dose;
  dose.evid = sim::Evid::kDose;
  dose.amt = regimen.dose_mg;
  dose.rate = regimen.infusion_h > 0 ? regimen.dose_mg / regimen.infusion_h : 0;
  dose.ii = regimen.interval_h;
  dose.ss = 1;
  dose.addl = static_cast<int>(std::ceil(24.0 / regimen.interval_h));
  dose.covariates = patient.covariates;
  s.records.push_back(dose);
  for (int k = 0; k * kGridH <= 24 + 1e-9; ++k) {
    sim::Record obs;
    obs.time = k * kGridH;
    s.records.push_back(obs);
  }
  MEDTWIN_TRY(std::vector<double> c, estimator.Simulate(s, eta));
  Curve curve;
  for (std::size_t r = 1; r < s.records.size(); ++r) curve.emplace_back(s.records[r].time, c[r]);
  return curve;
}

Result<RegimenOutcome> EvaluateRegimen(estimate::MapEstimator& estimator,
                                       const PatientPosterior& patient, const Regimen& regimen,
                                       const Target& target, const RegimenSearch& search) {
  if (!(regimen.dose_mg > 0) || !(regimen.interval_h > 0) || regimen.infusion_h < 0) {
    return InvalidArgument("regimen", "dose and interval must be > 0, infusion time >= 0");
  }
  RegimenOutcome out;
  out.regimen = regimen;
  // Trough: lowest level over a dosing interval at steady state (just before the next dose for
  // infusions and boluses alike; the grid stops short of the next dose's arrival).
  const double trough_to = regimen.interval_h - kGridH / 2;
  auto exposure_of = [&](const Curve& c) {
    Exposure e{Auc(c, 0, 24), Cmin(c, 0, trough_to), Cmax(c, 0, regimen.interval_h), 0};
    if (target.mic > 0) {
      e.time_above_mic_pct =
          100 * TimeAbove(c, target.mic, 0, regimen.interval_h) / regimen.interval_h;
    }
    return e;
  };
  MEDTWIN_TRY(Curve curve, SteadyStateCurve(estimator, patient, regimen, patient.eta));
  const Exposure at_map = exposure_of(curve);
  out.auc24 = at_map.auc24;
  out.trough = at_map.trough;
  out.cmax = at_map.peak;
  out.time_above_mic_pct = at_map.time_above_mic_pct;
  std::vector<double> aucs, troughs, peaks;
  std::vector<std::vector<double>> at_point(search.curve_bands ? curve.size() : 0);
  int hits = 0;
  for (const auto& eta :
       estimate::SamplePosterior(patient.eta, patient.covariance, search.samples, search.seed)) {
    MEDTWIN_TRY(Curve c, SteadyStateCurve(estimator, patient, regimen, eta));
    const Exposure e = exposure_of(c);
    aucs.push_back(e.auc24);
    troughs.push_back(e.trough);
    peaks.push_back(e.peak);
    hits += target.Attained(e) ? 1 : 0;
    for (std::size_t k = 0; k < at_point.size() && k < c.size(); ++k) {
      at_point[k].push_back(c[k].second);
    }
  }
  for (std::size_t k = 0; k < at_point.size(); ++k) {
    if (at_point[k].empty()) continue;
    out.curve_p05.emplace_back(curve[k].first, Quantile(at_point[k], 0.05));
    out.curve_p95.emplace_back(curve[k].first, Quantile(at_point[k], 0.95));
  }
  out.pta = aucs.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(aucs.size());
  if (!aucs.empty()) {
    out.auc24_p05 = Quantile(aucs, 0.05);
    out.auc24_p50 = Quantile(aucs, 0.5);
    out.auc24_p95 = Quantile(aucs, 0.95);
    out.trough_p05 = Quantile(troughs, 0.05);
    out.trough_p50 = Quantile(troughs, 0.5);
    out.trough_p95 = Quantile(troughs, 0.95);
    out.cmax_p05 = Quantile(peaks, 0.05);
    out.cmax_p50 = Quantile(peaks, 0.5);
    out.cmax_p95 = Quantile(peaks, 0.95);
  }
  return out;
}

Result<std::vector<RegimenOutcome>> RankRegimens(estimate::MapEstimator& estimator,
                                                 const PatientPosterior& patient,
                                                 const Target& target,
                                                 const RegimenSearch& search) {
  if (!(search.dose_step_mg > 0)) return InvalidArgument("--dose-step", "must be > 0");
  std::vector<Regimen> menu;
  for (double ii : search.intervals_h) {
    for (double inf : search.infusion_h) {
      if (inf > ii) continue;  // an infusion longer than the interval is not a regimen to offer
      for (int k = 1; k * search.dose_step_mg <= search.dose_max_mg + 1e-9; ++k) {
        menu.push_back({k * search.dose_step_mg, ii, inf});
      }
    }
  }
  // Regimens are independent: evaluate them on two threads, the second with its own
  // estimator (an estimator holds simulation scratch state).
  std::vector<std::optional<Result<RegimenOutcome>>> results(menu.size());
  auto run = [&](std::size_t first, std::size_t stride, estimate::MapEstimator& est) {
    for (std::size_t i = first; i < menu.size(); i += stride) {
      results[i] = EvaluateRegimen(est, patient, menu[i], target, search);
    }
  };
  auto second = estimate::MapEstimator::Create(estimator.model());
  if (second.ok() && menu.size() > 1) {
    std::thread helper(run, 1, 2, std::ref(*second));
    run(0, 2, estimator);
    helper.join();
  } else {
    run(0, 1, estimator);
  }
  std::vector<RegimenOutcome> all;
  for (auto& r : results) {
    if (!r->ok()) return r->error();
    all.push_back(r->value());
  }
  // Among equal PTAs: the first target measure (AUC24, trough, peak, time above MIC) nearest
  // the middle of its range.
  auto distance = [&](const RegimenOutcome& o) {
    auto from_middle = [](double v, double lo, double hi) {
      return std::abs(v - 0.5 * (lo + hi)) / (hi - lo);
    };
    if (target.has_auc24) return from_middle(o.auc24, target.auc24_lo, target.auc24_hi);
    if (target.has_trough) return from_middle(o.trough, target.trough_lo, target.trough_hi);
    if (target.has_peak) return from_middle(o.cmax, target.peak_lo, target.peak_hi);
    return from_middle(o.time_above_mic_pct, target.time_above_mic_lo, target.time_above_mic_hi);
  };
  std::stable_sort(all.begin(), all.end(), [&](const RegimenOutcome& a, const RegimenOutcome& b) {
    if (a.pta != b.pta) return a.pta > b.pta;
    const double da = distance(a), db = distance(b);
    if (da != db) return da < db;
    return a.regimen.dose_mg * 24 / a.regimen.interval_h <
           b.regimen.dose_mg * 24 / b.regimen.interval_h;
  });
  return all;
}

}  // namespace medtwin::decide
