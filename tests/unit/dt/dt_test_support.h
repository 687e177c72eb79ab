// Device trees for the tests, compiled from source by dtc at test time (no
// binary blobs in the tree).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mb::loader::testing {

// 8-byte aligned storage, as libfdt wants the blob.
struct Blob {
  std::vector<uint64_t> words;
  size_t size = 0;
  const void* data() const { return words.data(); }
  void* data() { return words.data(); }
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(words.data()); }
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(words.data()); }
};

inline Blob blob_of(const std::vector<uint8_t>& bytes, size_t capacity = 0) {
  Blob b;
  b.size = bytes.size();
  b.words.assign((std::max(capacity, bytes.size()) + 7) / 8, 0);
  std::copy(bytes.begin(), bytes.end(), b.bytes());
  return b;
}

// Runs dtc on `dts`; fails the test (returns an empty blob) if dtc does.
inline Blob compile_dts(const std::string& dts) {
  char src[] = "/tmp/mb-dt-test-XXXXXX";
  const int fd = mkstemp(src);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  EXPECT_EQ(write(fd, dts.data(), dts.size()), static_cast<ssize_t>(dts.size()));
  close(fd);
  const std::string out = std::string(src) + ".dtb";
  const std::string cmd = std::string(MB_DTC) + " -q -I dts -O dtb -o " + out + " " + src + " 2>&1";
  const int rc = std::system(cmd.c_str());
  unlink(src);
  EXPECT_EQ(rc, 0) << "dtc failed on:\n" << dts;
  std::ifstream in(out, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(out.c_str());
  EXPECT_FALSE(bytes.empty());
  return blob_of(bytes);
}

// A guest DT as Xen builds it for a dom0less domU with xen,enhanced:
// 128 MiB of RAM, the payload as a ramdisk module, /hypervisor, a vpl011.
inline const char* kDom0lessDts = R"(/dts-v1/;
/memreserve/ 0x42000000 0x1000;
/memreserve/ 0x47ff0000 0x10000;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  compatible = "xen,xenvm-4.17", "xen,xenvm";
  chosen {
    bootargs = "console=ttyAMA0 root=/dev/ram";
    linux,initrd-start = <0x0 0x42000000>;
    linux,initrd-end = <0x0 0x42c00000>;
    stdout-path = "serial0:115200n8";
  };
  aliases {
    serial0 = "/sbsa-uart@22000000";
  };
  memory@40000000 {
    device_type = "memory";
    reg = <0x0 0x40000000 0x0 0x8000000>;
  };
  hypervisor {
    compatible = "xen,xen-4.17", "xen,xen";
    reg = <0x0 0x38000000 0x0 0x1000000>;
    interrupts = <0x1 0xf 0xf08>;
  };
  sbsa-uart@22000000 {
    compatible = "arm,sbsa-uart";
    reg = <0x0 0x22000000 0x0 0x1000>;
  };
  reserved-memory {
    #address-cells = <2>;
    #size-cells = <2>;
    ranges;
    shm@47000000 {
      reg = <0x0 0x47000000 0x0 0x100000>;
      no-map;
    };
    payload-copy@42400000 {
      reg = <0x0 0x42400000 0x0 0x1000>;
    };
    off@47800000 {
      reg = <0x0 0x47800000 0x0 0x1000>;
      status = "disabled";
    };
    pool {
      size = <0x0 0x100000>;
    };
  };
};
)";

}  // namespace mb::loader::testing
