// models/oncology/myelosuppression.h — the semi-mechanistic model of chemotherapy-induced
// myelosuppression (Friberg LE, Henningsson A, Maas H, Nguyen L, Karlsson MO. J Clin Oncol
// 2002;20:4713-4721): a proliferating pool, three transit compartments and circulating
// neutrophils, with feedback (Circ0/Circ)^γ on proliferation and a linear drug effect
// E = SLOPE·C that inhibits it:
//
//   dProl/dt = ktr·Prol·(1 − E)·(CIRC0/Circ)^γ − ktr·Prol      ktr = 4 / MTT
//   dT1/dt = ktr·(Prol − T1), dT2/dt = ktr·(T1 − T2), dT3/dt = ktr·(T2 − T3)
//   dCirc/dt = ktr·(T3 − Circ)                                 every state starts at CIRC0
//
// `friberg_anc_cp` takes the drug concentration C from the data (parameter CP, mg/L, set by
// records; by NONMEM's rule the value on a record governs the interval that ends there), as
// DDMoRe's DDMODEL00000224 (Netterberg 2017, coding Kloft 2006's docetaxel model) does.
// Defaults are that model's typical values (THETA 1-4; SLOPE converted from L/µmol with
// docetaxel's 808 g/mol). Time in h; ANC in 10⁹/L. Outputs: ANC and LNANC (its logarithm,
// on which that model's residual error is additive).
#pragma once

#include <memory>

#include "medtwin/sim/model.h"

namespace medtwin::models {

[[nodiscard]] std::unique_ptr<sim::Model> MakeFribergAncCpModel();

namespace kloft2006 {
// DDMODEL00000224's typical values (Kloft et al. 2006 as coded by Netterberg et al. 2017).
inline constexpr double kCirc0 = 5.21965;            // 10⁹/L, THETA(1)
inline constexpr double kMtt_h = 84.1791;            // THETA(2)
inline constexpr double kSlope_per_uM = 15.5711;     // L/µmol, THETA(3)
inline constexpr double kGamma = 0.144543;           // THETA(4)
inline constexpr double kMolarMass_g_per_mol = 808;  // docetaxel
}  // namespace kloft2006

}  // namespace medtwin::models
