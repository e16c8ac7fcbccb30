// models/registry.h — finds built-in models by name. Models are created once and shared
// (they are stateless), so lookups are cheap and thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/model.h"

namespace medtwin::models {

// The model registered under `name`; kNotFound lists the known names.
[[nodiscard]] Result<const sim::Model*> FindModel(std::string_view name);
[[nodiscard]] std::vector<const sim::Model*> AllModels();

}  // namespace medtwin::models
