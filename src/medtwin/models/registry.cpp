#include "medtwin/models/registry.h"

#include <memory>
#include <string>

#include "medtwin/models/glucose.h"
#include "medtwin/models/oncology/myelosuppression.h"
#include "medtwin/models/pk.h"
#include "medtwin/models/warfarin.h"

namespace medtwin::models {
namespace {

const std::vector<std::unique_ptr<sim::Model>>& Registry() {
  static const auto* models = [] {
    auto* all = new std::vector<std::unique_ptr<sim::Model>>(MakePkModels());
    all->push_back(MakeUvaPadovaModel());
    all->push_back(MakeWarfarinHambergModel());
    all->push_back(MakeFribergAncCpModel());
    return all;
  }();
  return *models;
}

}  // namespace

Result<const sim::Model*> FindModel(std::string_view name) {
  std::string known;
  for (const auto& m : Registry()) {
    if (m->Info().name == name) return m.get();
    known += (known.empty() ? "" : ", ") + m->Info().name;
  }
  return NotFound("model", "unknown model '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<const sim::Model*> AllModels() {
  std::vector<const sim::Model*> out;
  for (const auto& m : Registry()) out.push_back(m.get());
  return out;
}

}  // namespace medtwin::models
