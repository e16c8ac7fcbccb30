#include "medtwin/estimate/nca.h"

#include <cmath>

#include "medtwin/core/format.h"

namespace medtwin::estimate {
namespace {

// Area of one interval: log trapezoid when the concentration falls between two positive
// values (exact for exponential decline), else linear.
double IntervalAuc(double t1, double c1, double t2, double c2, AucMethod method) {
  const double dt = t2 - t1;
  if (method == AucMethod::kLinearUpLogDown && c2 < c1 && c2 > 0) {
    return (c1 - c2) / std::log(c1 / c2) * dt;
  }
  return 0.5 * (c1 + c2) * dt;
}

struct LogLinearFit {
  double slope = 0, r_squared = 0, adj_r_squared = 0;
};

LogLinearFit FitLogLinear(const std::vector<double>& t, const std::vector<double>& c,
                          std::size_t first) {
  const auto n = static_cast<double>(t.size() - first);
  double st = 0, sy = 0;
  for (std::size_t k = first; k < t.size(); ++k) {
    st += t[k];
    sy += std::log(c[k]);
  }
  const double mt = st / n, my = sy / n;
  double stt = 0, sty = 0, syy = 0;
  for (std::size_t k = first; k < t.size(); ++k) {
    const double dt = t[k] - mt, dy = std::log(c[k]) - my;
    stt += dt * dt;
    sty += dt * dy;
    syy += dy * dy;
  }
  LogLinearFit fit;
  fit.slope = sty / stt;
  fit.r_squared = syy > 0 ? sty * sty / (stt * syy) : 1.0;
  fit.adj_r_squared = 1 - (1 - fit.r_squared) * (n - 1) / (n - 2);
  return fit;
}

}  // namespace

Result<NcaResult> AnalyseProfile(const std::vector<double>& time, const std::vector<double>& conc,
                                 double dose, const NcaOptions& options) {
  if (time.size() != conc.size()) return InvalidArgument("profile", "times and levels differ");
  std::vector<double> t, c;
  for (std::size_t k = 0; k < time.size(); ++k) {
    if (std::isnan(conc[k])) continue;
    if (conc[k] < 0) {
      return InvalidArgument("DV", "a concentration below 0 (" + FormatNumber(conc[k]) +
                                       " at TIME " + FormatNumber(time[k]) + ")");
    }
    if (!t.empty() && time[k] <= t.back()) {
      return InvalidArgument("TIME", "levels must be at increasing times (" +
                                         FormatNumber(time[k]) + " after " +
                                         FormatNumber(t.back()) + ")");
    }
    t.push_back(time[k]);
    c.push_back(conc[k]);
  }
  if (t.empty()) return InvalidArgument("DV", "no concentrations");
  NcaResult out;
  out.dose = dose > 0 ? dose : NcaResult::kNan;
  std::size_t imax = 0, ilast = t.size();
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (c[k] > c[imax]) imax = k;
    if (c[k] > 0) ilast = k;
  }
  out.cmax = c[imax];
  out.tmax = t[imax];
  if (ilast == t.size()) {
    out.lambda_z_note = "every concentration is 0";
    out.auclast = 0;
    return out;
  }
  out.clast = c[ilast];
  out.tlast = t[ilast];
  out.auclast = 0;
  for (std::size_t k = 0; k + 1 <= ilast; ++k) {
    out.auclast += IntervalAuc(t[k], c[k], t[k + 1], c[k + 1], options.auc_method);
  }
  // Terminal phase: positive levels after Tmax, up to Tlast.
  std::vector<double> tz, cz;
  for (std::size_t k = imax + 1; k <= ilast; ++k) {
    if (c[k] > 0) {
      tz.push_back(t[k]);
      cz.push_back(c[k]);
    }
  }
  const auto min_points = static_cast<std::size_t>(std::max(3, options.min_lambda_z_points));
  if (tz.size() < min_points) {
    out.lambda_z_note = "fewer than " + std::to_string(min_points) +
                        " positive levels after Tmax: no terminal phase";
  } else {
    // Every candidate (the last n points); of the declining ones whose adjusted R² is within
    // the factor of the best (strictly), the one with the most points (PKNCA's half.life).
    std::vector<LogLinearFit> fits;
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t n = min_points; n <= tz.size(); ++n) {
      fits.push_back(FitLogLinear(tz, cz, tz.size() - n));
      best = std::max(best, fits.back().adj_r_squared);
    }
    std::size_t chosen = fits.size();
    for (std::size_t i = 0; i < fits.size(); ++i) {
      if (fits[i].slope < 0 && fits[i].adj_r_squared > best - options.adj_r_squared_factor) {
        chosen = i;
      }
    }
    if (chosen == fits.size()) {
      out.lambda_z_note = "the terminal levels do not decline";
    } else {
      const LogLinearFit& fit = fits[chosen];
      const std::size_t n = min_points + chosen;
      out.lambda_z = -fit.slope;
      out.half_life = std::log(2.0) / out.lambda_z;
      out.r_squared = fit.r_squared;
      out.adj_r_squared = fit.adj_r_squared;
      out.lambda_z_points = static_cast<int>(n);
      out.lambda_z_from = tz[tz.size() - n];
      out.lambda_z_to = tz.back();
      out.aucinf = out.auclast + out.clast / out.lambda_z;
      out.auc_extrapolated_pct = 100 * (out.aucinf - out.auclast) / out.aucinf;
      if (dose > 0) {
        out.cl_f = dose / out.aucinf;
        out.vz_f = dose / (out.lambda_z * out.aucinf);
      }
    }
  }
  return out;
}

}  // namespace medtwin::estimate
