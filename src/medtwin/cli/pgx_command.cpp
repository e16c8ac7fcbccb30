#include "medtwin/cli/pgx_command.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "medtwin/io/nonmem_csv.h"
#include "medtwin/pgx/calls.h"
#include "medtwin/pgx/guidance.h"

namespace medtwin::cli {

Status RunPgxCall(const PgxCallArgs& args) {
  if (args.vcf.empty()) return InvalidArgument("--vcf", "give a VCF file (or - for stdin)");
  if (args.out_json.empty() && args.out_tsv.empty()) {
    return InvalidArgument("--out", "give --out CALLS.json and/or --tsv CALLS.tsv");
  }
  const pgx::PgxData* data = nullptr;
  pgx::PgxData own;
  if (args.data_dir.empty()) {
    MEDTWIN_TRY(data, pgx::PgxData::Default());
  } else {
    MEDTWIN_TRY(own, pgx::PgxData::Load(args.data_dir));
    data = &own;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<pgx::SampleCalls> calls;
  if (args.vcf == "-") {
    MEDTWIN_TRY(calls, pgx::CallVcf(std::cin, *data, "stdin"));
  } else {
    std::ifstream in(args.vcf);
    if (!in) return Error{ErrorCode::kIoError, "--vcf", "cannot open " + args.vcf};
    MEDTWIN_TRY(calls, pgx::CallVcf(in, *data, args.vcf));
  }
  if (!args.outside_calls.empty()) {
    std::ifstream in(args.outside_calls);
    if (!in)
      return Error{ErrorCode::kIoError, "--outside-calls", "cannot open " + args.outside_calls};
    MEDTWIN_TRY(auto outside, pgx::ReadOutsideCalls(in, *data, args.outside_calls));
    pgx::MergeOutsideCalls(calls, outside);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.out_json.empty()) {
    MEDTWIN_RETURN_IF_ERROR(
        io::WriteFileAtomically(args.out_json, pgx::CallsToJson(calls).dump(2) + "\n"));
  }
  if (!args.out_tsv.empty()) {
    MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_tsv, pgx::CallsToTsv(calls)));
  }
  std::size_t called = 0, total = 0;
  for (const auto& s : calls) {
    for (const auto& g : s.genes) {
      ++total;
      called += g.called ? 1 : 0;
    }
  }
  // Counts only: sample names can be identifiers.
  std::fprintf(stderr, "medtwin pgx call: %zu sample(s), %zu of %zu gene calls made, %.3f s\n",
               calls.size(), called, total, seconds);
  return Ok{};
}

Status RunPgxGuide(const PgxGuideArgs& args) {
  if (args.drug.empty()) return InvalidArgument("--drug", "name the drug");
  std::ifstream in(args.calls);
  if (!in) return Error{ErrorCode::kIoError, "--calls", "cannot open " + args.calls};
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("--calls", args.calls + " is not JSON");
  MEDTWIN_TRY(auto samples, pgx::CallsFromJson(j));
  MEDTWIN_TRY(const pgx::GuidanceTable* table, pgx::GuidanceTable::Default());
  nlohmann::json out = {{"drug", args.drug}, {"guidance", nlohmann::json::array()}};
  bool found = args.sample.empty();
  for (const auto& s : samples) {
    if (!args.sample.empty() && s.sample != args.sample) continue;
    found = true;
    MEDTWIN_TRY(pgx::DrugGuidance g, table->Guide(args.drug, s.genes));
    nlohmann::json entry = pgx::GuidanceToJson(g);
    entry["sample"] = s.sample;
    out["guidance"].push_back(std::move(entry));
  }
  if (!found)
    return NotFound("--sample", "no sample '" + args.sample.substr(0, 40) + "' in " + args.calls);
  const std::string text = out.dump(2) + "\n";
  if (args.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Ok{};
  }
  return io::WriteFileAtomically(args.out, text);
}

}  // namespace medtwin::cli
