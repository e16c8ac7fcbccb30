// UVA/Padova model: reproduces the reference peer (simglucose) run within 0.1 mg/dL (in fact
// to the file's 6 decimals), holds each virtual patient at basal, agrees across integrators,
// and the patient files load with clear errors when damaged.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../support/mutate.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::models {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

sim::Record Dose(double t, double amt, int cmt, double rate) {
  sim::Record r;
  r.time = t;
  r.evid = sim::Evid::kDose;
  r.amt = amt;
  r.cmt = cmt;
  r.rate = rate;
  return r;
}

sim::Record Observe(double t) {
  sim::Record r;
  r.time = t;
  r.evid = sim::Evid::kObservation;
  return r;
}

std::vector<double> PatientParams(const sim::Simulator& simulator, const VirtualPatient& vp) {
  std::vector<double> p = simulator.layout().Defaults();
  std::copy(vp.params.begin(), vp.params.end(), p.begin());
  return p;
}

struct ReferenceRow {
  double t, insulin_u_per_min, bg, gsub;
};

// ../shared/reference/uva_padova_adolescent001_meal80.csv, copied into tests/data.
std::vector<ReferenceRow> LoadReference() {
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) +
                   "/tests/data/uva_padova_adolescent001_meal80.csv");
  std::string line;
  std::getline(in, line);
  std::vector<ReferenceRow> rows;
  while (std::getline(in, line)) {
    std::stringstream s(line);
    std::string cell;
    std::vector<std::string> c;
    while (std::getline(s, cell, ',')) c.push_back(cell);
    rows.push_back({std::stod(c[1]), std::stod(c[3]), std::stod(c[4]), std::stod(c[5])});
  }
  return rows;
}

TEST(UvaPadova, ReproducesReferenceMealRunAtEveryMinute) {
  const auto ref = LoadReference();
  ASSERT_EQ(ref.size(), 1000u);
  auto model = FindModel("uva_padova");
  ASSERT_TRUE(model.ok());
  auto vp = FindVirtualPatient("adolescent#001");
  ASSERT_TRUE(vp.ok()) << vp.error().ToString();
  const double basal = ref[0].insulin_u_per_min;
  EXPECT_NEAR(basal, (*vp)->basal_u_per_min, 1e-9);  // u2ss·BW/6000
  const double bolus = ref[100].insulin_u_per_min - basal;
  EXPECT_NEAR(bolus, 80 / (*vp)->carb_ratio_g_per_u, 1e-6);

  // Basal as one long infusion; at 100 min an 80 g meal at 5 g/min and the bolus in one minute.
  sim::Subject subject;
  subject.id = "1";
  subject.records.push_back(Dose(0, basal * 1000, uva::kInsulinCmt, basal));
  for (int t = 0; t < 1000; ++t) {
    if (t == 100) {
      subject.records.push_back(Dose(100, 80, uva::kMealCmt, 5));
      subject.records.push_back(Dose(100, bolus, uva::kInsulinCmt, bolus));
    }
    subject.records.push_back(Observe(t));
  }
  for (sim::Method method : {sim::Method::kDopri5, sim::Method::kCvodeBdf}) {
    sim::SimOptions options;
    options.method = method;
    auto simulator = sim::Simulator::Create(**model, options);
    ASSERT_TRUE(simulator.ok());
    auto r = simulator->Run(subject, PatientParams(*simulator, **vp));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    double worst_bg = 0, worst_gsub = 0;
    std::size_t k = 0;
    for (std::size_t i = 0; i < subject.records.size(); ++i) {
      if (subject.records[i].evid != sim::Evid::kObservation) continue;
      ASSERT_EQ(subject.records[i].time, ref[k].t);
      worst_bg = std::max(worst_bg, std::abs(r->Output(i, 0) - ref[k].bg));
      worst_gsub = std::max(worst_gsub, std::abs(r->Output(i, 1) - ref[k].gsub));
      ++k;
    }
    // The issue asks for 0.1 mg/dL; the file has 6 decimals and medtwin matches to those
    // (CVODE to its tolerance).
    const double tol = method == sim::Method::kDopri5 ? 1e-5 : 1e-3;
    EXPECT_LT(worst_bg, tol) << sim::MethodName(method);
    EXPECT_LT(worst_gsub, tol) << sim::MethodName(method);
  }
}

// Counting the meal per whole minute matters: a continuous count of D̄ would differ from the
// reference by up to 0.035 mg/dL on this run, the per-minute count by rounding only. Checked
// indirectly above; here, the model restarts at each minute of a meal and nowhere else.
TEST(UvaPadova, MealMinutesAreDiscontinuitiesOnlyWhileEating) {
  auto model = FindModel("uva_padova");
  ASSERT_TRUE(model.ok());
  std::vector<double> x(uva::kStateCount, 0.0), rates(uva::kStateCount, 0.0);
  EXPECT_TRUE(std::isinf((*model)->NextDiscontinuity(3.2, x, rates)));
  rates[uva::kQsto1] = 5000;
  x[uva::kMealStart] = 100;
  EXPECT_DOUBLE_EQ((*model)->NextDiscontinuity(100, x, rates), 101);
  EXPECT_DOUBLE_EQ((*model)->NextDiscontinuity(100.5, x, rates), 101);
  EXPECT_DOUBLE_EQ((*model)->NextDiscontinuity(101, x, rates), 102);
}

