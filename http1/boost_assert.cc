// The handler of Boost's assertions in builds with assertions on (the sanitizer leg; the release
// build compiles them out): every failed BOOST_ASSERT aborts with its location, as assert() does,
// except one that Boost itself found to be wrong. Beast 1.81's chunked-body parser asserts
// `n >= 5` in parse_chunk_header although a valid body can reach that point with three bytes
// ("0\r\n" of "0\r\n\r\n" delivered in pieces); the code after the assertion is correct (it asks
// for more input). Boost fixed the assertion in boostorg/beast#2861 (Beast 1.86); Debian 12
// ships 1.81, and our HTTP/1.1 fuzz target found an input that reaches it.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp")) {
    return;  // boostorg/beast#2861
  }
  std::fprintf(stderr, "%s:%ld: %s: Boost assertion `%s' failed%s%s\n", file, line, function, expr,
               msg ? ": " : "", msg ? msg : "");
  std::abort();
}

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost
