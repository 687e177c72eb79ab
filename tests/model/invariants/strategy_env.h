// Runs a strategy on a fresh model; the fixtures of the invariant tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/strategies.h"
#include "magicboot/xen_stubs/validator.h"

namespace mb::model::testing {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

inline DomainConfig domain(DomainKind kind, uint64_t ram, bool param = false) {
  DomainConfig c;
  c.kind = kind;
  c.ram_bytes = ram;
  c.shared_info_param = param ? SharedInfoParam::kOffered : SharedInfoParam::kAbsent;
  return c;
}

struct Ran {
  std::unique_ptr<Model> model;
  HandoverView view;
};

inline Ran run(Res<HandoverView> (*strategy)(Model&), const DomainConfig& c) {
  Ran r{std::make_unique<Model>(c), {}};
  auto v = strategy(*r.model);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().check) << ": " << (v.ok() ? "" : v.error().detail);
  if (v.ok()) r.view = *v;
  return r;
}

inline std::string dump(const std::vector<Finding>& fs) {
  std::string s;
  for (const Finding& f : fs) s += "  " + to_string(f) + "\n";
  return s.empty() ? "  (none)\n" : s;
}

// The one finding of `invariant` that starts at `gfn`, or nullptr.
inline const Finding* at(const std::vector<Finding>& fs, const std::string& invariant, uint64_t gfn) {
  for (const Finding& f : fs)
    if (f.invariant == invariant && f.first == Gfn{gfn}) return &f;
  return nullptr;
}

}  // namespace mb::model::testing
