// libFuzzer: the VCF reader and the matcher over every gene, on arbitrary bytes. Invariants: a
// gene call has a diplotype exactly when it is called; an error names the file.
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
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto calls = medtwin::pgx::CallVcf(in, *pgx, "fuzz.vcf");
  if (!calls.ok()) {
    if (calls.error().field.rfind("fuzz.vcf", 0) != 0) __builtin_trap();
    return 0;
  }
  for (const auto& s : *calls) {
    for (const auto& g : s.genes) {
      if (g.called == g.diplotypes.empty()) __builtin_trap();
    }
  }
  return 0;
}
