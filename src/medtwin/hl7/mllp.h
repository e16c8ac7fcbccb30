// hl7/mllp.h — the Minimal Lower Layer Protocol that carries HL7 v2 over TCP (HL7 v2.5.1
// Implementation Guide, appendix C): each message framed as <VT> message <FS><CR>. The decoder
// takes bytes as they arrive and yields whole frames, or a framing error the listener answers
// (bytes outside a frame, a frame larger than allowed, a new start before the end).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace medtwin::hl7 {

inline constexpr char kStartBlock = 0x0B;  // VT
inline constexpr char kEndBlock = 0x1C;    // FS
inline constexpr char kCarriageReturn = 0x0D;

struct MllpItem {
  bool error = false;
  std::string text;  // the frame's message; or why the bytes were not one
};

class MllpDecoder {
 public:
  explicit MllpDecoder(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  // Appends the frames (and framing errors) completed by `bytes` to `out`.
  void Feed(std::string_view bytes, std::vector<MllpItem>& out);
  // Bytes of a frame begun but not ended.
  [[nodiscard]] bool InFrame() const { return state_ != State::kIdle; }

 private:
  enum class State { kIdle, kFrame, kEnd, kSkip };
  std::size_t max_frame_bytes_;
  State state_ = State::kIdle;
  std::string frame_;
  std::size_t stray_ = 0;  // bytes outside a frame since the last report
};

// `message` framed for MLLP.
[[nodiscard]] std::string MllpFrame(std::string_view message);

}  // namespace medtwin::hl7
