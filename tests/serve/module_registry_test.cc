// The module loader (host/module_registry.h) on real .so files built by tests/sdk/CMakeLists.txt:
// every refusal with its exact message, init/create_handler failures, unload order.
#include "h2/abi.h"
#include "serve/module_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/serve/module_fake_exchange.h"

namespace h2::serve {
namespace {

namespace fs = std::filesystem;

const fs::path kBroken = H2_BROKEN_MODULE_DIR;
const fs::path kTestModules = H2_TEST_MODULE_DIR;
const fs::path kProbe = kTestModules / "h2_test_probe.so";

struct Log {
  std::vector<std::string> lines;
  ModuleLogger logger() {
    return [this](ModuleLogLevel, std::string_view l) { lines.emplace_back(l); };
  }
};

std::string host_signature() {
  return ModuleRegistry::build_signature();
}

TEST(ModuleRegistry, RefusesAFileThatIsNoSharedObject) {
  ModuleRegistry registry;
  ModuleStatus s = registry.load_file(kBroken / "not_elf.so");
  EXPECT_EQ(s.code, ModuleError::kOpenFailed);
  std::string expected = "module " + (kBroken / "not_elf.so").string() + ": cannot load: ";
  ASSERT_EQ(s.message.substr(0, expected.size()), expected) << s.message;
  EXPECT_NE(s.message.find("not_elf.so"), expected.size()) << s.message;  // dlerror names it
}

TEST(ModuleRegistry, RefusesAMissingFile) {
  ModuleRegistry registry;
  ModuleStatus s = registry.load_file(kBroken / "absent.so");
  EXPECT_EQ(s.code, ModuleError::kOpenFailed);
  EXPECT_NE(s.message.find("No such file or directory"), std::string::npos) << s.message;
}

TEST(ModuleRegistry, RefusesAMissingExport) {
  ModuleRegistry registry;
  fs::path file = kBroken / "missing_export.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kMissingExport);
  EXPECT_EQ(s.message, "module " + file.string() + ": missing export 'h2_module_descriptor_v1'");
  EXPECT_FALSE(registry.has_module("missing_export"));
}

TEST(ModuleRegistry, RefusesADifferentAbiMajor) {
  ModuleRegistry registry;
  fs::path file = kBroken / "wrong_abi_major.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kAbiMajorMismatch);
  EXPECT_EQ(s.message, "module " + file.string() + ": ABI major 99 differs from the host's 1");
}

TEST(ModuleRegistry, RefusesANewerAbiMinor) {
  ModuleRegistry registry;
  fs::path file = kBroken / "newer_abi_minor.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kAbiMinorTooNew);
  // The broken module is built for the host's minor + 1 (tests/sdk/broken/newer_abi_minor.cc).
  const std::string ours = std::to_string(H2_ABI_MAJOR) + "." + std::to_string(H2_ABI_MINOR);
  const std::string theirs =
      std::to_string(H2_ABI_MAJOR) + "." + std::to_string(H2_ABI_MINOR + 1);
  EXPECT_EQ(s.message,
            "module " + file.string() + ": ABI " + theirs + " is newer than the host's " + ours);
}

// The signature text of this build with the given compiler major and string ABI, from the SDK's
// own macros (sdk/include/h2/abi.h): the same under gcc, clang, libstdc++ or libc++.
std::string expected_signature(uint32_t compiler_major, uint32_t cxx11_abi) {
  const char* family = H2_COMPILER_FAMILY_ == 1 ? "gcc" : H2_COMPILER_FAMILY_ == 2 ? "clang" : "cc";
  const char* stdlib = H2_STDLIB_ == 1 ? "libstdc++" : H2_STDLIB_ == 2 ? "libc++" : "unknown";
  return std::to_string(sizeof(void*) * 8) + "-bit " + (H2_LITTLE_ENDIAN_ ? "LE" : "BE") + ", " +
         family + " " + std::to_string(compiler_major) + ", " + stdlib +
         " cxx11-abi=" + std::to_string(cxx11_abi);
}

TEST(ModuleRegistry, RefusesADifferentBuildSignature) {
  ModuleRegistry registry;
  fs::path file = kBroken / "wrong_signature.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kBuildSignatureMismatch);
  // The module claims this compiler's major + 1 and the other string ABI
  // (tests/sdk/broken/wrong_signature.cc).
  const std::string module = expected_signature(H2_COMPILER_MAJOR_ + 1, H2_CXX11_ABI_ ? 0 : 1);
  EXPECT_EQ(s.message, "module " + file.string() + ": build signature '" + module +
                           "' differs from the host's '" + host_signature() + "'");
}

TEST(ModuleRegistry, HostSignatureNamesEverythingThatBreaksCompatibility) {
  EXPECT_EQ(host_signature(), expected_signature(H2_COMPILER_MAJOR_, H2_CXX11_ABI_));
  EXPECT_NE(host_signature().find(std::to_string(sizeof(void*) * 8) + "-bit"), std::string::npos);
}

TEST(ModuleRegistry, RefusesAnInvalidName) {
  ModuleRegistry registry;
  fs::path file = kBroken / "bad_name.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kInvalidDescriptor);
  EXPECT_EQ(s.message,
            "module " + file.string() + ": invalid descriptor: name 'Bad Name' is not [a-z0-9_-]+");
}

TEST(ModuleRegistry, RefusesASecondModuleWithATakenName) {
  ModuleRegistry registry;
  ASSERT_TRUE(registry.load_file(kBroken / "dup_a.so").ok());
  fs::path file = kBroken / "dup_b.so";
  ModuleStatus s = registry.load_file(file);
  EXPECT_EQ(s.code, ModuleError::kDuplicateName);
  EXPECT_EQ(s.message, "module " + file.string() + ": name 'dup' is already taken by " +
                           (kBroken / "dup_a.so").string());
  ASSERT_EQ(registry.modules().size(), 1u);
  EXPECT_EQ(registry.modules()[0].file, kBroken / "dup_a.so");
}

TEST(ModuleRegistry, LoadDirectoryReportsEveryRefusalInFileNameOrder) {
  Log log;
  ModuleRegistry registry(log.logger());
  std::vector<ModuleStatus> refused = registry.load_directory(kBroken);
  std::vector<ModuleError> codes;
  std::vector<std::string> files;
  for (auto& s : refused) codes.push_back(static_cast<ModuleError>(s.code.value()));
  EXPECT_EQ(codes, (std::vector<ModuleError>{
                       ModuleError::kInvalidDescriptor,       // bad_name.so
                       ModuleError::kDuplicateName,           // dup_b.so
                       ModuleError::kMissingExport,           // missing_export.so
                       ModuleError::kAbiMinorTooNew,          // newer_abi_minor.so
                       ModuleError::kOpenFailed,              // not_elf.so
                       ModuleError::kAbiMajorMismatch,        // wrong_abi_major.so
                       ModuleError::kBuildSignatureMismatch,  // wrong_signature.so
                   }));
  ASSERT_EQ(registry.modules().size(), 1u);
  EXPECT_EQ(registry.modules()[0].name, "dup");
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "loaded module dup 0.0.1 from " + (kBroken / "dup_a.so").string());
}

TEST(ModuleRegistry, LoadDirectoryRefusesSomethingElse) {
  ModuleRegistry registry;
  auto refused = registry.load_directory(kProbe);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].code, ModuleError::kNotADirectory);
  EXPECT_EQ(refused[0].message, "module directory " + kProbe.string() + ": not a directory");
}

