// Results hold a value or an error, never both. Errors are values: no
// exceptions anywhere. Works the same in the firmware and on the host.
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
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  const E& error() const { return error_; }

 private:
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
  const E& error() const { return error_; }

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
