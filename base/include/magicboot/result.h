// Results hold a value or an error, never both. Errors are values: no
// exceptions anywhere. Works the same in the firmware and on the host.
//
// One way each to fail and to pass a failure on:
//   return MB_ERR(code, "check", "detail %#lx", ...);  // a new mb::Error
//   T v = MB_TRY(expr);  MB_CHECK(expr);                // pass one on
// A helper that composes an error (e.g. the ledger's conflict()) returns
// the Failure that MB_ERR made, and its caller returns that as it is.
// fail(e) is for error types that are plain values (xen::Errno): there is no
// detail to format and nothing to save by building in place.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace mb {

template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

// Asking value() of a failed Result, or error() of a good one, is a bug in
// the caller: it stops here, loudly, instead of reading the other
// alternative's bytes. The firmware stops through its fault path
// (runtime.cpp), the host prints which and aborts (base/src/result_misuse.cpp).
// Two hooks without arguments: each check is a branch and a call, which
// matters at ~80 sites in an image with a size budget.
[[noreturn, gnu::cold]] void result_value_misuse();
[[noreturn, gnu::cold]] void result_error_misuse();

template <class E>
constexpr Unexpected<std::decay_t<E>> fail(E&& e) {
  return {std::forward<E>(e)};
}

// An error passed on unchanged (MB_TRY, MB_CHECK): the receiving Result
// copies it once, straight from the failed one. Errors can be a few hundred
// bytes (mb::Error), and each copy is code at every propagation site.
template <class E>
struct PassOn {
  const E& error;
};
template <class E>
constexpr PassOn<E> pass_on(const E& e) {
  return {e};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : ok_(true) { new (&value_) T(v); }
  Result(T&& v) : ok_(true) { new (&value_) T(std::move(v)); }
  template <class F>
  Result(Unexpected<F>&& u) : ok_(false) { new (&error_) E(std::move(u.error)); }
  Result(PassOn<E> p) : ok_(false) { new (&error_) E(p.error); }
  Result(const Result& o) : ok_(o.ok_) {
    if (ok_) new (&value_) T(o.value_); else new (&error_) E(o.error_);
  }
  Result(Result&& o) : ok_(o.ok_) {
    if (ok_) new (&value_) T(std::move(o.value_)); else new (&error_) E(std::move(o.error_));
  }
  Result& operator=(Result o) {
    destroy();
    ok_ = o.ok_;
    if (ok_) new (&value_) T(std::move(o.value_)); else new (&error_) E(std::move(o.error_));
    return *this;
  }
  ~Result() { destroy(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[gnu::always_inline]] T& value() & { return expect_value(), value_; }
  [[gnu::always_inline]] const T& value() const& { return expect_value(), value_; }
  [[gnu::always_inline]] T&& value() && { return expect_value(), std::move(value_); }
  [[gnu::always_inline]] T* operator->() { return expect_value(), &value_; }
  [[gnu::always_inline]] const T* operator->() const { return expect_value(), &value_; }
  [[gnu::always_inline]] T& operator*() & { return expect_value(), value_; }
  [[gnu::always_inline]] const T& operator*() const& { return expect_value(), value_; }
  [[gnu::always_inline]] const E& error() const {
    if (ok_) [[unlikely]] result_error_misuse();
    return error_;
  }

 private:
  [[gnu::always_inline]] void expect_value() const {
    if (!ok_) [[unlikely]] result_value_misuse();
  }
  void destroy() {
    if (ok_) value_.~T(); else error_.~E();
  }
  bool ok_;
  union {
    T value_;
    E error_;
  };
};

// Result<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  // Success leaves the error storage untouched: no constructor runs for it.
  Result() : ok_(true) {}
  template <class F>
  Result(Unexpected<F>&& u) : ok_(false) { new (&error_) E(std::move(u.error)); }
  Result(PassOn<E> p) : ok_(false) { new (&error_) E(p.error); }
  Result(const Result& o) : ok_(o.ok_) {
    if (!ok_) new (&error_) E(o.error_);
  }
  Result& operator=(const Result& o) {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (!ok_) new (&error_) E(o.error_);
    }
    return *this;
  }
  ~Result() { destroy(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[gnu::always_inline]] const E& error() const {
    if (ok_) [[unlikely]] result_error_misuse();
    return error_;
  }

 private:
  void destroy() {
    if (!ok_) error_.~E();
  }
  bool ok_;
  union {
    E error_;
  };
};

}  // namespace mb

// Propagates the error of a Result-returning expression; yields its value.
#define MB_TRY(expr)                                  \
  ({                                                  \
    auto mb_try_result_ = (expr);                     \
    if (!mb_try_result_.ok())                         \
      return ::mb::pass_on(mb_try_result_.error());   \
    std::move(mb_try_result_).value();                \
  })

// For Result<void, E>.
#define MB_CHECK(expr)                                \
  do {                                                \
    auto mb_check_result_ = (expr);                   \
    if (!mb_check_result_.ok())                       \
      return ::mb::pass_on(mb_check_result_.error()); \
  } while (0)
