#include "medtwin/pgx/vcf.h"

#include <cctype>
#include <charconv>
#include <string_view>

namespace medtwin::pgx {
namespace {

constexpr std::size_t kMaxWarnings = 50;
// More alts than any pharmacogene position has; also keeps GT indices small.
constexpr std::size_t kMaxAlts = 255;

// Splits `s` on `sep` into `out` (views into s).
void Split(std::string_view s, char sep, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return;
    start = at + 1;
  }
}

bool IsBases(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c != 'A' && c != 'C' && c != 'G' && c != 'T' && c != 'N' && c != 'a' && c != 'c' &&
        c != 'g' && c != 't' && c != 'n') {
      return false;
    }
  }
  return true;
}

// The genome build a header line states, if it states one.
std::string StatedBuild(std::string_view line) {
  for (const char* b : {"GRCh37", "hg19", "b37", "hs37"}) {
    if (line.find(b) != std::string_view::npos) return std::string("GRCh37 (") + b + ")";
  }
  for (const char* b : {"NCBI36", "hg18"}) {
    if (line.find(b) != std::string_view::npos) return std::string("NCBI36 (") + b + ")";
  }
  return "";
}

}  // namespace

Result<VcfData> ReadVcf(std::istream& in, const std::set<Position>& wanted,
                        const std::map<Position, std::string>& expected_ref,
                        const std::string& name) {
  VcfData out;
  std::string line;
  std::size_t n = 0;
  bool header_seen = false;
  bool use_ad = true;
  bool warned_polyploid = false;
  std::size_t aside = 0;  // warnings beyond kMaxWarnings, counted
  auto warn = [&](std::string w) {
    if (out.warnings.size() < kMaxWarnings) {
      out.warnings.push_back(std::move(w));
    } else {
      ++aside;
    }
  };
  std::vector<std::string_view> cols, alts, gt;
  auto fail = [&](const std::string& field, const std::string& why) {
    return InvalidArgument(name + ":" + std::to_string(n) + ": " + field, why);
  };
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.starts_with("##")) {
      if (line.starts_with("##reference") || line.starts_with("##contig") ||
          line.starts_with("##assembly")) {
        if (const std::string b = StatedBuild(line); !b.empty()) {
          return fail("header",
                      "the file is on " + b + "; medtwin's allele definitions are GRCh38");
        }
      }
      if (line.starts_with("##fileformat") && line.find("VCFv4") == std::string::npos) {
        return fail("fileformat", "expected VCFv4.x");
      }
      // PharmCAT reads AD only when declared one value per allele (Number=R).
      if (line.starts_with("##FORMAT=<ID=AD,") && line.find("Number=R") == std::string::npos) {
        use_ad = false;
      }
      continue;
    }
    if (line.starts_with("#CHROM")) {
      // A second header would change the sample columns under the records already read.
      if (header_seen) return fail("header", "a second #CHROM header line");
      Split(line, '\t', cols);
      if (cols.size() < 8 || cols[1] != "POS" || cols[3] != "REF" || cols[4] != "ALT") {
        return fail("header",
                    "the #CHROM line needs tab-separated CHROM POS ID REF ALT QUAL "
                    "FILTER INFO [FORMAT samples…]");
      }
      if (cols.size() == 9) return fail("header", "FORMAT without sample columns");
      for (std::size_t i = 9; i < cols.size(); ++i) out.samples.emplace_back(cols[i]);
      if (out.samples.empty()) return fail("header", "no sample columns: nothing to call");
      header_seen = true;
      continue;
    }
    if (!header_seen) return fail("header", "data before the #CHROM header line");
    if (line[0] == '#') continue;  // a comment among the records (PharmCAT's test files have them)
    // Chromosome and position first: most lines of a large file are not wanted.
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos) return fail("line", "fewer than 8 tab-separated columns");
    std::string chrom = line.substr(0, tab1);
    if (!chrom.starts_with("chr")) chrom = "chr" + chrom;
    long long pos = 0;
    {
      const char* b = line.data() + tab1 + 1;
      const char* e = line.data() + tab2;
      auto [p, ec] = std::from_chars(b, e, pos);
      if (ec != std::errc() || p != e || pos < 1) return fail("POS", "not a positive integer");
    }
    const Position key{chrom, pos};
    if (!wanted.contains(key)) continue;
    Split(line, '\t', cols);
    if (cols.size() < 8) return fail("line", "fewer than 8 tab-separated columns");
    if (cols.size() != 9 + out.samples.size()) {
      return fail("line", std::to_string(cols.size()) + " columns; the header has " +
                              std::to_string(9 + out.samples.size()));
    }
    VcfRecord rec;
    rec.line = n;
    rec.ref = std::string(cols[3]);
    if (!IsBases(rec.ref)) return fail("REF", "'" + rec.ref.substr(0, 20) + "' is not bases");
    for (char& c : rec.ref) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string where = chrom + ":" + std::to_string(pos);
    bool usable = true;
    if (auto it = expected_ref.find(key); it != expected_ref.end()) {
      // Indels may be represented from a neighbouring base; compare what overlaps.
      const std::string& want = it->second;
      const std::size_t k = std::min(want.size(), rec.ref.size());
      if (rec.ref.compare(0, k, want, 0, k) != 0) {
        return fail("REF", where + " has REF " + rec.ref.substr(0, 20) + "; GRCh38 has " + want +
                               " (is the file on GRCh38?)");
      }
      if (rec.ref != want) {
        // Same bases, another representation: PharmCAT discards the record.
        usable = false;
        warn(where + " (line " + std::to_string(n) + "): REF " + rec.ref.substr(0, 20) +
             " is not the definition's " + want + "; record ignored");
      }
    }
    if (cols[4] != ".") {
      Split(cols[4], ',', alts);
      for (auto a : alts) {
        if (!IsBases(a) && a != "*" && !(a.starts_with("<") && a.ends_with(">"))) {
          return fail("ALT", "'" + std::string(a.substr(0, 20)) + "' is not an allele");
        }
        rec.alts.emplace_back(a);
      }
      if (rec.alts.size() > kMaxAlts) {
        return fail("ALT", std::to_string(rec.alts.size()) + " alleles; at most " +
                               std::to_string(kMaxAlts));
      }
    }
    Split(cols[8], ':', gt);
    if (gt.empty() || gt[0] != "GT") return fail("FORMAT", "GT must be the first FORMAT field");
    std::size_t ps_field = 0, ad_field = 0;  // indices in FORMAT; 0 = none
    for (std::size_t f = 1; f < gt.size(); ++f) {
      if (gt[f] == "PS") ps_field = f;
      if (gt[f] == "AD" && use_ad) ad_field = f;
    }
    const int n_alleles = 1 + static_cast<int>(rec.alts.size());
    for (std::size_t s = 0; s < out.samples.size(); ++s) {
      std::string_view call = cols[9 + s];
      int phase_set = kNoPhaseSet;
      std::vector<std::string_view> fields;
      if (ps_field != 0 || ad_field != 0) Split(call, ':', fields);
      if (ps_field != 0) {
        if (ps_field < fields.size() && fields[ps_field] != "." && !fields[ps_field].empty()) {
          const std::string_view ps = fields[ps_field];
          int v = 0;
          auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
          if (ec != std::errc() || p != ps.data() + ps.size() || v < 0) {
            return fail("PS", "sample " + out.samples[s] + ": '" + std::string(ps.substr(0, 20)) +
                                  "' is not a phase set (a non-negative integer)");
          }
          phase_set = v;
        }
      }
      call = call.substr(0, call.find(':'));
      std::int16_t a[2] = {-1, -2};
      bool phased = false;
      int k = 0;
      std::size_t i = 0;
      while (i <= call.size()) {
        const std::size_t sep = call.find_first_of("/|", i);
        std::string_view part =
            call.substr(i, sep == std::string_view::npos ? std::string_view::npos : sep - i);
        if (k >= 2) {
          // PharmCAT uses the first two and warns.
          if (!warned_polyploid) {
            warn(where + " (line " + std::to_string(n) + "): more than two alleles in a GT; " +
                 "the first two are used");
            warned_polyploid = true;
          }
          if (sep == std::string_view::npos) break;
          i = sep + 1;
          continue;
        }
        if (part == ".") {
          a[k] = -1;
        } else {
          int v = 0;
          auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
          if (ec != std::errc() || p != part.data() + part.size() || v < 0 || v >= n_alleles) {
            return fail("GT", "sample " + out.samples[s] + ": '" + std::string(call) +
                                  "' does not fit REF + " + std::to_string(rec.alts.size()) +
                                  " ALT");
          }
          a[k] = static_cast<std::int16_t>(v);
        }
        ++k;
        if (sep == std::string_view::npos) break;
        if (k == 1) phased = call[sep] == '|';
        i = sep + 1;
      }
      if (call.empty()) return fail("GT", "sample " + out.samples[s] + ": empty");
      // A heterozygous GT whose reads (AD) are all on one allele: PharmCAT discards the call
      // (GATK's reference-overlap style; PharmCAT issue 90).
      if (ad_field != 0 && ad_field < fields.size() && k >= 2 && a[0] >= 0 && a[1] >= 0 &&
          a[0] != a[1] && fields[ad_field] != ".") {
        std::vector<std::string_view> depths;
        Split(fields[ad_field], ',', depths);
        int positive = 0;
        bool numbers = true;
        for (auto d : depths) {
          if (d == ".") continue;
          long v = 0;
          auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
          if (ec != std::errc() || p != d.data() + d.size()) numbers = false;
          if (v > 0) ++positive;
        }
        if (numbers && positive == 1) {
          warn(where + " (line " + std::to_string(n) + "): a heterozygous GT with reads on one " +
               "allele only (AD); that call is ignored");
          a[0] = -1;
          a[1] = -1;
        }
      }
      rec.allele1.push_back(a[0]);
      rec.allele2.push_back(k == 1 ? std::int16_t{-2} : a[1]);
      rec.phased.push_back(phased);
      // A one-allele GT has no '/': as PharmCAT, it keeps its phase set.
      rec.phase_set.push_back(phased || k == 1 ? phase_set : kNoPhaseSet);
    }
    if (!usable) continue;
    if (auto it = out.records.find(key); it != out.records.end()) {
      // The first usable call wins (PharmCAT, per sample): a sample with no call in the
      // earlier record takes this one's when the alleles are written the same way.
      VcfRecord& first = it->second;
      std::size_t taken = 0;
      if (first.ref == rec.ref && first.alts == rec.alts) {
        for (std::size_t s = 0; s < out.samples.size(); ++s) {
          const bool no_call = first.allele1[s] < 0 && first.allele2[s] < 0;
          const bool ref_half = (first.allele1[s] == 0 && first.allele2[s] == -1) ||
                                (first.allele1[s] == -1 && first.allele2[s] == 0);
          if ((no_call || ref_half) && (rec.allele1[s] >= 0 || rec.allele2[s] >= 0)) {
            first.allele1[s] = rec.allele1[s];
            first.allele2[s] = rec.allele2[s];
            first.phased[s] = rec.phased[s];
            first.phase_set[s] = rec.phase_set[s];
            ++taken;
          }
        }
      }
      warn(where + " (line " + std::to_string(n) + ") repeats line " + std::to_string(first.line) +
           (taken > 0 ? "; used only where the first has no call"
                      : "; the first is used (merge multi-allelic records into one)"));
      continue;
    }
    out.records.emplace(key, std::move(rec));
  }
  if (!header_seen) return InvalidArgument(name, "no #CHROM header line: not a VCF");
  if (aside > 0) out.warnings.push_back("… and " + std::to_string(aside) + " more");
  return out;
}

}  // namespace medtwin::pgx
