// hl7/message.h — HL7 version 2 messages as monitor gateways and interface engines send them
// (HL7 v2.5.1 chapter 2, "Control"): segments separated by carriage returns, fields by the
// separator MSH-1 names, and components, repetitions, subcomponents and escapes by the
// characters in MSH-2. Values are read by position, HL7's way ("PID-3.1", repetition 2) and
// come back unescaped (\F\ \S\ \T\ \R\ \E\, \Xhh\, \.br\). A batch (FHS/BHS … BTS/FTS) is
// split into its messages. Nothing here knows what a message means: hl7/vitals.h and
// hl7/adt.h read ORU and ADT, hl7/ack.h answers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"

namespace medtwin::hl7 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// One segment: its fields as received (escaped). Field numbers are HL7's (1-based; in MSH,
// MSH-1 is the field separator and MSH-2 the encoding characters).
class Segment {
 public:
  Segment(std::vector<std::string> fields, const Delimiters* delimiters)
      : fields_(std::move(fields)), delimiters_(delimiters) {}
  [[nodiscard]] std::string_view id() const { return fields_.front(); }
  // The highest field number present.
  [[nodiscard]] int FieldCount() const { return static_cast<int>(fields_.size()) - 1; }
  // Field `n` as received (escaped, with every repetition and component); "" when absent.
  [[nodiscard]] std::string_view Raw(int n) const;
  // How many repetitions field `n` has (0 when empty).
  [[nodiscard]] int Repetitions(int n) const;
  // The unescaped value at field `n`, component and subcomponent (1-based), repetition
  // (0-based); "" when absent.
  [[nodiscard]] std::string Get(int n, int component = 1, int subcomponent = 1,
                                int repetition = 0) const;

 private:
  std::vector<std::string> fields_;
  const Delimiters* delimiters_;
};

class Message {
 public:
  // One message, MSH first. Segment separators may be CR (the standard), LF or CRLF. Refuses
  // what cannot be read as HL7 (no MSH, bad encoding characters, malformed segment ids, MSH-9
  // or MSH-10 missing) with the position ("MSH-9", "segment 4") and the reason.
  static Result<Message> Parse(std::string_view text);

  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  ~Message() = default;

  [[nodiscard]] const Delimiters& delimiters() const { return *delimiters_; }
  [[nodiscard]] const std::vector<Segment>& segments() const { return segments_; }
  [[nodiscard]] const Segment& msh() const { return segments_.front(); }
  // The first segment with `id`, or null.
  [[nodiscard]] const Segment* Find(std::string_view id) const;

  // MSH-9.1 and 9.2 ("ORU", "R01"), MSH-10, MSH-12, MSH-3/4 (sending application and facility),
  // MSH-5/6 (receiving).
  [[nodiscard]] std::string type() const { return msh().Get(9, 1); }
  [[nodiscard]] std::string trigger() const { return msh().Get(9, 2); }
  [[nodiscard]] std::string control_id() const { return msh().Get(10); }
  [[nodiscard]] std::string version() const { return msh().Get(12); }
  [[nodiscard]] std::string sending_facility() const { return msh().Get(4); }

 private:
  Message() = default;
  // On the heap so segments keep pointing at it when the message moves.
  std::unique_ptr<Delimiters> delimiters_;
  std::vector<Segment> segments_;
};

// The messages of one MLLP frame: the frame itself, or each message of a batch (FHS, BHS,
// BTS, FTS segments dropped). Refuses a batch whose BTS-1 count disagrees. `batch_control_id`
// (if given) gets the batch's BHS-10, as sent ("" when there is none).
[[nodiscard]] Result<std::vector<std::string_view>> SplitBatch(
    std::string_view text, std::string_view* batch_control_id = nullptr);

// Text for an HL7 field: the delimiters and the escape character escaped, line breaks as \.br\,
// control characters (and every byte ≥ 0x80 of text that is not UTF-8) as \Xhh\.
[[nodiscard]] std::string Escape(std::string_view text, const Delimiters& d);
// The inverse: \F\ \S\ \T\ \R\ \E\, \Xhh…\ (bytes), \.br\ (a line break). Unknown escapes
// (formatting such as \H\ \N\) are dropped.
[[nodiscard]] std::string Unescape(std::string_view text, const Delimiters& d);

// An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]) as an instant (a partial one means its
// start: "1950" is 1950-01-01T00:00). Without an offset the time is the sender's local time:
// `default_offset_min` east of UTC. Refuses dates that do not exist.
[[nodiscard]] Result<Instant> ParseDtm(std::string_view text, int default_offset_min = 0);
// "+0100" → 60, "-0530" → -330; nullopt unless ±HHMM within 14 h.
[[nodiscard]] std::optional<int> ParseUtcOffset(std::string_view text);
// An instant as a DTM to the second in UTC ("20261207134500+0000").
[[nodiscard]] std::string FormatDtm(Instant t);

}  // namespace medtwin::hl7
