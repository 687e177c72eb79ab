// The magicboot-sim command: usage errors, --help, exit codes, and --json
// checked by Python's json module (an independent parser) field by field.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

std::string cli() { return quote(MB_SIM_CLI); }

// Every option main.cpp accepts.
const std::vector<std::string> kOptions = {"--payload",  "--ram-mib", "--domain",        "--bootargs",
                                           "--shared-info-param",    "--extended-regions", "--shared-info-dt", "--strategy",      "--fit-config",
                                           "--payload-align",        "--json",          "--quiet",
                                           "--help",     "-h"};

TEST(SimCli, HelpExitsZeroAndDocumentsEveryOption) {
  Command c = run(cli() + " --help");
  ASSERT_EQ(c.status, 0);
  for (const std::string& opt : kOptions)
    EXPECT_TRUE(std::regex_search(c.out, std::regex("(^|[ ,])" + opt + "([ ,\n]|$)"))) << opt << " undocumented";
  for (const char* word : {"dom0less|xl", "on|off", "magic|ram-legacy", "exit status", "0 clean", "1 an invariant",
                           "2 bad input"})
    EXPECT_NE(c.out.find(word), std::string::npos) << word;
  EXPECT_EQ(run(cli() + " -h").out, c.out);
}

// The other direction: every option the help names is one the command takes.
TEST(SimCli, EveryDocumentedOptionIsAccepted) {
  std::string help = run(cli() + " --help").out;
  std::set<std::string> documented;
  std::regex opt("--[a-z][a-z-]+");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), opt); it != std::sregex_iterator(); ++it)
    documented.insert(it->str());
  EXPECT_GE(documented.size(), 10u);
  for (const std::string& o : documented) {
    // With and without a value: flags take none, options need one.
    for (const char* tail : {"", " 1"}) {
      Command c = run(cli() + " " + o + tail, true);
      EXPECT_EQ(c.out.find("unknown argument '" + o + "'"), std::string::npos) << o << ": " << c.out;
    }
  }
  // The probe above does see an option the command does not take.
  EXPECT_NE(run(cli() + " --no-such-option", true).out.find("unknown argument '--no-such-option'"),
            std::string::npos);
}

TEST(SimCli, UnknownOptionExitsTwo) {
  Command c = run(cli() + " --payload /dev/null --frobnicate", true);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.out.find("unknown argument '--frobnicate'"), std::string::npos) << c.out;
}

TEST(SimCli, MissingPayloadExitsTwo) {
  Command c = run(cli() + " --ram-mib 256", true);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.out.find("--payload FILE is required"), std::string::npos) << c.out;
  c = run(cli(), true);
  EXPECT_EQ(c.status, 2) << c.out;
}

// One line naming --payload and why; never an uncaught exception (a
// directory made std::ifstream throw: exit 134).
TEST(SimCli, UnreadableOrEmptyPayloadExitsTwo) {
  TempDir d;
  std::filesystem::create_directory(d / "dir");
  write_file(d / "empty", {});
  const struct {
    std::string path, message;
  } cases[] = {
      {"/nonexistent/payload", "--payload '/nonexistent/payload': No such file or directory"},
      {(d / "dir").string(), "--payload '" + (d / "dir").string() + "': is a directory"},
      {(d / "empty").string(), "--payload '" + (d / "empty").string() + "': is empty"},
      {"/dev/null", "--payload '/dev/null': is empty"},
  };
  for (const auto& c : cases) {
    Command r = run(cli() + " --payload " + quote(c.path) + " 2>&1 >/dev/null");
    EXPECT_EQ(r.status, 2) << c.path << ": " << r.out;
    EXPECT_EQ(r.out, "magicboot-sim: " + c.message + " (try --help)\n");
  }
}

// The loader's own refusals, as the command shows them: exit 2, the check
// named, with the limit and the length.
TEST(SimCli, CommandLineOverLinuxLimitIsRefused) {
  TempDir d;
  write_file(d / "img", synthetic_image());
  const std::string p = " --payload " + quote((d / "img").string());
  Command r = run(cli() + p + " --bootargs " + std::string(5000, 'x'), true);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("refused to boot: bad input: step payload: bootargs-length: 5000-byte kernel command line: arm64 Linux "
                       "keeps 2047 (COMMAND_LINE_SIZE)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Starting kernel"), std::string::npos) << r.out;
  // The longest line Linux keeps whole boots, and the kernel's DT carries it.
  r = run(cli() + p + " --quiet --bootargs " + std::string(2047, 'x'), true);
  EXPECT_EQ(r.status, 0) << r.out.substr(0, 2000);
  r = run(cli() + p + " --quiet --bootargs " + std::string(2048, 'x'), true);
  EXPECT_EQ(r.status, 2) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("bootargs-length"), std::string::npos);
}

