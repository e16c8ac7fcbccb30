#include "medtwin/core/result.h"

namespace medtwin {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnitMismatch:
      return "unit_mismatch";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kSolverFailure:
      return "solver_failure";
    case ErrorCode::kUnimplemented:
      return "unimplemented";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::ToString() const {
  if (field.empty()) return message;
  return field + ": " + message;
}

Error Error::WithContext(std::string_view context) const {
  Error out = *this;
  if (context.empty()) return out;
  out.field = field.empty() ? std::string(context) : std::string(context) + ": " + field;
  return out;
}

}  // namespace medtwin
