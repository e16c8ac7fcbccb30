// models/pk.h — the compartmental PK library: linear 1-, 2- and 3-compartment models with IV
// and first-order oral input (NONMEM ADVAN1/2/3/4/11/12 numbering of compartments), and a
// one-compartment IV model with Michaelis–Menten elimination. Amounts in mg, volumes in L,
// time in h; output CP = central amount / central volume (mg/L), plus amounts A1…An.
#pragma once

#include <memory>
#include <vector>

#include "medtwin/sim/model.h"

namespace medtwin::models {

// All built-in PK models, in the order `medtwin models` lists them.
std::vector<std::unique_ptr<sim::Model>> MakePkModels();

}  // namespace medtwin::models
