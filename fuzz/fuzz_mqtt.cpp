// libFuzzer: an MQTT message as the bridge takes it — the topic's patient (first line of the
// input) and the payload (the rest) — through the same checks: the id rule, the depth-capped
// JSON parser, each item's patient and the observation parser, and the reply's serialization,
// which must never throw. Properties: a parsed document never nests deeper than the cap; an
// accepted id is valid UTF-8 without control characters; an accepted observation's text fields
// hold no control characters.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "medtwin/core/text.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/observation.h"

namespace {

int Depth(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int deepest = 0;
  for (const auto& e : j) deepest = std::max(deepest, Depth(e));
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nl = input.find('\n');
  const std::string_view topic_patient = input.substr(0, nl == std::string_view::npos ? 0 : nl);
  const std::string_view payload = nl == std::string_view::npos ? input : input.substr(nl + 1);
  if (medtwin::IsValidId(topic_patient)) {
    if (!medtwin::IsValidUtf8(topic_patient) || medtwin::HasControlCharacters(topic_patient)) {
      __builtin_trap();
    }
  }
  auto parsed = medtwin::io::ParseUntrustedJson(payload, "payload");
  nlohmann::json reply = nlohmann::json::object();
  if (!parsed.ok()) {
    reply["error"] = {{"field", parsed.error().field}, {"message", parsed.error().message}};
  } else {
    if (Depth(*parsed) > medtwin::io::kMaxJsonDepth) __builtin_trap();
    medtwin::io::ObservationLimits limits;
    limits.now.us_since_epoch = 1'800'000'000'000'000LL;
    const std::string patient =
        medtwin::IsValidId(topic_patient) ? std::string(topic_patient) : std::string("p1");
    std::vector<nlohmann::json> items;
    if (parsed->is_array()) {
      for (const auto& e : *parsed) items.push_back(e);
    } else {
      items.push_back(*parsed);
    }
    for (auto& item : items) {
      auto o = medtwin::io::ParseObservation(item, patient, limits);
      if (o.ok()) {
        if (!medtwin::IsValidId(o->patient) || medtwin::HasControlCharacters(o->source) ||
            !medtwin::IsValidUtf8(o->source)) {
          __builtin_trap();
        }
        reply["accepted"].push_back(medtwin::io::ObservationToJson(*o));
      } else {
        reply["rejected"].push_back({{"field", o.error().field}, {"reason", o.error().message}});
      }
    }
  }
  (void)medtwin::io::DumpJson(reply);  // the ack: never throws
  return 0;
}
