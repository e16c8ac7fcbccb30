// medtwin's calls against PharmCAT's own test suite (v3.1.1, the release data/pgx comes from):
// every case PharmCAT's Java tests assert for the 11 genes medtwin calls from a VCF, extracted
// with its VCF by tests/pgx/pharmcat/extract_*_cases.py (see tests/pgx/pharmcat/README.md):
//  - matcher_cases.json: the per-gene NamedAlleleMatcher tests — the exact, ordered list of
//    diplotypes PharmCAT's matcher returns, in the mode the test runs it (all candidates or
//    top only, combinations or not);
//  - pipeline_cases.json: DpydTest (with the HapB3 table, phased and unphased) and
//    PipelineTest — per gene, what the matcher called (diplotypes, or DPYD's alleles without
//    phase), the diplotype the recommendation uses (DPYD's two lowest-function alleles),
//    "not called", outside calls as PharmCAT reads them.
// Every case must agree; the counts guard against the suite shrinking unnoticed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "medtwin/pgx/calls.h"

namespace {

using namespace medtwin::pgx;
using nlohmann::json;

const std::string kDir = std::string(MEDTWIN_SOURCE_DIR) + "/tests/pgx/pharmcat/";

json Load(const std::string& name) {
  std::ifstream in(kDir + name);
  EXPECT_TRUE(in.good()) << kDir + name;
  return json::parse(in, nullptr, false);
}

std::vector<std::string> Strings(const json& j) {
  std::vector<std::string> out;
  for (const auto& x : j) out.push_back(x.get<std::string>());
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + x;
  return s + "]";
}

std::vector<std::string> Names(const GeneCall& c) {
  std::vector<std::string> out;
  for (const auto& d : c.diplotypes) out.push_back(d.Name());
  return out;
}

// The two alleles in name order (the recommendation's allele order is not asserted by PharmCAT).
std::string Unordered(const std::string& diplotype) {
  const auto slash = diplotype.find('/');  // no DPYD allele name has one
  std::string a = diplotype.substr(0, slash);
  std::string b = slash == std::string::npos ? "" : diplotype.substr(slash + 1);
  if (b < a) std::swap(a, b);
  return a + "/" + b;
}

medtwin::Result<std::vector<SampleCalls>> CallCase(const json& c, const PgxData& data) {
  MatchOptions options;
  options.top_candidate_only = c["mode"].value("top_candidate_only", true);
  options.find_combinations = c["mode"].value("find_combinations", false);
  std::ifstream vcf(kDir + c["vcf"].get<std::string>());
  if (!vcf) return medtwin::NotFound("vcf", c["vcf"].get<std::string>());
  auto calls = CallVcf(vcf, data, c["vcf"].get<std::string>(), options);
  if (!calls.ok()) return calls;
  if (c["mode"].contains("outside_calls") && c["mode"]["outside_calls"].is_string()) {
    std::ifstream tsv(kDir + c["mode"]["outside_calls"].get<std::string>());
    auto outside = ReadOutsideCalls(tsv, data, "outside calls");
    if (!outside.ok()) return outside.error();
    MergeOutsideCalls(*calls, *outside);
  }
  return calls;
}

const GeneCall* Find(const SampleCalls& s, const std::string& gene) {
  for (const auto& g : s.genes) {
    if (g.gene == gene) return &g;
  }
  return nullptr;
}

// Definitions some of PharmCAT's matcher tests use instead of the shipped ones, loaded as a
// data directory of their own (alleles/<GENE>_translation.json).
const PgxData* TestDefinition(const std::string& file, const std::string& gene) {
  static std::map<std::string, std::unique_ptr<PgxData>> loaded;
  auto& slot = loaded[file];
  if (!slot) {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() /
        ("medtwin-pharmcat-" + std::to_string(::getpid()) + "-" + fs::path(file).stem().string());
    fs::create_directories(dir / "alleles");
    fs::copy_file(kDir + file, dir / "alleles" / (gene + "_translation.json"),
                  fs::copy_options::overwrite_existing);
    auto d = PgxData::Load(dir.string());
    fs::remove_all(dir);
    EXPECT_TRUE(d.ok()) << file << ": " << d.error().ToString();
    if (!d.ok()) return nullptr;
    slot = std::make_unique<PgxData>(std::move(*d));
  }
  return slot.get();
}

TEST(PharmCat, MatcherTestsAgreeCaseByCase) {
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  const json cases = Load("matcher_cases.json");
  ASSERT_FALSE(cases.is_discarded());
  int agree = 0, total = 0;
  for (const auto& c : cases["cases"]) {
    ++total;
    const std::string id = c["id"];
    const PgxData* definitions = *data;
    if (c.contains("definition")) definitions = TestDefinition(c["definition"], c["gene"]);
    ASSERT_NE(definitions, nullptr) << id;
    auto calls = CallCase(c, *definitions);
    ASSERT_TRUE(calls.ok()) << id << ": " << calls.error().ToString();
    const GeneCall* g = Find(calls->front(), c["gene"]);
    ASSERT_NE(g, nullptr) << id;
    // The diplotypes; for a lowest-function gene without phase, none but the alleles found.
    const auto want = Strings(c["expect"]);
    const auto got =
        g->called && !g->matcher_haplotypes ? MatcherCallNames(*g) : std::vector<std::string>{};
    EXPECT_EQ(got, want) << id << " (" << c["source"].get<std::string>() << "): PharmCAT "
                         << Join(want) << ", medtwin " << Join(got) << " " << g->reason;
    bool ok = got == want;
    if (c.contains("expect_haplotype_matches")) {
      std::vector<std::string> found;  // each allele, twice when on both copies
      if (g->matcher_haplotypes) {
        for (const auto& n : g->matcher_calls) {
          found.push_back(n);
          const auto& hom = g->matcher_homozygous;
          if (std::find(hom.begin(), hom.end(), n) != hom.end()) found.push_back(n);
        }
      }
      const auto want_found = Strings(c["expect_haplotype_matches"]);
      EXPECT_EQ(found, want_found) << id << ": PharmCAT's haplotype matches " << Join(want_found)
                                   << ", medtwin " << Join(found);
      ok = ok && found == want_found;
    }
    agree += ok ? 1 : 0;
  }
  std::printf("PharmCAT %s matcher tests: %d of %d cases agree (%zu out of scope)\n",
              cases["pharmcat_ref"].get<std::string>().c_str(), agree, total,
              cases["out_of_scope"].size());
  EXPECT_GE(total, 97);
}

TEST(PharmCat, DpydAndPipelineTestsAgreeCaseByCase) {
  auto data = PgxData::Default();
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  const json cases = Load("pipeline_cases.json");
  ASSERT_FALSE(cases.is_discarded());
  int agree = 0, checks = 0, total = 0;
  for (const auto& c : cases["cases"]) {
    ++total;
    const std::string id = c["id"];
    auto calls = CallCase(c, **data);
    ASSERT_TRUE(calls.ok()) << id << ": " << calls.error().ToString();
    for (const auto& [gene, e] : c["genes"].items()) {
      const GeneCall* g = Find(calls->front(), gene);
      if (g == nullptr) continue;  // a gene medtwin takes only as an outside call
      ++checks;
      const std::string where = id + " " + gene;
      const auto print =
          e.contains("print_calls") ? Strings(e["print_calls"]) : std::vector<std::string>{};
      const auto source =
          e.contains("source_calls") ? Strings(e["source_calls"]) : std::vector<std::string>{};
      const auto recommended =
          e.contains("recommended") ? Strings(e["recommended"]) : std::vector<std::string>{};
      bool ok = true;
      if (print == std::vector<std::string>{"Not called"}) {
        ok = !g->called;
      } else if (source == std::vector<std::string>{"Unknown/Unknown"} && !recommended.empty() &&
                 recommended.front() != "Unknown/Unknown") {
        // Not called by the matcher, inferred by the reporter (SLCO1B1 from rs4149056).
        ok = g->called && !g->inferred_from.empty() && Names(*g) == recommended &&
             g->matcher_calls == print;
      } else if (!e.value("called", true)) {
        // Not called by the matcher: no call, or the outside call PharmCAT prints.
        ok = !g->called || (g->source == "outside call" && (print.empty() || Names(*g) == print));
      } else {
        ok = g->called;
        if (ok && !source.empty()) ok = MatcherCallNames(*g) == source;
        if (ok && gene == "DPYD" && !recommended.empty()) {
          ok = g->diplotypes.size() == 1 &&
               Unordered(g->diplotypes[0].Name()) == Unordered(recommended.front());
        }
      }
      EXPECT_TRUE(ok) << where << " (" << c["source"].get<std::string>() << "): PharmCAT source "
                      << Join(source) << " recommended " << Join(recommended) << " printed "
                      << Join(print) << "; medtwin " << (g->called ? "" : "not called ")
                      << Join(MatcherCallNames(*g)) << " → " << Join(Names(*g)) << " " << g->reason;
      agree += ok ? 1 : 0;
    }
  }
  std::printf("PharmCAT %s DpydTest/PipelineTest: %d of %d gene checks agree in %d cases\n",
              cases["pharmcat_ref"].get<std::string>().c_str(), agree, checks, total);
  EXPECT_GE(total, 332);
  EXPECT_GE(checks, 340);
}

}  // namespace