TEST(UvaPadova, EveryVirtualPatientStaysAtBasalWithBasalInsulin) {
  auto all = VirtualPatients();
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  ASSERT_EQ((*all)->size(), 30u);
  std::map<std::string, int> per_cohort;
  auto model = FindModel("uva_padova");
  auto simulator = sim::Simulator::Create(**model);
  ASSERT_TRUE(simulator.ok());
  for (const auto& vp : **all) {
    ++per_cohort[vp.cohort];
    sim::Subject s;
    s.id = vp.name;
    s.records.push_back(Dose(0, vp.basal_u_per_min * 1440, uva::kInsulinCmt, vp.basal_u_per_min));
    for (int t = 0; t <= 1440; t += 60) s.records.push_back(Observe(t));
    auto r = simulator->Run(s, PatientParams(*simulator, vp));
    ASSERT_TRUE(r.ok()) << vp.name << ": " << r.error().ToString();
    const double bg0 = r->Output(1, 0);
    EXPECT_NEAR(bg0, vp.basal_glucose_mg_dl, 1e-6 * vp.basal_glucose_mg_dl) << vp.name;
    for (std::size_t i = 1; i < s.records.size(); ++i) {
      EXPECT_NEAR(r->Output(i, 0), bg0, 0.05) << vp.name << " at " << s.records[i].time;
    }
  }
  EXPECT_EQ(per_cohort["adolescent"], 10);
  EXPECT_EQ(per_cohort["adult"], 10);
  EXPECT_EQ(per_cohort["child"], 10);
}

// Without insulin glucose rises; a meal raises it and is fully absorbed; more insulin, lower BG.
TEST(UvaPadova, PhysiologyGoesTheRightWay) {
  auto model = FindModel("uva_padova");
  auto simulator = sim::Simulator::Create(**model);
  auto vp = FindVirtualPatient("adult#004");
  ASSERT_TRUE(vp.ok());
  const double basal = (*vp)->basal_u_per_min;
  auto run = [&](double insulin_factor, double meal_g) {
    sim::Subject s;
    s.id = "x";
    s.records.push_back(
        Dose(0, basal * insulin_factor * 720, uva::kInsulinCmt, basal * insulin_factor));
    if (meal_g > 0) s.records.push_back(Dose(0, meal_g, uva::kMealCmt, 5));
    s.records.push_back(Observe(240));
    s.records.push_back(Observe(720));
    auto r = simulator->Run(s, PatientParams(*simulator, **vp));
    EXPECT_TRUE(r.ok());
    return std::vector<double>{r->Output(s.records.size() - 2, 0),
                               r->Output(s.records.size() - 1, 0)};
  };
  const double gb = (*vp)->basal_glucose_mg_dl;
  EXPECT_GT(run(0.0, 0)[1], gb + 20);
  EXPECT_LT(run(2.0, 0)[1], gb - 20);
  EXPECT_GT(run(1.0, 60)[0], gb + 10);
  EXPECT_LT(run(1.5, 60)[0], run(1.0, 60)[0]);
}

TEST(UvaPadova, DefaultsAreAdult001) {
  auto model = FindModel("uva_padova");
  auto vp = FindVirtualPatient("adult#001");
  ASSERT_TRUE(vp.ok());
  const auto& params = (*model)->Info().parameters;
  ASSERT_EQ(params.size(), (*vp)->params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_DOUBLE_EQ(params[i].default_value, (*vp)->params[i]) << params[i].name;
  }
}

TEST(UvaPadova, UnknownPatientsAndCohortsAreClearErrors) {
  auto p = FindVirtualPatient("adult#011");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().ToString().find("unknown virtual patient 'adult#011'"), std::string::npos);
  auto c = VirtualCohort("elderly");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().ToString().find("choose adults, adolescents, children or all"),
            std::string::npos);
  EXPECT_EQ(VirtualCohort("all")->size(), 30u);
  EXPECT_EQ(VirtualCohort("children")->size(), 10u);
}

// Damaged files: a bad number names file, line and column; random corruption never crashes.
TEST(UvaPadova, PatientFileParserRejectsDamageAndSurvivesFuzzing) {
  const std::string dir = std::string(MEDTWIN_SOURCE_DIR) + "/data/uva_padova";
  const std::string params = ReadText(dir + "/vpatient_params.csv");
  const std::string quest = ReadText(dir + "/Quest.csv");
  ASSERT_TRUE(ParseVirtualPatients(params, quest, "d").ok());
  std::string bad = params;
  const auto pos = bad.find("102.32");  // adult#001's BW
  ASSERT_NE(pos, std::string::npos);
  bad.replace(pos, 6, "10x.32");
  auto r = ParseVirtualPatients(bad, quest, "d");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("d/vpatient_params.csv:12"), std::string::npos)
      << r.error().ToString();
  EXPECT_EQ(r.error().field, "BW");
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789.,-e#\n x";
  for (int i = 0; i < 3000; ++i) {
    const std::string m = testing_support::Mutate(params, rng, alphabet, 4, 20);
    auto out = ParseVirtualPatients(m, quest, "fuzz");
    if (out.ok()) {
      for (const auto& vp : *out) {
        EXPECT_GE(vp.body_weight_kg, 1);
        EXPECT_GT(vp.carb_ratio_g_per_u, 0);
      }
    } else {
      EXPECT_FALSE(out.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace medtwin::models
