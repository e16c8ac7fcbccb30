#include "medtwin/sim/stepper.h"

namespace medtwin::sim {

Result<Method> ParseMethod(std::string_view text) {
  if (text == "auto") return Method::kAuto;
  if (text == "closed" || text == "closed-form") return Method::kClosedForm;
  if (text == "dopri5" || text == "ode") return Method::kDopri5;
  if (text == "cvode" || text == "bdf") return Method::kCvodeBdf;
  return InvalidArgument("method", "unknown method '" + std::string(text) +
                                       "' (choose auto, closed, dopri5 or cvode)");
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kAuto:
      return "auto";
    case Method::kClosedForm:
      return "closed";
    case Method::kDopri5:
      return "dopri5";
    case Method::kCvodeBdf:
      return "cvode";
  }
  return "auto";
}

void OdeSystem::Evaluate(double t, std::span<const double> x, std::span<double> dxdt) const {
  model->DerivativesWithInputs(t, x, params, rates, dxdt);
}

Result<std::unique_ptr<Stepper>> MakeStepper(const Model& model, Method method,
                                             const Tolerances& tolerances) {
  const int n = model.StateCount();
  if (method == Method::kAuto) method = model.IsLinear() ? Method::kClosedForm : Method::kDopri5;
  switch (method) {
    case Method::kClosedForm:
      if (!model.IsLinear()) {
        return InvalidArgument("method",
                               "model " + model.Info().name + " is nonlinear; use dopri5 or cvode");
      }
      return MakeLinearStepper(n);
    case Method::kDopri5:
      return MakeDopri5Stepper(n, tolerances);
    case Method::kCvodeBdf:
      return MakeCvodeStepper(n, tolerances);
    case Method::kAuto:
      break;
  }
  return MakeDopri5Stepper(n, tolerances);
}

}  // namespace medtwin::sim
