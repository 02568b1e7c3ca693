// h2_module_check FILE [PATH [N]]: loads one module file with the real loader (ModuleRegistry,
// Boost.DLL), makes a handler for a route with a null config, sends it one GET PATH through
// the in-process FakeExchange and prints "NAME STATUS BODY". Exit 0 iff the module loaded and
// answered 200. Used by the out-of-tree-module ctest (and handy to check a module by hand).
// With N, also times N more requests through the C ABI (to stderr: ns per request, including
// the FakeExchange's own allocation).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "serve/module_registry.h"
#include "tests/serve/module_fake_exchange.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: h2_module_check FILE [PATH]\n";
    return 2;
  }
  h2::serve::ModuleRegistry registry(
      [](h2::serve::ModuleLogLevel, std::string_view line) { std::cerr << line << "\n"; });
  h2::serve::ModuleStatus loaded = registry.load_file(argv[1]);
  if (!loaded.ok()) {
    std::cerr << loaded.message << "\n";
    return 1;
  }
  std::string module = registry.modules().front().name;
  h2::serve::HandlerResult made = registry.create_handler(module, h2::serve::ConfigValue());
  if (!made.status.ok()) {
    std::cerr << made.status.message << "\n";
    return 1;
  }
  auto ex = std::make_shared<h2::test::FakeExchange>("GET", argc > 2 ? argv[2] : "/");
  ex->end_body();
  made.handler->handle(ex);
  ex->run();
  std::cout << module << " " << ex->status << " " << ex->body;
  if (argc > 3) {
    const long n = std::atol(argv[3]);
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      auto one = std::make_shared<h2::test::FakeExchange>("GET", argv[2]);
      one->end_body();
      made.handler->handle(one);
      one->run();
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::cerr << n << " requests: " << (n > 0 ? ns / n : 0) << " ns/request\n";
  }
  return ex->status == 200 ? 0 : 1;
}
