// models/warfarin.h — S-warfarin pharmacokinetics and the INR response (Hamberg AK, Dahl ML,
// Barban M, et al. A PK-PD model for predicting the impact of age, CYP2C9, and VKORC1 genotype
// on individualization of warfarin therapy. Clin Pharmacol Ther 2007;81:529-538):
//
//   PK  two compartments with first-order absorption of the S-enantiomer (half of each racemic
//       dose: the dose compartment's input scale is 0.5), apparent oral parameters CL, V1, Q,
//       V2, KA (Table 2). CYP2C9 genotype and age act on CL through the population model.
//   PD  S-warfarin inhibits clotting-factor synthesis, E = C^γ / (EC50^γ + C^γ) (Emax 1); the
//       activity (1 − E) passes through two parallel transit chains, six compartments with mean
//       transit time MTT1 (each 6/MTT1) and one with MTT2, and
//       INR = BASE + INRmax · (1 − A6 · A7)^λ  (Table 4; VKORC1 genotype acts on EC50).
//
// Time in h, doses in mg of racemic warfarin, concentration in mg/L. Outputs: INR (first: the
// observed quantity) and CS (S-warfarin, mg/L).
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include "medtwin/sim/model.h"

namespace medtwin::models {

[[nodiscard]] std::unique_ptr<sim::Model> MakeWarfarinHambergModel();

// Hamberg 2007's typical values, for tests and the twin's defaults.
namespace hamberg {
// Apparent oral clearance of S-warfarin for CYP2C9 *1/*1 at 71 years (L/h), and the fraction
// of it kept by each genotype (1 − the published decrease: *1/*2 31.5 %, *1/*3 45.3 %,
// *2/*2 72.2 %, *2/*3 69.0 %, *3/*3 85.2 %).
inline constexpr double kClS11 = 0.314;
inline constexpr double kClAgePerYear = 0.0091;  // −0.91 % per year around 71 years
// EC50 (mg/L) by VKORC1 -1639: G/G, G/A, A/A.
inline constexpr double kEc50[3] = {4.61, 3.02, 2.20};
// The CYP2C9 diplotypes the model knows, in the order of the population model's CYP2C9
// covariate code (0-5), and the fraction of CL each keeps.
inline constexpr std::array<std::string_view, 6> kCyp2c9Diplotypes = {"*1/*1", "*1/*2", "*1/*3",
                                                                      "*2/*2", "*2/*3", "*3/*3"};
inline constexpr std::array<double, 6> kCyp2c9ClKept = {1.0,       1 - 0.315, 1 - 0.453,
                                                        1 - 0.722, 1 - 0.690, 1 - 0.852};
// The CYP2C9 covariate code of `diplotype`, or -1 for a diplotype the model does not know.
[[nodiscard]] int Cyp2c9Code(std::string_view diplotype);
// The fraction of CL kept, by CYP2C9 diplotype: "*1/*1", "*1/*2", … ; 0 for others.
[[nodiscard]] double Cyp2c9ClFactor(std::string_view diplotype);
}  // namespace hamberg

}  // namespace medtwin::models
