#include "medtwin/core/text.h"

#include <charconv>
#include <cmath>

#include <algorithm>
#include <cstdio>

namespace medtwin {

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Status ValidateId(std::string_view id, const std::string& field) {
  if (IsValidId(id)) return Ok{};
  if (id.empty()) return InvalidArgument(field, "empty id");
  if (id.size() > kMaxIdLength) {
    return InvalidArgument(field, "id longer than " + std::to_string(kMaxIdLength) + " characters");
  }
  return InvalidArgument(field, "ids are 1-64 characters of A-Z a-z 0-9 - . _");
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    const unsigned c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
      return false;  // continuation byte first, C0/C1 overlong lead, or F5..FF
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    if (byte(i + 1) < lo || byte(i + 1) > hi) return false;
    for (std::size_t k = 2; k <= n; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return false;
    }
    i += n + 1;
  }
  return true;
}

bool HasControlCharacters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

Status ValidateText(std::string_view text, const std::string& field, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return InvalidArgument(field, "longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(text)) return InvalidArgument(field, "not valid UTF-8");
  if (HasControlCharacters(text)) {
    return InvalidArgument(field, "control characters (CR, LF, NUL, …) are not allowed");
  }
  return Ok{};
}

std::string Printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_bytes) {
      out += "…";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

namespace {
template <typename T>
std::optional<T> ParseWhole(std::string_view text) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<std::int64_t> ParseInt64(std::string_view text) {
  return ParseWhole<std::int64_t>(text);
}
std::optional<std::uint64_t> ParseUint64(std::string_view text) {
  return ParseWhole<std::uint64_t>(text);
}
std::optional<double> ParseDouble(std::string_view text) {
  auto v = ParseWhole<double>(text);
  if (v && !std::isfinite(*v)) return std::nullopt;
  return v;
}

std::optional<int> ParsePort(std::string_view text) {
  const auto v = ParseInt64(text);
  if (!v || *v < 0 || *v > 65535) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace medtwin