TEST(SimCli, FitConfigForAPayloadThatIsNoFitIsRefused) {
  TempDir d;
  write_file(d / "img", synthetic_image());
  write_file(d / "img.gz", gzip_bytes(synthetic_image()));
  for (const char* f : {"img", "img.gz"}) {
    Command r = run(cli() + " --payload " + quote((d / f).string()) + " --fit-config conf-1", true);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(std::string("fit-config-not-fit: configuration \"conf-1\" asked of a non-FIT payload (") +
                         (f[3] ? "gzip-image" : "image") + ")"),
              std::string::npos)
        << r.out;
  }
}

TEST(SimCli, BadOptionValuesExitTwo) {
  TempDir d;
  write_file(d / "img", synthetic_image());
  const std::string p = " --payload " + quote((d / "img").string());
  struct {
    const char* args;
    const char* message;
  } cases[] = {
      {" --ram-mib lots", "--ram-mib: 'lots'"},       {" --ram-mib 8", "--ram-mib: '8'"},
      {" --domain hvm", "--domain: 'hvm'"},           {" --shared-info-param maybe", "--shared-info-param: 'maybe'"},
      {" --strategy uboot", "--strategy: 'uboot'"},   {" --payload-align 3000", "--payload-align: '3000'"},
      {" --bootargs", "--bootargs needs a value"},   {" --shared-info-dt yes", "--shared-info-dt: 'yes'"},
  };
  for (const auto& c : cases) {
    Command r = run(cli() + p + c.args, true);
    EXPECT_EQ(r.status, 2) << c.args << ": " << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << ": " << r.out;
  }
  // A clean boot of the same payload, to show the failures above are the options'.
  EXPECT_EQ(run(cli() + p + " --quiet").status, 0);
}

// Validates the --json document with Python and prints "ok" or the problem.
// argv: expected exit, verdict, shared_info source, bank count, initrd size.
constexpr const char* kJsonCheck = R"PY(
import json, sys
want_exit, want_verdict, want_source, want_banks, want_initrd = sys.argv[1:6]
d = json.load(sys.stdin)
def need(c, what):
    if not c: print("FAIL: " + what); sys.exit(1)
need(d["exit"] == int(want_exit), "exit %r" % d["exit"])
h = d["handover"]
need(h["verdict"] == want_verdict, "verdict %r" % h["verdict"])
si = h["shared_info"]
need(si["source"] == want_source, "source %r" % si["source"])
need(isinstance(si["gfn"], int), "gfn type")
if want_verdict == "clean":
    regions = h["xen"]["ext_regions"]
    if want_source == "extended-region":
        need(regions and si["gfn"] == (regions[0]["start"] + regions[0]["size"]) // 4096 - 1, "gfn %#x" % si["gfn"])
    else:
        need(si["gfn"] == 0x39fff, "gfn %#x" % si["gfn"])  # the Kconfig offset, and the patch's slot
    dt_offer = h["xen"]["shared_info_gfn"]
    need(dt_offer in (0, si["gfn"]) and (dt_offer == 0 or want_source == "param"), "dt offer %#x" % dt_offer)
    page = si["gfn"] * 4096
    need(not any(b["start"] <= page < b["start"] + b["size"] for b in h["ram"]), "gfn %#x in RAM" % si["gfn"])
    need(si["removed"] is True, "removed")
    need(d["findings"] == [] and h["findings"] == [], "findings")
    need(all(v == "pass" for v in d["invariants"].values()) and len(d["invariants"]) == 7, "invariants")
    need(d["next_stage"]["xen_guest_init_ok"] is True, "next stage")
else:
    need(si["removed"] is False, "legacy removed")
    need(any(f["invariant"] == "no-xen-page-in-ram" and f["gfn"] == si["gfn"] for f in d["findings"]), "legacy finding")
    need("EBUSY" in d["next_stage"]["bug"], "EBUSY")
need(si["mapped"] is True, "mapped")
for k in ("console_pfn", "console_evtchn", "store_pfn", "store_evtchn"):
    need(isinstance(h["magic"][k], int), "magic." + k)
for k in ("kernel", "initrd", "dtb"):
    need(isinstance(h[k]["start"], int) and isinstance(h[k]["size"], int), k)
need(h["kernel"]["size"] > 0 and h["dtb"]["size"] > 0, "sizes")
need(h["initrd"]["size"] == int(want_initrd), "initrd size %r" % h["initrd"]["size"])
need(len(h["ram"]) == int(want_banks), "ram banks %r" % h["ram"])
need(all(isinstance(b["start"], int) and b["size"] > 0 for b in h["ram"]), "ram fields")
ram = [(b["start"], b["start"] + b["size"]) for b in h["ram"]]
for k in ("kernel", "dtb") + (("initrd",) if h["initrd"]["size"] else ()):
    s, e = h[k]["start"], h[k]["start"] + h[k]["size"]
    need(any(a <= s and e <= b for a, b in ram), k + " outside RAM")
print("ok")
)PY";

