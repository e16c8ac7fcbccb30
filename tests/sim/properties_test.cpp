// Properties over random regimens: concentrations are never negative, and
// mass balance holds — with elimination switched off, the amounts in all compartments add up
// to exactly the dose delivered so far (F·AMT, partial for infusions still running).
#include <gtest/gtest.h>

#include <random>

#include "sim_test_util.h"

namespace medtwin::testing {
namespace {

struct RandomRegimen {
  std::vector<sim::Record> records;
  // Amount that has entered the body as of record `row` (for the mass balance). A dose
  // record's own dose counts from that record on (records at equal times act in file order);
  // its ADDL copies count once their time is reached.
  struct Given {
    std::size_t row;  // record that gave the dose
    double start;
    double amount;
    double rate;  // 0: bolus
  };
  std::vector<Given> given;
  double Delivered(std::size_t row) const {
    const double t = records[row].time;
    double total = 0;
    for (const Given& g : given) {
      if (g.row > row || g.start > t) continue;
      total += g.rate > 0 ? g.rate * std::clamp(t - g.start, 0.0, g.amount / g.rate) : g.amount;
    }
    return total;
  }
};

RandomRegimen MakeRegimen(std::mt19937& rng, int n_cmt) {
  std::uniform_real_distribution<double> u(0, 1);
  RandomRegimen r;
  double t = 0;
  for (int i = 0; i < 12; ++i) {
    t += std::floor(u(rng) * 40) / 4;  // quarter-hour grid, some ties
    if (u(rng) < 0.4) {
      const double amt = 10 + 490 * u(rng);
      const int cmt = 1 + static_cast<int>(u(rng) * n_cmt);
      const bool infusion = u(rng) < 0.5;
      const double rate = infusion ? amt / (0.25 + 4 * u(rng)) : 0;
      const int addl = u(rng) < 0.3 ? 1 + static_cast<int>(u(rng) * 3) : 0;
      const double ii = addl > 0 ? 2 + std::floor(u(rng) * 10) : 0;
      r.records.push_back(Dose(t, {.amt = amt, .cmt = cmt, .rate = rate, .ii = ii, .addl = addl}));
      for (int k = 0; k <= addl; ++k)
        r.given.push_back({r.records.size() - 1, t + k * ii, amt, rate});
    } else {
      r.records.push_back(Obs(t));
    }
  }
  for (double s = 0; s <= t + 30; s += 1.7) r.records.push_back(Obs(t + s));
  return r;
}

class RandomRegimens : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomRegimens, ConcentrationsNeverNegative) {
  const std::string name = GetParam();
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const auto reg = MakeRegimen(rng, GetModel(name).StateCount());
    for (auto method : {sim::Method::kAuto, sim::Method::kDopri5}) {
      auto cp = Simulate(name, reg.records, {}, method);
      for (double c : cp) ASSERT_GE(c, -1e-9) << name << " trial " << trial;
    }
  }
}

TEST_P(RandomRegimens, MassBalanceWithoutElimination) {
  const std::string name = GetParam();
  const sim::Model& model = GetModel(name);
  // Elimination off: CL = 0 for the linear models, VMAX = 0 for Michaelis–Menten.
  const std::map<std::string, double> no_elimination = {{model.IsLinear() ? "CL" : "VMAX", 0.0}};
  std::mt19937 rng(11);
  const int n = model.StateCount();
  for (int trial = 0; trial < 40; ++trial) {
    const auto reg = MakeRegimen(rng, n);
    std::vector<double> total(reg.records.size(), 0.0);
    for (int a = 1; a <= n; ++a) {
      auto amounts = Simulate(name, reg.records, no_elimination, sim::Method::kAuto, a);
      for (std::size_t i = 0; i < amounts.size(); ++i) total[i] += amounts[i];
    }
    for (std::size_t i = 0; i < total.size(); ++i) {
      const double want = reg.Delivered(i);
      ASSERT_NEAR(total[i], want, 1e-9 * std::max(1.0, want))
          << name << " trial " << trial << " row " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PkModels, RandomRegimens,
                         ::testing::Values("pk_1cmt_iv", "pk_1cmt_oral", "pk_2cmt_iv",
                                           "pk_2cmt_oral", "pk_3cmt_iv", "pk_3cmt_oral",
                                           "pk_1cmt_mm_iv"));

}  // namespace
}  // namespace medtwin::testing
