// core/result.h — medtwin's error type and Result<T>.
// Anything driven by outside input returns Result<T>: a value or an Error naming the field and
// the reason. No exception crosses a module boundary; MEDTWIN_TRY propagates with context.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace medtwin {

enum class ErrorCode {
  kInvalidArgument,  // malformed or out-of-range input
  kNotFound,         // unknown model, parameter, file, patient
  kUnitMismatch,     // a unit that cannot convert to the one required
  kIoError,          // file system or stream failure
  kSolverFailure,    // an integrator could not reach the requested time
  kUnimplemented,
  kUnavailable,         // not now: a fit in progress, a store that is down (retry later)
  kAlreadyExists,       // creating what is there already (a patient id)
  kFailedPrecondition,  // the state does not allow it (no recommendation to accept)
  kResourceExhausted,   // a bounded queue or budget is full (trials waiting)
  kPermissionDenied,    // the caller may not (a match they may not read)
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

// An error a user can act on: `field` names what was wrong ("AMT", "data.csv:14"), `message`
// says why. WithContext prepends where it happened as the error travels up.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;
  std::string message;

  // "field: message", or just the message when no field is known.
  [[nodiscard]] std::string ToString() const;
  // Prefixes the field with `context` ("data.csv:14" + "AMT" -> "data.csv:14: AMT").
  [[nodiscard]] Error WithContext(std::string_view context) const;
};

inline Error InvalidArgument(std::string field, std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(field), std::move(message)};
}
inline Error NotFound(std::string field, std::string message) {
  return Error{ErrorCode::kNotFound, std::move(field), std::move(message)};
}

// Minimal std::expected stand-in (g++ 12 lacks <expected>). Must not be ignored.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success or an Error.
struct Ok {};
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace medtwin

#define MEDTWIN_CONCAT_INNER(a, b) a##b
#define MEDTWIN_CONCAT(a, b) MEDTWIN_CONCAT_INNER(a, b)

// MEDTWIN_TRY(auto x, Expr()) — assigns the value or returns the error from the enclosing
// function; MEDTWIN_TRY(auto x, Expr(), "context") also puts `context` (where it happened:
// a file, a record, a subject) before the error's field as it travels up.
#define MEDTWIN_TRY(...) \
  MEDTWIN_TRY_PICK(__VA_ARGS__, MEDTWIN_TRY_WITH_CONTEXT, MEDTWIN_TRY_PLAIN, unused)(__VA_ARGS__)
#define MEDTWIN_TRY_PICK(a, b, c, name, ...) name
#define MEDTWIN_TRY_PLAIN(decl, expr) \
  MEDTWIN_TRY_IMPL(MEDTWIN_CONCAT(medtwin_try_, __LINE__), decl, expr, )
#define MEDTWIN_TRY_WITH_CONTEXT(decl, expr, context) \
  MEDTWIN_TRY_IMPL(MEDTWIN_CONCAT(medtwin_try_, __LINE__), decl, expr, .WithContext(context))
// NOLINTBEGIN(bugprone-macro-parentheses): `decl` is a declaration, `tmp` a name.
#define MEDTWIN_TRY_IMPL(tmp, decl, expr, add_context) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.error() add_context;       \
  decl = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

// MEDTWIN_RETURN_IF_ERROR(Status-returning expr[, "context"]).
#define MEDTWIN_RETURN_IF_ERROR(...)                                     \
  MEDTWIN_RETURN_PICK(__VA_ARGS__, MEDTWIN_RETURN_IF_ERROR_WITH_CONTEXT, \
                      MEDTWIN_RETURN_IF_ERROR_PLAIN, unused)             \
  (__VA_ARGS__)
#define MEDTWIN_RETURN_PICK(a, b, name, ...) name
#define MEDTWIN_RETURN_IF_ERROR_PLAIN(expr)                    \
  do {                                                         \
    auto medtwin_status_ = (expr);                             \
    if (!medtwin_status_.ok()) return medtwin_status_.error(); \
  } while (false)
#define MEDTWIN_RETURN_IF_ERROR_WITH_CONTEXT(expr, context)                         \
  do {                                                                              \
    auto medtwin_status_ = (expr);                                                  \
    if (!medtwin_status_.ok()) return medtwin_status_.error().WithContext(context); \
  } while (false)
