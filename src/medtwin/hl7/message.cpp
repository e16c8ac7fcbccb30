#include "medtwin/hl7/message.h"

#include <cctype>
#include <cstdio>
#include <optional>

#include "medtwin/core/text.h"

namespace medtwin::hl7 {
namespace {

// Bounds that keep a hostile message from costing more than its bytes (a frame is bounded by
// the listener): no legitimate ORU or ADT comes near them.
constexpr std::size_t kMaxSegments = 10000;
constexpr std::size_t kMaxFields = 1000;  // per segment
constexpr std::size_t kMaxFieldsInMessage = 100000;

// Segments of `text` as views, split on CR, LF or CRLF; empty lines skipped.
std::vector<std::string_view> SplitSegments(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\r' || text[i] == '\n') {
      if (i > start) out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool ValidSegmentId(std::string_view id) {
  if (id.size() != 3 || std::isupper(static_cast<unsigned char>(id[0])) == 0) return false;
  for (char c : id.substr(1)) {
    if (std::isupper(static_cast<unsigned char>(c)) == 0 &&
        std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

// The `index`th (0-based) piece of `text` split on `sep`; "" past the end.
std::string_view Piece(std::string_view text, char sep, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    std::size_t next = text.find(sep, start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  std::size_t end = text.find(sep, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ISO 8859-1 (MSH-18 "8859/1", which some monitors still send) as UTF-8.
std::string Latin1ToUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

}  // namespace

std::string_view Segment::Raw(int n) const {
  if (n < 1 || n >= static_cast<int>(fields_.size())) return {};
  return fields_[static_cast<std::size_t>(n)];
}

int Segment::Repetitions(int n) const {
  std::string_view raw = Raw(n);
  if (raw.empty()) return 0;
  if (id() == "MSH" && n <= 2) return 1;
  int count = 1;
  for (char c : raw) count += c == delimiters_->repetition ? 1 : 0;
  return count;
}

std::string Segment::Get(int n, int component, int subcomponent, int repetition) const {
  std::string_view raw = Raw(n);
  if (id() == "MSH" && n <= 2) return std::string(raw);  // the delimiters themselves
  if (component < 1 || subcomponent < 1 || repetition < 0) return {};
  std::string_view rep = Piece(raw, delimiters_->repetition, repetition);
  std::string_view comp = Piece(rep, delimiters_->component, component - 1);
  std::string_view sub = Piece(comp, delimiters_->subcomponent, subcomponent - 1);
  return Unescape(sub, *delimiters_);
}

Message::Message(Message&& other) noexcept = default;
Message& Message::operator=(Message&& other) noexcept = default;

Result<Message> Message::Parse(std::string_view input) {
  std::vector<std::string_view> lines = SplitSegments(input);
  if (lines.empty()) return InvalidArgument("message", "empty");
  std::string_view first = lines.front();
  if (first.substr(0, 3) != "MSH") {
    return InvalidArgument(
        "segment 1", "a message starts with MSH, not '" + Printable(first.substr(0, 3)) + "'");
  }
  if (first.size() < 8) return InvalidArgument("MSH-2", "the encoding characters are missing");
  auto d = std::make_unique<Delimiters>();
  d->field = first[3];
  std::string_view encoding = first.substr(4, first.find(d->field, 4) - 4);
  if (encoding.size() < 4 || encoding.size() > 5) {
    return InvalidArgument("MSH-2", "the encoding characters must be 4 (^~\\&) or 5 long");
  }
  d->component = encoding[0];
  d->repetition = encoding[1];
  d->escape = encoding[2];
  d->subcomponent = encoding[3];
  const std::string delimiters{d->field, d->component, d->repetition, d->escape, d->subcomponent};
  for (std::size_t i = 0; i < delimiters.size(); ++i) {
    auto c = static_cast<unsigned char>(delimiters[i]);
    if (std::isalnum(c) != 0 || std::iscntrl(c) != 0 || c == ' ' || c >= 0x80 ||
        delimiters.find(delimiters[i], i + 1) != std::string::npos) {
      return InvalidArgument(i == 0 ? "MSH-1" : "MSH-2",
                             "delimiters must be distinct printable punctuation");
    }
  }
  if (lines.size() > kMaxSegments) {
    return InvalidArgument("message", "more than " + std::to_string(kMaxSegments) + " segments");
  }

  // MSH-18 "8859/1": re-read the whole message as UTF-8 first.
  std::string transcoded;
  {
    std::string_view msh18 = Piece(first, d->field, 17);
    if (msh18 == "8859/1") {
      transcoded = Latin1ToUtf8(input);
      lines = SplitSegments(transcoded);
    } else if (!IsValidUtf8(input)) {
      return InvalidArgument("MSH-18", "the message is not UTF-8 or ASCII (character set '" +
                                           Printable(msh18) + "' is not supported)");
    }
  }

  Message m;
  m.segments_.reserve(lines.size());
  std::size_t fields_in_message = 0;
  for (std::size_t s = 0; s < lines.size(); ++s) {
    std::string_view line = lines[s];
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      std::size_t end = line.find(d->field, start);
      fields.emplace_back(line.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
      if (++fields_in_message > kMaxFieldsInMessage) {
        return InvalidArgument("message",
                               "more than " + std::to_string(kMaxFieldsInMessage) + " fields");
      }
      if (fields.size() > kMaxFields) {
        return InvalidArgument("segment " + std::to_string(s + 1),
                               "more than " + std::to_string(kMaxFields) + " fields");
      }
    }
    if (!ValidSegmentId(fields.front())) {
      return InvalidArgument(
          "segment " + std::to_string(s + 1),
          "'" + Printable(fields.front(), 8) + "' is not a segment id (three capitals or digits)");
    }
    if (s == 0) {
      fields.insert(fields.begin() + 1, std::string(1, d->field));  // MSH-1
    } else if (fields.front() == "MSH") {
      return InvalidArgument("segment " + std::to_string(s + 1),
                             "a second MSH: send several messages as a batch (BHS … BTS)");
    }
    m.segments_.emplace_back(std::move(fields), d.get());
  }
  m.delimiters_ = std::move(d);
  if (m.type().empty()) return InvalidArgument("MSH-9", "the message type is required");
  if (m.control_id().empty())
    return InvalidArgument("MSH-10", "the message control id is required");
  return m;
}

const Segment* Message::Find(std::string_view id) const {
  for (const Segment& s : segments_) {
    if (s.id() == id) return &s;
  }
  return nullptr;
}

Result<std::vector<std::string_view>> SplitBatch(std::string_view text,
                                                 std::string_view* batch_control_id) {
  if (batch_control_id != nullptr) *batch_control_id = {};
  // Segment views with their offsets into `text`, so a message is one contiguous view.
  std::vector<std::string_view> lines = SplitSegments(text);
  if (lines.empty()) return InvalidArgument("message", "empty");
  std::string_view head = lines.front().substr(0, 3);
  if (head != "FHS" && head != "BHS") return std::vector<std::string_view>{text};
  std::vector<std::string_view> messages;
  const char* begin = nullptr;
  const char* end = nullptr;
  std::optional<std::int64_t> declared;
  auto close = [&] {
    if (begin != nullptr) messages.emplace_back(begin, static_cast<std::size_t>(end - begin));
    begin = nullptr;
  };
  for (std::string_view line : lines) {
    std::string_view id = line.substr(0, 3);
    if (id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS") {
      close();
      // (After "BHS|": piece 0 is BHS-2, so BHS-10 is piece 8.)
      if (id == "BHS" && line.size() > 4 && batch_control_id != nullptr) {
        *batch_control_id = Piece(line.substr(4), line[3], 8);
      }
      if (id == "BTS" && line.size() > 4) {
        std::string_view count = Piece(line.substr(4), line[3], 0);
        if (!count.empty()) declared = ParseInt64(count);
        if (!count.empty() && !declared) {
          return InvalidArgument("BTS-1", "the batch message count is not a number");
        }
      }
      continue;
    }
    if (id == "MSH") close();
    if (begin == nullptr) {
      if (id != "MSH") {
        return InvalidArgument("batch", "segment '" + Printable(id, 8) + "' before any MSH");
      }
      begin = line.data();
    }
    end = line.data() + line.size();
  }
  close();
  if (declared && *declared != static_cast<std::int64_t>(messages.size())) {
    return InvalidArgument("BTS-1", "the batch says " + std::to_string(*declared) +
                                        " messages but holds " + std::to_string(messages.size()));
  }
  return messages;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  // Bytes a message cannot carry as they are (control characters; anything when the text is
  // not UTF-8) go as \Xhh\, so what is written always parses back to the same bytes.
  const bool utf8 = IsValidUtf8(text);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto put = [&](char code) {
      out += d.escape;
      out += code;
      out += d.escape;
    };
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\r' && c != '\n') || byte == 0x7F || (!utf8 && byte >= 0x80)) {
      static const char* kHex = "0123456789ABCDEF";
      out += d.escape;
      out += 'X';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      out += d.escape;
    } else if (c == d.field) {
      put('F');
    } else if (c == d.component) {
      put('S');
    } else if (c == d.subcomponent) {
      put('T');
    } else if (c == d.repetition) {
      put('R');
    } else if (c == d.escape) {
      put('E');
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += d.escape;
      out += ".br";
      out += d.escape;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Unescape(std::string_view text, const Delimiters& d) {
  if (text.find(d.escape) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != d.escape) {
      out += text[i];
      continue;
    }
    std::size_t close = text.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // unterminated: kept as sent
      out += text.substr(i);
      break;
    }
    std::string_view code = text.substr(i + 1, close - i - 1);
    if (code == "F") {
      out += d.field;
    } else if (code == "S") {
      out += d.component;
    } else if (code == "T") {
      out += d.subcomponent;
    } else if (code == "R") {
      out += d.repetition;
    } else if (code == "E") {
      out += d.escape;
    } else if (code == ".br") {
      out += '\n';
    } else if (!code.empty() && code[0] == 'X' && code.size() % 2 == 1) {
      for (std::size_t k = 1; k + 1 < code.size(); k += 2) {
        int hi = HexValue(code[k]);
        int lo = HexValue(code[k + 1]);
        if (hi < 0 || lo < 0) break;
        out += static_cast<char>(hi * 16 + lo);
      }
    }  // other escapes (\H\ \N\ \.sp\ …) format text for display: dropped
    i = close;
  }
  return out;
}

Result<Instant> ParseDtm(std::string_view text, int default_offset_min) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("time", "'" + Printable(text, 32) + "' is not an HL7 DTM: " + why);
  };
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0) {
    ++digits;
  }
  if (digits < 4 || digits > 14 || digits % 2 != 0) {
    return bad("YYYY[MM[DD[HH[MM[SS]]]]] expected");
  }

  auto num = [&](std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (text[pos + i] - '0');
    return v;
  };
  const int year = num(0, 4);
  const int month = digits >= 6 ? num(4, 2) : 1;
  const int day = digits >= 8 ? num(6, 2) : 1;
  const int hour = digits >= 10 ? num(8, 2) : 0;
  const int minute = digits >= 12 ? num(10, 2) : 0;
  const int second = digits >= 14 ? num(12, 2) : 0;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12) return bad("no month " + std::to_string(month));
  if (day < 1 || day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) {
    return bad("no such day");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("no such time of day");
  std::size_t pos = digits;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    if (digits != 14) return bad("a fraction needs seconds");
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 1000000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      if (n >= 4) return bad("at most 4 fractional digits");
      scale /= 10;
      micros += (text[pos] - '0') * scale;
      ++pos;
      ++n;
    }
    if (n == 0) return bad("digits expected after '.'");
  }
  int offset_min = default_offset_min;
  if (pos < text.size()) {
    auto offset = ParseUtcOffset(text.substr(pos));
    if (!offset) return bad("offset +ZZZZ (at most 14 h, minutes < 60) expected");
    offset_min = *offset;
  }
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second -
                               static_cast<std::int64_t>(offset_min) * 60;
  return Instant{seconds * 1000000 + micros};
}

std::optional<int> ParseUtcOffset(std::string_view text) {
  if (text.size() != 5 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  for (char c : text.substr(1)) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
  }
  const int hours = (text[1] - '0') * 10 + (text[2] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return std::nullopt;
  return (text[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
}

std::string FormatDtm(Instant t) {
  const CivilTime c = ToCivil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u%02d%02d%02d+0000", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

}  // namespace medtwin::hl7
