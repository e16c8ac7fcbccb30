#include "medtwin/hl7/mllp.h"

namespace medtwin::hl7 {

void MllpDecoder::Feed(std::string_view bytes, std::vector<MllpItem>& out) {
  auto report_stray = [&] {
    // Whitespace between frames (a CR or LF some senders add) is not worth an error.
    if (stray_ > 0) {
      out.push_back(
          {true, std::to_string(stray_) + " bytes outside an MLLP frame (<VT> … <FS><CR>)"});
    }
    stray_ = 0;
  };
  for (char c : bytes) {
    switch (state_) {
      case State::kIdle:
        if (c == kStartBlock) {
          report_stray();
          state_ = State::kFrame;
          frame_.clear();
        } else if (c != '\r' && c != '\n' && c != ' ') {
          ++stray_;
        }
        break;
      case State::kFrame:
        if (c == kEndBlock) {
          state_ = State::kEnd;
          out.push_back({false, std::move(frame_)});
          frame_.clear();
        } else if (c == kStartBlock) {
          out.push_back({true, "a new frame began before the last one ended (<FS><CR> missing)"});
          frame_.clear();
        } else if (frame_.size() >= max_frame_bytes_) {
          out.push_back(
              {true, "the frame is larger than " + std::to_string(max_frame_bytes_) + " bytes"});
          frame_.clear();
          frame_.shrink_to_fit();
          state_ = State::kSkip;
        } else {
          frame_ += c;
        }
        break;
      case State::kEnd:  // the CR after FS; tolerated when missing
        state_ = State::kIdle;
        if (c == kStartBlock) {
          state_ = State::kFrame;
          frame_.clear();
        } else if (c != kCarriageReturn && c != '\n') {
          ++stray_;
        }
        break;
      case State::kSkip:  // the rest of an oversized frame
        if (c == kEndBlock) state_ = State::kEnd;
        if (c == kStartBlock) {
          state_ = State::kFrame;
          frame_.clear();
        }
        break;
    }
  }
  if (state_ == State::kIdle) report_stray();
}

std::string MllpFrame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out += kStartBlock;
  out += message;
  out += kEndBlock;
  out += kCarriageReturn;
  return out;
}

}  // namespace medtwin::hl7
