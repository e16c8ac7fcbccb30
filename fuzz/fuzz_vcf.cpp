// libFuzzer: the VCF reader and the matcher over every gene, on arbitrary bytes, in PharmCAT's
// default mode and in its all-results + combinations mode. Invariants: a gene call has a
// diplotype exactly when it is called (or an outside-style translation); an error names the file.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "medtwin/pgx/calls.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto* pgx = [] {
    auto d = medtwin::pgx::PgxData::Default();
    if (!d.ok()) __builtin_trap();
    return *d;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const bool research : {false, true}) {
    medtwin::pgx::MatchOptions options;
    options.top_candidate_only = !research;
    options.find_combinations = research;
    std::istringstream in(text);
    auto calls = medtwin::pgx::CallVcf(in, *pgx, "fuzz.vcf", options);
    if (!calls.ok()) {
      if (calls.error().field.rfind("fuzz.vcf", 0) != 0) __builtin_trap();
      return 0;
    }
    for (const auto& s : *calls) {
      for (const auto& g : s.genes) {
        if (g.called == g.diplotypes.empty()) __builtin_trap();
        if (!g.called && !g.matcher_calls.empty()) __builtin_trap();
      }
    }
  }
  return 0;
}
