// pgx/vcf.h — reading genotypes from a VCF (4.x; single or multi-sample; GT with '/' or '|';
// GRCh38; FORMAT/PS phase sets) at the positions the allele definitions use. Lines elsewhere are
// skipped after a light check, so a whole-genome VCF works. Bad input is an error naming the line
// and field: a malformed line, no GT, a GT that does not fit the alleles, a file on another genome
// build (stated in the header, or given away by a REF that is not GRCh38's).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::pgx {

using Position = std::pair<std::string, long long>;  // ("chr10", 94761900)

// No phase set (FORMAT/PS absent or '.').
inline constexpr int kNoPhaseSet = -1;

// One VCF record at a wanted position: its alleles and every sample's genotype (allele
// indices; -1 missing — a half call such as "./1" keeps its called allele).
struct VcfRecord {
  std::string ref;
  std::vector<std::string> alts;
  std::vector<std::int16_t> allele1, allele2;  // per sample; a haploid call has allele2 == -2
  std::vector<bool> phased;                    // per sample
  std::vector<int> phase_set;                  // per sample: FORMAT/PS, or kNoPhaseSet
  std::size_t line = 0;
  // The allele string of index `i` (0 = REF).
  [[nodiscard]] const std::string& Allele(int i) const {
    return i == 0 ? ref : alts[static_cast<std::size_t>(i - 1)];
  }
};

struct VcfData {
  std::vector<std::string> samples;
  std::map<Position, VcfRecord> records;  // only the wanted positions
  // Records set aside, as PharmCAT sets them aside: a REF written differently from the
  // definition's (the position counts as missing), a position repeated after a usable record
  // (the first usable one wins).
  std::vector<std::string> warnings;
};

// `wanted`: positions to keep (chromosomes as "chrN"; "N" in the file is read as "chrN").
// `expected_ref`: GRCh38's reference allele at wanted positions, to catch a wrong build.
[[nodiscard]] Result<VcfData> ReadVcf(std::istream& in, const std::set<Position>& wanted,
                                      const std::map<Position, std::string>& expected_ref,
                                      const std::string& name = "VCF");

}  // namespace medtwin::pgx
