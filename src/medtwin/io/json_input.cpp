#include "medtwin/io/json_input.h"

#include "medtwin/core/text.h"

namespace medtwin::io {

std::size_t JsonDepthExceededAt(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

Result<nlohmann::json> ParseUntrustedJson(std::string_view text, const std::string& field,
                                          int max_depth) {
  if (const auto at = JsonDepthExceededAt(text, max_depth); at != std::string_view::npos) {
    return InvalidArgument(field, "JSON nested deeper than " + std::to_string(max_depth) +
                                      " levels (at byte " + std::to_string(at) + ")");
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(field, "malformed JSON");
  return j;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> TextMember(const nlohmann::json& j, const char* key, bool required,
                               std::size_t max_bytes, bool check_text) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(key, "missing");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(key, "must be a string");
  std::string s = it->get<std::string>();
  if (!check_text) {
    if (s.size() > max_bytes) {
      return InvalidArgument(key, "longer than " + std::to_string(max_bytes) + " bytes");
    }
    return s;
  }
  MEDTWIN_RETURN_IF_ERROR(ValidateText(s, key, max_bytes));
  return s;
}

}  // namespace medtwin::io
