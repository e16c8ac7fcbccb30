#include "medtwin/pgx/haplotype_names.h"

#include <algorithm>
#include <array>
#include <variant>

namespace medtwin::pgx {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Runs of digits (as numbers) and of non-digits (as text).
using Part = std::variant<long long, std::string_view>;

std::vector<Part> Parts(std::string_view s) {
  std::vector<Part> parts;
  std::size_t start = 0;
  while (start < s.size()) {
    const bool digits = IsDigit(s[start]);
    std::size_t end = start;
    while (end < s.size() && IsDigit(s[end]) == digits) ++end;
    const std::string_view run = s.substr(start, end - start);
    if (digits) {
      long long v = 0;
      for (char c : run) v = std::min(v * 10 + (c - '0'), 1'000'000'000'000'000LL);
      parts.emplace_back(v);
    } else {
      parts.emplace_back(run);
    }
    start = end;
  }
  return parts;
}

int Sign(auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); }

int CompareNatural(std::string_view a, std::string_view b) {
  const auto pa = Parts(a);
  const auto pb = Parts(b);
  for (std::size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    int c = 0;
    if (pa[i].index() == pb[i].index()) {
      c = pa[i].index() == 0 ? Sign(std::get<0>(pa[i]), std::get<0>(pb[i]))
                             : Sign(std::get<1>(pa[i]).compare(std::get<1>(pb[i])), 0);
    } else {
      c = pa[i].index() == 1 ? 1 : -1;  // text after a number
    }
    if (c != 0) return c;
  }
  return Sign(pa.size(), pb.size());
}

bool Among(std::string_view s, std::initializer_list<std::string_view> terms) {
  return std::find(terms.begin(), terms.end(), s) != terms.end();
}

int CompareSimpleNames(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (Among(a, {"Any", "All", "Reference"}) || Among(b, {"Other", "Unknown"})) return -1;
  if (Among(b, {"Any", "All", "Reference"}) || Among(a, {"Other", "Unknown"})) return 1;
  return CompareNatural(a, b);
}

}  // namespace

bool IsCombinationName(std::string_view name) {
  return name.starts_with("[") && name.ends_with("]") &&
         name.find(kCombinationJoiner) != std::string_view::npos;
}

std::vector<std::string> SplitCombinationName(std::string_view name) {
  std::vector<std::string> out;
  std::string_view inner = name.substr(1, name.size() - 2);
  for (;;) {
    const std::size_t at = inner.find(kCombinationJoiner);
    out.emplace_back(inner.substr(0, at));
    if (at == std::string_view::npos) break;
    inner.remove_prefix(at + kCombinationJoiner.size());
  }
  return out;
}

bool IsPartialName(std::string_view name) {
  // ^g\.\d+[?=]?[ACGT>\d]+$
  if (!name.starts_with("g.")) return false;
  std::size_t i = 2;
  const std::size_t digits_from = i;
  while (i < name.size() && IsDigit(name[i])) ++i;
  if (i == digits_from) return false;
  // Digits alone also match (the regex gives the last digit to the second class).
  if (i == name.size()) return i - digits_from >= 2;
  if (name[i] == '?' || name[i] == '=') ++i;
  const std::size_t rest_from = i;
  for (; i < name.size(); ++i) {
    const char c = name[i];
    if (!(c == 'A' || c == 'C' || c == 'G' || c == 'T' || c == '>' || IsDigit(c))) return false;
  }
  return i > rest_from;
}

int CompareHaplotypeNames(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  const bool ca = IsCombinationName(a);
  const bool cb = IsCombinationName(b);
  if (ca != cb) return ca ? 1 : -1;
  if (!ca) return CompareSimpleNames(a, b);
  const auto ha = SplitCombinationName(a);
  const auto hb = SplitCombinationName(b);
  if (ha.size() != hb.size()) return ha.size() < hb.size() ? -1 : 1;
  for (std::size_t i = 0; i < ha.size(); ++i) {
    const bool pa = IsPartialName(ha[i]);
    const bool pb = IsPartialName(hb[i]);
    if (pa != pb) return pa ? 1 : -1;
    if (const int c = CompareSimpleNames(ha[i], hb[i]); c != 0) return c;
  }
  return 0;
}

}  // namespace medtwin::pgx
