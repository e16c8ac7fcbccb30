#include "medtwin/sim/model.h"

#include <algorithm>
#include <vector>

namespace medtwin::sim {

void Model::DerivativesWithInputs(double t, std::span<const double> x, std::span<const double> p,
                                  std::span<const double> rates, std::span<double> dxdt) const {
  Derivatives(t, x, p, dxdt);
  for (std::size_t i = 0; i < dxdt.size(); ++i) dxdt[i] += rates[i];
}

void Model::InitialState(std::span<const double> p, std::span<double> x) const {
  (void)p;
  std::fill(x.begin(), x.end(), 0.0);
}

bool Model::IsLinear() const {
  std::vector<double> p;
  for (const auto& spec : Info().parameters) p.push_back(spec.default_value);
  std::vector<double> k(static_cast<std::size_t>(StateCount() * StateCount()));
  return LinearMatrix(p, k);
}

}  // namespace medtwin::sim
