// The glucose twin's filter: started with wrong insulin sensitivity and meal absorption for a
// virtual patient and fed that patient's simulated CGM, its estimates move to the truth and
// its 30-min forecasts get better.
#include "medtwin/estimate/glucose_filter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "medtwin/models/glucose.h"
#include "medtwin/models/glucose_devices.h"
#include "medtwin/models/registry.h"

namespace medtwin::estimate {
namespace {

struct FilterRun {
  double vmx_est, vmx_true, kabs_est, kabs_true;
  double rmse_day1, rmse_day3;  // 30-min forecast error of BG, mg/dL
};

// Three days of adult#001 with three meals and carb-counted boluses; the filter starts with
// Vmx halved and kabs doubled and sees the CGM every 5 min.
FilterRun RunScenario(const models::CgmSpec& spec, std::uint64_t seed) {
  FilterRun out{};
  auto model = models::FindModel("uva_padova");
  EXPECT_TRUE(model.ok());
  auto vp = models::FindVirtualPatient("adult#001");
  EXPECT_TRUE(vp.ok());
  const auto& names = (*model)->Info().parameters;
  auto idx = [&](const char* n) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i].name == n) return i;
    return names.size();
  };
  out.vmx_true = (*vp)->params[idx("Vmx")];
  out.kabs_true = (*vp)->params[idx("kabs")];
  std::vector<double> wrong = (*vp)->params;
  wrong[idx("Vmx")] *= 0.5;
  wrong[idx("kabs")] *= 2.0;

  auto patient = sim::LiveSimulation::Create(**model, (*vp)->params, 0);
  auto filter = GlucoseFilter::Create(**model, wrong, 0);
  EXPECT_TRUE(patient.ok() && filter.ok());
  models::CgmSensor cgm(spec, seed);
  models::GlucoseInputs inputs;
  inputs.basal_u_per_min = (*vp)->basal_u_per_min;
  filter->inputs() = inputs;

  const double meals[][2] = {{7 * 60, 50}, {12 * 60, 70}, {18 * 60, 80}};
  std::vector<double> err_day1, err_day3;
  std::vector<std::pair<double, double>> pending;  // (time, BG forecast for that time)
  for (double t = 0; t < 3 * 1440; t += 5) {
    const double tod = std::fmod(t, 1440);
    for (const auto& m : meals) {
      if (tod == m[0]) {
        inputs.StartMeal(t, m[1]);
        inputs.GiveBolus(t, m[1] / (*vp)->carb_ratio_g_per_u);
        filter->inputs() = inputs;
      }
    }
    const double bg_now = patient->Output(0);
    for (auto it = pending.begin(); it != pending.end();) {
      if (std::abs(it->first - t) < 1e-9) {
        const double e = it->second - bg_now;
        if (t < 1440) err_day1.push_back(e);
        if (t >= 2 * 1440) err_day3.push_back(e);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    EXPECT_TRUE(filter->Update(cgm.Read(patient->Output(1))).ok());
    auto f = filter->Forecast(30);
    EXPECT_TRUE(f.ok());
    pending.push_back({t + 30, f->back().mean_mg_dl});
    EXPECT_TRUE(models::AdvanceGlucose(*patient, inputs, t + 5).ok());
    EXPECT_TRUE(filter->Predict(t + 5).ok());
  }
  const auto est = filter->EstimatedParameters();
  out.vmx_est = est[0];
  out.kabs_est = est[1];
  auto rms = [](const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e * e;
    return std::sqrt(s / static_cast<double>(v.size()));
  };
  out.rmse_day1 = rms(err_day1);
  out.rmse_day3 = rms(err_day3);
  std::printf(
      "Vmx %.5f (true %.5f, start %.5f), kabs %.5f (true %.5f, start %.5f); "
      "30-min forecast RMSE day 1 %.2f, day 3 %.2f mg/dL\n",
      out.vmx_est, out.vmx_true, 0.5 * out.vmx_true, out.kabs_est, out.kabs_true, 2 * out.kabs_true,
      out.rmse_day1, out.rmse_day3);
  return out;
}

// Measured: Vmx 0.0308 vs 0.0313, kabs 0.0954 vs 0.0891; RMSE 3.65 → 2.45 mg/dL.
// (Noisy run below: Vmx 0.0281, kabs 0.106; RMSE 7.96 → 4.40 mg/dL.)
TEST(GlucoseFilter, IdealSensorRecoversParametersAndForecastImproves) {
  models::CgmSpec spec;
  spec.noise = false;
  const FilterRun r = RunScenario(spec, 1);
  EXPECT_NEAR(r.vmx_est / r.vmx_true, 1, 0.05);
  EXPECT_NEAR(r.kabs_est / r.kabs_true, 1, 0.15);
  EXPECT_LT(r.rmse_day3, 0.8 * r.rmse_day1);
}

// With the sensor's autocorrelated noise (SD ≈ 12 mg/dL) the estimates still move most of the
// way from the wrong start and the forecast improves. A calibration error of the sensor (gain,
// offset) is not identifiable from CGM alone and biases the twin; see docs/glucose.md.
TEST(GlucoseFilter, NoisySensorStillConvergesAndForecastImproves) {
  models::CgmSpec spec;
  spec.gain_sd = 0;
  spec.offset_sd_mg_dl = 0;
  const FilterRun r = RunScenario(spec, 2);
  EXPECT_LT(std::abs(std::log(r.vmx_est / r.vmx_true)), 0.25 * std::log(2.0));
  EXPECT_LT(std::abs(std::log(r.kabs_est / r.kabs_true)), 0.5 * std::log(2.0));
  EXPECT_LT(r.rmse_day3, 0.9 * r.rmse_day1);
}

}  // namespace
}  // namespace medtwin::estimate