TEST(ModuleRegistry, LoadsTheShippedModules) {
  ModuleRegistry registry;
  auto refused = registry.load_directory(H2_SHIPPED_MODULE_DIR);
  for (auto& s : refused) ADD_FAILURE() << s.message;
  std::vector<std::string> names;
  for (auto& m : registry.modules()) names.push_back(m.name);
  // Exactly the product modules: the conformance fixture `spec` is built elsewhere, so a
  // server on the default directory never loads it (issue: "build/modules also loads spec").
  EXPECT_EQ(names, (std::vector<std::string>{"echo", "hello", "proxy", "sse", "static"}));
}

TEST(ModuleRegistry, UnknownModuleListsTheLoadedOnes) {
  ModuleRegistry registry;
  ASSERT_TRUE(registry.load_file(kProbe).ok());
  HandlerResult r = registry.create_handler("nope", ConfigValue());
  EXPECT_EQ(r.handler, nullptr);
  EXPECT_EQ(r.status.code, ModuleError::kUnknownModule);
  EXPECT_EQ(r.status.message, "unknown module 'nope' (loaded: probe)");
}

TEST(ModuleRegistry, InitFailureCarriesTheModulesMessageAndLocation) {
  ModuleRegistry registry;
  ASSERT_TRUE(registry.load_file(kProbe).ok());
  ConfigValue config = ConfigValue::make_map({"h2.yaml", 10, 3});
  config.insert("fail_init", ConfigValue::make_bool(true, {"h2.yaml", 11, 16}));
  ModuleStatus s = registry.init_module("probe", config);
  EXPECT_EQ(s.code, ModuleError::kInitFailed);
  EXPECT_EQ(s.message, "module probe: init failed: fail_init requested at h2.yaml:11:16");
  // Not initialised: create_handler tries init again with a null config, which succeeds.
  EXPECT_TRUE(registry.create_handler("probe", ConfigValue()).status.ok());
  EXPECT_EQ(registry.init_module("probe", ConfigValue()).message,
            "module probe: init failed: already initialised");
}

