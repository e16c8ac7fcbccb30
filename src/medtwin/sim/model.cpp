#include "medtwin/sim/model.h"

namespace medtwin::sim {

bool Model::IsLinear() const {
  std::vector<double> p;
  for (const auto& spec : Info().parameters) p.push_back(spec.default_value);
  std::vector<double> k(static_cast<std::size_t>(StateCount() * StateCount()));
  return LinearMatrix(p, k);
}

}  // namespace medtwin::sim
