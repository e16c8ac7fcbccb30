// sim/stepper.h — integrators behind one small interface (SUNDIALS style: the engine never
// sees how a method works). Three implementations:
//   Dopri5Stepper  adaptive Dormand–Prince 5(4) with 4th-order dense output (non-stiff);
//   CvodeStepper   SUNDIALS CVODE, BDF with Newton iteration and a dense linear solver (stiff);
//   LinearStepper  exact propagation exp(K·dt) for linear models (the closed form).
// A stepper integrates dx/dt = f(t, x; p) + r, where r holds the zero-order infusion rates,
// constant between two Resets. It never steps past `stop_t`, so the engine can place
// discontinuities (doses, parameter changes) exactly and still sample densely in between.
#pragma once

#include <memory>
#include <span>

#include "medtwin/core/result.h"
#include "medtwin/sim/model.h"

namespace medtwin::sim {

enum class Method { kAuto, kClosedForm, kDopri5, kCvodeBdf };

// Parses "auto", "closed", "dopri5", "cvode" (for --method); the error names the choices.
[[nodiscard]] Result<Method> ParseMethod(std::string_view text);
[[nodiscard]] std::string_view MethodName(Method method);

struct Tolerances {
  double rtol = 1e-8;
  double atol = 1e-10;
  long max_steps = 1'000'000;  // per AdvanceTo call
};

// What is being integrated. The spans must stay valid until the next Reset.
struct OdeSystem {
  const Model* model = nullptr;
  std::span<const double> params;
  std::span<const double> rates;  // one per state
  void Evaluate(double t, std::span<const double> x, std::span<double> dxdt) const;
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  // Starts at time t with state x (after construction or a discontinuity).
  [[nodiscard]] virtual Status Reset(const OdeSystem& system, double t,
                                     std::span<const double> x) = 0;
  // Writes the state at t. Calls are non-decreasing in t between Resets; t <= stop_t.
  [[nodiscard]] virtual Status AdvanceTo(double t, double stop_t, std::span<double> x_out) = 0;
  // Right-hand-side evaluations so far (for benchmarks and tests).
  [[nodiscard]] virtual long Evaluations() const = 0;
};

// A stepper for `model`; kClosedForm requires a linear model (kInvalidArgument otherwise) and
// kAuto picks it whenever the model is linear, DOPRI5 otherwise.
[[nodiscard]] Result<std::unique_ptr<Stepper>> MakeStepper(const Model& model, Method method,
                                                           const Tolerances& tolerances);

std::unique_ptr<Stepper> MakeDopri5Stepper(int n, const Tolerances& tolerances);
std::unique_ptr<Stepper> MakeCvodeStepper(int n, const Tolerances& tolerances);
std::unique_ptr<Stepper> MakeLinearStepper(int n);

}  // namespace medtwin::sim
