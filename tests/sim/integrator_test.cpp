// Integrators on problems with known solutions: accuracy follows the tolerance, DOPRI5 shows
// fifth-order convergence, dense output is as accurate as the steps, and CVODE handles a
// stiff system that forces an explicit method into tiny steps.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "medtwin/sim/stepper.h"

namespace medtwin::sim {
namespace {

// y1' = -y2, y2' = y1 (harmonic oscillator): y = (cos t, sin t).
class Oscillator final : public Model {
 public:
  Oscillator() { info_ = {"osc", "", "h", {{"y1", ""}, {"y2", ""}}, {}, {{"y1", ""}}, 1, {}}; }
  const ModelInfo& Info() const override { return info_; }
  void Derivatives(double, std::span<const double> x, std::span<const double>,
                   std::span<double> dx) const override {
    dx[0] = -x[1];
    dx[1] = x[0];
  }
  void Outputs(std::span<const double> x, std::span<const double>,
               std::span<double> o) const override {
    o[0] = x[0];
  }

 private:
  ModelInfo info_;
};

// Stiff linear pair: y1' = -1000 y1 + y2·999... eigenvalues -1 and -1000, solution
// y1 = y2 = e^{-t} from y(0) = (1, 1) once written as y1' = -1000 y1 + 999 y2, y2' = -y2.
class StiffPair final : public Model {
 public:
  StiffPair() { info_ = {"stiff", "", "h", {{"y1", ""}, {"y2", ""}}, {}, {{"y1", ""}}, 1, {}}; }
  const ModelInfo& Info() const override { return info_; }
  void Derivatives(double, std::span<const double> x, std::span<const double>,
                   std::span<double> dx) const override {
    dx[0] = -1000 * x[0] + 999 * x[1];
    dx[1] = -x[1];
  }
  void Outputs(std::span<const double> x, std::span<const double>,
               std::span<double> o) const override {
    o[0] = x[0];
  }

 private:
  ModelInfo info_;
};

double OscillatorError(Stepper& stepper, double t_end, int samples) {
  Oscillator model;
  std::vector<double> rates = {0, 0}, x = {1, 0};
  EXPECT_TRUE(stepper.Reset(OdeSystem{&model, {}, rates}, 0, x).ok());
  double worst = 0;
  for (int i = 1; i <= samples; ++i) {
    const double t = t_end * i / samples;
    EXPECT_TRUE(stepper.AdvanceTo(t, t_end, x).ok());
    worst = std::max({worst, std::abs(x[0] - std::cos(t)), std::abs(x[1] - std::sin(t))});
  }
  return worst;
}

TEST(Dopri5, ErrorFollowsTolerance) {
  double previous = 1;
  for (double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
    auto stepper = MakeDopri5Stepper(2, Tolerances{tol, tol});
    const double err = OscillatorError(*stepper, 20, 1);
    EXPECT_LT(err, 200 * tol) << tol;  // global error over ~3 periods, proportional to tol
    EXPECT_LT(err, previous) << tol;
    previous = err;
  }
}

TEST(Dopri5, ConvergesAtFifthOrder) {
  // Error per unit step ~ C·h^5: compare the number of right-hand-side evaluations needed at
  // two tolerances. For order p, err ∝ N^-p, so the slope log(err)/log(N) ≈ -5.
  auto loose = MakeDopri5Stepper(2, Tolerances{1e-6, 1e-6});
  auto tight = MakeDopri5Stepper(2, Tolerances{1e-11, 1e-11});
  const double e1 = OscillatorError(*loose, 20, 1), e2 = OscillatorError(*tight, 20, 1);
  const double n1 = static_cast<double>(loose->Evaluations());
  const double n2 = static_cast<double>(tight->Evaluations());
  const double order = -std::log(e2 / e1) / std::log(n2 / n1);
  EXPECT_GT(order, 4.0);
  EXPECT_LT(order, 6.5);
}

TEST(Dopri5, DenseOutputIsAsAccurateAsTheSteps) {
  // 2000 samples inside the steps (dense output) vs the single end point: same accuracy class.
  auto stepper = MakeDopri5Stepper(2, Tolerances{1e-9, 1e-9});
  const double dense = OscillatorError(*stepper, 20, 2000);
  EXPECT_LT(dense, 1e-6);
  // Dense sampling does not force extra steps: about as many evaluations as one end point.
  auto end_only = MakeDopri5Stepper(2, Tolerances{1e-9, 1e-9});
  (void)OscillatorError(*end_only, 20, 1);
  EXPECT_LT(static_cast<double>(stepper->Evaluations()),
            static_cast<double>(end_only->Evaluations()) * 1.2);
}

TEST(Dopri5, NeverStepsPastTheStopTime) {
  // The right-hand side changes at t=1 (a new rate after Reset); with stop_t=1 the solution
  // at 1 must not have seen the future input.
  Oscillator model;
  auto stepper = MakeDopri5Stepper(2, Tolerances{1e-10, 1e-10});
  std::vector<double> rates = {0, 0}, x = {1, 0};
  ASSERT_TRUE(stepper->Reset(OdeSystem{&model, {}, rates}, 0, x).ok());
  ASSERT_TRUE(stepper->AdvanceTo(0.3, 1.0, x).ok());
  ASSERT_TRUE(stepper->AdvanceTo(1.0, 1.0, x).ok());
  EXPECT_NEAR(x[0], std::cos(1.0), 1e-8);
}

TEST(Cvode, SolvesOscillatorWithinTolerance) {
  auto stepper = MakeCvodeStepper(2, Tolerances{1e-10, 1e-10});
  EXPECT_LT(OscillatorError(*stepper, 20, 50), 1e-6);
}

TEST(Cvode, StiffProblemTakesFarFewerEvaluationsThanDopri5) {
  StiffPair model;
  std::vector<double> rates = {0, 0};
  auto run = [&](Stepper& s) {
    std::vector<double> x = {1, 1};
    EXPECT_TRUE(s.Reset(OdeSystem{&model, {}, rates}, 0, x).ok());
    EXPECT_TRUE(s.AdvanceTo(10, 10, x).ok());
    EXPECT_NEAR(x[0], std::exp(-10.0), 1e-7);
    EXPECT_NEAR(x[1], std::exp(-10.0), 1e-7);
  };
  auto bdf = MakeCvodeStepper(2, Tolerances{1e-8, 1e-10});
  auto rk = MakeDopri5Stepper(2, Tolerances{1e-8, 1e-10});
  run(*bdf);
  run(*rk);
  // DOPRI5 is limited by stability (h < ~3.3/1000); BDF is not.
  EXPECT_LT(bdf->Evaluations() * 5, rk->Evaluations());
}

}  // namespace
}  // namespace medtwin::sim
