// pgx/haplotype_names.h — how PharmCAT orders and composes allele names, so medtwin lists
// diplotypes in the order PharmCAT does: "Any", "All", "Reference" first, "Other", "Unknown"
// last, otherwise a natural order ("*2" before "*10"); combinations ("[*5 + *2A]") after single
// alleles, by size, with partial variants ("g.97573863C>T") after named ones.
// (PharmCAT util/HaplotypeNameComparator and pgkb-common's NaturalStringComparator.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace medtwin::pgx {

// <0, 0, >0 as a is ordered before, with, after b.
[[nodiscard]] int CompareHaplotypeNames(std::string_view a, std::string_view b);

// "[A + B]": alleles found together on one strand (PharmCAT's combination name).
[[nodiscard]] bool IsCombinationName(std::string_view name);
[[nodiscard]] std::vector<std::string> SplitCombinationName(std::string_view name);
inline constexpr std::string_view kCombinationJoiner = " + ";

// A variant named by position rather than by an allele ("g.97573863C>T", "g.97573863=").
[[nodiscard]] bool IsPartialName(std::string_view name);

}  // namespace medtwin::pgx