TEST(ModuleRegistry, CreateHandlerFailureCarriesTheModulesMessage) {
  ModuleRegistry registry;
  ASSERT_TRUE(registry.load_file(kProbe).ok());
  ConfigValue route = ConfigValue::make_map();
  route.insert("fail_route", ConfigValue::make_bool(true));
  HandlerResult r = registry.create_handler("probe", route);
  EXPECT_EQ(r.handler, nullptr);
  EXPECT_EQ(r.status.code, ModuleError::kCreateHandlerFailed);
  EXPECT_EQ(r.status.message, "module probe: cannot create a handler: fail_route requested");
}

// The library stays mapped while a handler made by it lives, even after the registry is gone.
TEST(ModuleRegistry, UnloadsOnlyAfterEveryObjectItMadeIsGone) {
  std::shared_ptr<Handler> handler;
  {
    ModuleRegistry registry;
    ASSERT_TRUE(registry.load_file(kProbe).ok());
    HandlerResult r = registry.create_handler("probe", ConfigValue());
    ASSERT_TRUE(r.status.ok()) << r.status.message;
    handler = r.handler;
  }
  auto ex = std::make_shared<test::FakeExchange>("GET", "/after-registry");
  handler->handle(ex);  // module code still mapped: would crash otherwise
  EXPECT_EQ(ex->status, 200);
  EXPECT_NE(ex->body.find("path=/after-registry"), std::string::npos);
  handler.reset();
  ex.reset();
  // After the last object is gone the library is unloaded: a fresh registry reloads it.
  ModuleRegistry again;
  EXPECT_TRUE(again.load_file(kProbe).ok());
}

// A config reload loads the same file into a second registry while the first one's handlers
// live: dlopen hands back the same library, whose SDK globals serve both. Shutting the old
// instance down must leave the new one working (and logging to the new registry's logger).
TEST(ModuleRegistry, ReloadingTheSameLibraryKeepsBothInstancesWorking) {
  Log old_log, new_log;
  auto old_registry = std::make_unique<ModuleRegistry>(old_log.logger());
  ASSERT_TRUE(old_registry->load_file(kProbe).ok());
  auto old_handler = old_registry->create_handler("probe", ConfigValue()).handler;
  ModuleRegistry new_registry(new_log.logger());
  ASSERT_TRUE(new_registry.load_file(kProbe).ok());
  auto new_handler = new_registry.create_handler("probe", ConfigValue()).handler;
  ASSERT_TRUE(old_handler && new_handler);

  auto during = std::make_shared<test::FakeExchange>("GET", "/during");
  old_handler->handle(during);  // the old instance still answers during the reload
  EXPECT_EQ(during->status, 200);

  old_handler.reset();
  old_registry.reset();  // old module shut down; library stays mapped for the new registry
  auto after = std::make_shared<test::FakeExchange>("GET", "/after");
  new_handler->handle(after);
  EXPECT_EQ(after->status, 200);
  ASSERT_FALSE(new_log.lines.empty());
  EXPECT_EQ(new_log.lines.back(), "probe: served /after");
}

// h2/abi.h: same major; a host accepts modules of an older or equal minor, refuses newer ones.
TEST(ModuleRegistry, AbiRuleAcceptsOlderMinorsOnly) {
  EXPECT_EQ(check_abi(1, 0, 1, 3), ModuleError::kOk);
  EXPECT_EQ(check_abi(1, 3, 1, 3), ModuleError::kOk);
  EXPECT_EQ(check_abi(1, 4, 1, 3), ModuleError::kAbiMinorTooNew);
  EXPECT_EQ(check_abi(2, 0, 1, 3), ModuleError::kAbiMajorMismatch);
  EXPECT_EQ(check_abi(0, 9, 1, 3), ModuleError::kAbiMajorMismatch);
}

TEST(ModuleRegistry, ErrorCategoryHasPrintableNames) {
  EXPECT_STREQ(module_error_category().name(), "h2.module");
  EXPECT_EQ(make_error_code(ModuleError::kDuplicateName).message(), "module name already taken");
}

}  // namespace
}  // namespace h2::serve
