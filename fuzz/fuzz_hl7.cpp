// libFuzzer: bytes as they arrive on the HL7 port — the MLLP decoder (in two chunks, split at
// the first byte's value), each frame split as a batch, parsed, read as ORU^R01 and ADT, and
// answered with an ACK, which must itself parse and echo the message's control id. Also:
// Unescape inverts Escape for any text without CR; ASan and UBSan check every read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "medtwin/core/text.h"
#include "medtwin/hl7/ack.h"
#include "medtwin/hl7/adt.h"
#include "medtwin/hl7/message.h"
#include "medtwin/hl7/mllp.h"
#include "medtwin/hl7/vitals.h"

using namespace medtwin;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Escape/Unescape round trip on the raw input as text.
  const hl7::Delimiters d;
  if (hl7::Unescape(hl7::Escape(input, d), d) != std::string(input)) {
    // Escape writes CRLF as one \.br\ : only inputs without '\r' must round-trip exactly.
    if (input.find('\r') == std::string_view::npos) std::abort();
  }
  // The input framed (and also fed raw, as a hostile client would).
  hl7::MllpDecoder decoder(2048);
  std::vector<hl7::MllpItem> items;
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  decoder.Feed(input.substr(0, split), items);
  decoder.Feed(input.substr(split), items);
  const std::string framed = hl7::MllpFrame(input);
  hl7::MllpDecoder framed_decoder(1 << 20);
  framed_decoder.Feed(framed, items);
  for (const hl7::MllpItem& item : items) {
    if (item.error) continue;
    auto batch = hl7::SplitBatch(item.text);
    if (!batch.ok()) continue;
    for (std::string_view text : *batch) {
      auto m = hl7::Message::Parse(text);
      if (!m.ok()) {
        (void)hl7::BuildAck(nullptr, hl7::AckCode::kReject, {}, Instant{}, "X");
        continue;
      }
      (void)hl7::ReadOru(*m, {});
      auto adt = hl7::ReadAdt(*m, {});
      if (adt.ok()) (void)hl7::ApplyAdt({}, *adt, "e-1");
      const std::string ack = hl7::BuildAck(
          &*m, hl7::AckCode::kError,
          {{"OBX", 1, 5, hl7::ErrorCondition::kDataType, Printable(text.substr(0, 90), 90), 'E'}},
          Instant{}, "ACK");
      auto parsed = hl7::Message::Parse(ack);
      // An ACK to a readable message is readable and names its control id (unless that id
      // holds bytes the ACK's delimiters cannot carry, which Escape handles).
      if (!parsed.ok()) std::abort();
      if (parsed->Find("MSA") == nullptr || (m->control_id().find('\r') == std::string::npos &&
                                             parsed->Find("MSA")->Get(2) != m->control_id())) {
        std::abort();
      }
    }
  }
  return 0;
}
