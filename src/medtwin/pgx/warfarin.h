// pgx/warfarin.h — the genotype inputs of the IWPC warfarin algorithm from called genes:
// CYP2C9 as a diplotype of *1, *2 and *3 and VKORC1 -1639 as G/G, A/G or A/A. CYP2C9 alleles
// other than *1, *2, *3 enter by their CPIC activity value (1 → *1, 0.5 → *2, 0 → *3), as the
// CPIC guideline suggests for decreased and no-function alleles the algorithm never saw; an
// allele without an activity value, or a gene not called, makes that input unknown.
#pragma once

#include <string>
#include <vector>

#include "medtwin/pgx/definitions.h"
#include "medtwin/pgx/matcher.h"

namespace medtwin::pgx {

struct IwpcGenotypes {
  std::string cyp2c9;              // "*1/*3" … or "" (unknown)
  std::string vkorc1;              // "G/G", "A/G", "A/A" or "" (unknown)
  std::vector<std::string> notes;  // how each was derived, for the report
};

[[nodiscard]] IwpcGenotypes WarfarinGenotypes(const std::vector<GeneCall>& calls,
                                              const PgxData& data);

}  // namespace medtwin::pgx