std::string json_check(const std::string& args, const std::string& expect) {
  TempDir d;
  write_text(d / "check.py", kJsonCheck);
  Command c = run(cli() + " --json " + args + " | " + quote(MB_PYTHON) + " " + quote((d / "check.py").string()) +
                      " " + expect,
                  true);
  return c.out;
}

TEST(SimCli, JsonIsValidAndComplete) {
  const RealPayloads& rp = real();
  ASSERT_TRUE(rp.ok());
  const std::string img = quote((rp.dir / "kernel.img").string());
  const std::string fit = quote((rp.dir / "kernel-gz.fit").string());
  const std::string ramdisk = std::to_string(rp.ramdisk().size());
  EXPECT_EQ(json_check("--payload " + img, "0 clean extended-region 1 0"), "ok\n");
  EXPECT_EQ(json_check("--payload " + img + " --extended-regions off", "0 clean fallback 1 0"), "ok\n");
  EXPECT_EQ(json_check("--payload " + img + " --shared-info-param on --domain xl --ram-mib 6144",
                       "0 clean param 2 0"),
            "ok\n");
  EXPECT_EQ(json_check("--payload " + img + " --shared-info-param on --shared-info-dt off", "0 clean param 1 0"), "ok\n");
  EXPECT_EQ(json_check("--payload " + fit + " --fit-config conf-gz --ram-mib 4096", "0 clean extended-region 2 " + ramdisk),
            "ok\n");
  // The checker proves itself: the same clean boot, a wrong expectation.
  EXPECT_EQ(json_check("--payload " + img, "0 clean param 1 0"), "FAIL: source 'extended-region'\n");
}

TEST(SimCli, JsonForRamLegacyNamesTheFinding) {
  TempDir d;
  write_file(d / "img", synthetic_image());
  Command c = run(cli() + " --json --strategy ram-legacy --payload " + quote((d / "img").string()));
  EXPECT_EQ(c.status, 1) << c.out;
  write_text(d / "check.py", kJsonCheck);
  // Source of a legacy slot: whatever the report says, checked for consistency.
  std::string cmd = cli() + " --json --strategy ram-legacy --payload " + quote((d / "img").string()) + " | " +
                    quote(MB_PYTHON) + " -c 'import json,sys; d=json.load(sys.stdin); print(d[\"handover\"][\"shared_info\"][\"source\"])'";
  Command src = run(cmd);
  ASSERT_EQ(src.status, 0) << src.out;
  std::string source = src.out.substr(0, src.out.find('\n'));
  Command v = run(cli() + " --json --strategy ram-legacy --payload " + quote((d / "img").string()) + " | " +
                  quote(MB_PYTHON) + " " + quote((d / "check.py").string()) + " 1 unchecked " + source + " 1 0",
              true);
  EXPECT_EQ(v.out, "ok\n");
}

TEST(SimCli, JsonForBadInputNamesTheCheck) {
  TempDir d;
  Bytes k = synthetic_image();
  k[0x38] = 0;
  write_file(d / "bad", k);
  std::string cmd = cli() + " --json --payload " + quote((d / "bad").string()) + " | " + quote(MB_PYTHON) +
                    " -c 'import json,sys; d=json.load(sys.stdin); print(d[\"exit\"], d[\"jumped\"], d[\"error\"][\"check\"], d[\"findings\"])'";
  Command c = run(cmd, true);
  EXPECT_EQ(c.status, 0) << c.out;
  EXPECT_EQ(c.out, "2 False payload-kind []\n");
}

}  // namespace
}  // namespace mb::sim::test
