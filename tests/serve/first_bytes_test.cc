// serve::classify_first_bytes: the client preface (RFC 9113 §3.4) against an HTTP/1.1 request
// line (RFC 9112 §3), fed whole and one byte at a time as a socket may deliver it.
#include "serve/first_bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace h2::serve {
namespace {

constexpr Protocols kBoth{true, true};
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Feeds `bytes` one byte more each time: every strict prefix must be kNeedMore or already the
// final answer, and the whole must be `want`.
void expect_final(std::string_view bytes, FirstBytes want, Protocols offered = kBoth) {
  for (size_t n = 1; n < bytes.size(); ++n) {
    const FirstBytes got = classify_first_bytes(bytes.substr(0, n), offered);
    if (got != FirstBytes::kNeedMore) {
      EXPECT_EQ(got, want) << "decided differently after " << n << " bytes of " << bytes;
      return;
    }
  }
  EXPECT_EQ(classify_first_bytes(bytes, offered), want) << bytes;
}

TEST(FirstBytes, ThePrefaceIsHttp2OnlyWhenWhole) {
  for (size_t n = 1; n < kPreface.size(); ++n) {
    EXPECT_EQ(classify_first_bytes(kPreface.substr(0, n), kBoth), FirstBytes::kNeedMore) << n;
  }
  EXPECT_EQ(classify_first_bytes(kPreface, kBoth), FirstBytes::kHttp2);
  EXPECT_EQ(classify_first_bytes(std::string(kPreface) + "\x00\x00\x12\x04", kBoth),
            FirstBytes::kHttp2);
}

TEST(FirstBytes, RequestLinesAreHttp1) {
  expect_final("GET / HTTP/1.1\r\nhost: a\r\n\r\n", FirstBytes::kHttp1);
  expect_final("POST /upload?x=1 HTTP/1.0\r\n", FirstBytes::kHttp1);
  expect_final("OPTIONS * HTTP/1.1\r\n", FirstBytes::kHttp1);
  expect_final("GET http://example.com/ HTTP/1.1\n", FirstBytes::kHttp1);  // §2.2 bare LF
  expect_final("\r\nGET / HTTP/1.1\r\n", FirstBytes::kHttp1);  // §2.2 empty line first
  expect_final("M-SEARCH * HTTP/1.1\r\n", FirstBytes::kHttp1);
}

TEST(FirstBytes, ABrokenPrefaceIsHttp2SoTheCoreAnswersProtocolError) {
  // RFC 9113 §3.4: an HTTP/2 client's broken preface must not get an HTTP/1.1 400.
  expect_final("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", FirstBytes::kHttp2);
  expect_final("PRI * HTTP/1.1\r\n", FirstBytes::kHttp2);  // PRI is never an HTTP/1.1 method
  expect_final("GET / HTTP/2.0\r\n", FirstBytes::kHttp2);  // not HTTP/1.x
  expect_final(std::string("\x00\x00\x12\x04\x00\x00\x00\x00\x00", 9), FirstBytes::kHttp2);
  expect_final("\x16\x03\x01\x02\x00", FirstBytes::kHttp2);  // a TLS ClientHello
  expect_final("GET /\r\n", FirstBytes::kHttp2);                // HTTP/0.9
  expect_final("GET  / HTTP/1.1\r\n", FirstBytes::kHttp2);      // two spaces
  expect_final("GET / HTTP/1.1\rX", FirstBytes::kHttp2);        // CR not followed by LF
  expect_final("GET / HTTP/1.x\r\n", FirstBytes::kHttp2);
  expect_final("G(T / HTTP/1.1\r\n", FirstBytes::kHttp2);       // '(' is not a tchar
}

TEST(FirstBytes, AnUnfinishedLongLineGoesToHttp1WhichRefusesIt) {
  const std::string line = "GET /" + std::string(kMaxSniffedBytes, 'a');
  EXPECT_EQ(classify_first_bytes(line.substr(0, kMaxSniffedBytes - 1), kBoth),
            FirstBytes::kNeedMore);
  EXPECT_EQ(classify_first_bytes(line, kBoth), FirstBytes::kHttp1);
}

TEST(FirstBytes, ASingleProtocolListenerDecidesAtOnce) {
  EXPECT_EQ(classify_first_bytes("G", Protocols{true, false}), FirstBytes::kHttp2);
  EXPECT_EQ(classify_first_bytes("GET / HTTP/1.1\r\n", Protocols{true, false}), FirstBytes::kHttp2);
  EXPECT_EQ(classify_first_bytes("P", Protocols{false, true}), FirstBytes::kHttp1);
  EXPECT_EQ(classify_first_bytes(kPreface, Protocols{false, true}), FirstBytes::kHttp1);
}

}  // namespace
}  // namespace h2::serve
