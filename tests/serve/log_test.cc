// serve/log.h and serve/access_format.h: the access-log line formats (combined, common, json,
// a custom template of named fields) and their escaping.
#include "serve/log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "serve/access_format.h"
#include "serve/exchange.h"

namespace h2::serve {
namespace {

AccessRecord record() {
  AccessRecord r;
  r.peer = "[::1]:51234";
  r.method = "GET";
  r.authority = "example.com";
  r.path = "/a?b=1";
  r.protocol = "HTTP/2.0";
  r.referer = "https://x/";
  r.user_agent = "agent \"q\"";
  r.status = 200;
  r.bytes_sent = 16;
  r.duration_us = 1500;
  r.stream_id = 7;
  r.tls = true;
  r.bytes_received = 3;
  r.tls_version = "TLSv1.3";
  r.alpn = "h2";
  r.module = "static";
  r.route = "/a*";
  return r;
}

constexpr std::string_view kTime = "03/Dec/2026:11:26:48 +0000";

TEST(AccessLog, CombinedIsNginxsShapeWithTheAddressAlone) {
  EXPECT_EQ(format_access_line(record(), AccessFormat::kCombined, kTime),
            "::1 - - [03/Dec/2026:11:26:48 +0000] \"GET /a?b=1 HTTP/2.0\" 200 16 "
            "\"https://x/\" \"agent \\x22q\\x22\"\n");
}

TEST(AccessLog, CommonOmitsRefererAndAgentAndUnixPeersArePaths) {
  AccessRecord r = record();
  r.peer = "/run/h2.sock";
  r.referer = {};
  EXPECT_EQ(format_access_line(r, AccessFormat::kCommon, kTime),
            "/run/h2.sock - - [03/Dec/2026:11:26:48 +0000] \"GET /a?b=1 HTTP/2.0\" 200 16\n");
  r.peer = "10.0.0.1:80";
  EXPECT_EQ(format_access_line(r, AccessFormat::kCombined, kTime),
            "10.0.0.1 - - [03/Dec/2026:11:26:48 +0000] \"GET /a?b=1 HTTP/2.0\" 200 16 \"-\" "
            "\"agent \\x22q\\x22\"\n");
}

TEST(AccessLog, JsonHasEveryFieldEscaped) {
  AccessRecord r = record();
  r.user_agent = "a\"b\\c\x01";
  EXPECT_EQ(format_access_line(r, AccessFormat::kJson, kTime),
            "{\"time\":\"03/Dec/2026:11:26:48 +0000\",\"client_address\":\"::1\","
            "\"client_port\":\"51234\",\"method\":\"GET\",\"authority\":\"example.com\","
            "\"path\":\"/a?b=1\",\"protocol\":\"HTTP/2.0\",\"status\":200,\"bytes_sent\":16,"
            "\"bytes_received\":3,\"duration_us\":1500,\"stream_id\":7,\"scheme\":\"https\","
            "\"referer\":\"https://x/\",\"user_agent\":\"a\\\"b\\\\c\\u0001\","
            "\"tls_version\":\"TLSv1.3\",\"alpn\":\"h2\",\"module\":\"static\",\"route\":\"/a*\","
            "\"upstream_addr\":\"\",\"upstream_status\":\"\",\"upstream_response_time\":\"\"}\n");
}

TEST(AccessLog, ACustomTemplateExpandsEveryNamedField) {
  std::string error;
  std::string text;
  for (std::string_view name : access_field_names()) text += "${" + std::string(name) + "}|";
  auto t = AccessTemplate::parse(text, &error);
  ASSERT_TRUE(t) << error;
  AccessRecord r = record();
  r.referer = {};  // empty: "-"
  EXPECT_EQ(format_access_line(r, AccessFormat::kCustom, kTime, &*t),
            "03/Dec/2026:11:26:48 +0000|::1|51234|GET|example.com|/a?b=1|HTTP/2.0|200|16|3|1500|"
            "7|https|-|agent \\x22q\\x22|TLSv1.3|h2|static|/a*|-|-|-|\n");
}

// nginx's $upstream_addr, $upstream_status and $upstream_response_time: one value per upstream
// request in order, ", " between; a request that failed before a response shows nginx's 502 /
// 504, one still running when the line is written shows "-" for its time.
TEST(AccessLog, UpstreamFieldsListEveryUpstreamRequestInOrder) {
  std::string error;
  auto t = AccessTemplate::parse("$upstream_addr|$upstream_status|$upstream_response_time", &error);
  ASSERT_TRUE(t) << error;
  const UpstreamNote notes[] = {
      {"127.0.0.1:8080", 504, 1500}, {"[::1]:8081", 200, 12}, {"unix:/run/b.sock", 0, -1}};
  AccessRecord r = record();
  r.upstreams = notes;
  EXPECT_EQ(format_access_line(r, AccessFormat::kCustom, kTime, &*t),
            "127.0.0.1:8080, [::1]:8081, unix:/run/b.sock|504, 200, -|1.500, 0.012, -\n");
  const std::string json = format_access_line(r, AccessFormat::kJson, kTime);
  EXPECT_NE(json.find("\"upstream_addr\":\"127.0.0.1:8080, [::1]:8081, unix:/run/b.sock\","
                      "\"upstream_status\":\"504, 200, -\","
                      "\"upstream_response_time\":\"1.500, 0.012, -\"}"),
            std::string::npos)
      << json;
}

// An exchange notes at most kMaxUpstreamNotes upstream requests: the rest are not kept.
TEST(AccessLog, UpstreamNotesOfOneExchangeAreBounded) {
  AccessNotes notes;
  for (size_t i = 0; i < kMaxUpstreamNotes; ++i) {
    EXPECT_EQ(notes.note_upstream({"127.0.0.1:" + std::to_string(i), 200, 1}), static_cast<int>(i));
  }
  EXPECT_EQ(notes.note_upstream({"127.0.0.1:9999", 200, 1}), -1);
  EXPECT_EQ(notes.upstreams.size(), kMaxUpstreamNotes);
  EXPECT_EQ(notes.upstreams.back().address, "127.0.0.1:" + std::to_string(kMaxUpstreamNotes - 1));
}

TEST(AccessLog, ACustomTemplateKeepsLiteralsAndTakesBareNames) {
  std::string error;
  auto t = AccessTemplate::parse("$client_address [$time] \"$method $path\" $status $$ ok", &error);
  ASSERT_TRUE(t) << error;
  std::string out;
  t->render(record(), kTime, out);
  EXPECT_EQ(out, "::1 [03/Dec/2026:11:26:48 +0000] \"GET /a?b=1\" 200 $$ ok\n");
}

TEST(AccessLog, AnUnknownFieldIsRefusedWithTheNearestName) {
  std::string error;
  EXPECT_FALSE(AccessTemplate::parse("$stauts $path", &error));
  EXPECT_EQ(error, "unknown access log field \"$stauts\"; did you mean \"$status\"?");
  EXPECT_FALSE(AccessTemplate::parse("${status", &error));
  EXPECT_EQ(error, "unterminated \"${\" in the access log format");
}

TEST(AccessLog, LinesFromProcessesSharingTheFileNeverInterleave) {
  // Worker processes append to one access log: every line must land whole, even one far longer
  // than stdio's buffer (a 20 KB path).
  const auto path = std::filesystem::temp_directory_path() /
                    ("h2-log-test-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  LogConfig config;
  config.error_log = "stderr";
  config.access_log = path.string();
  ASSERT_EQ(Log::open(config), "");
  constexpr int kLines = 200;
  std::vector<pid_t> children;
  for (char fill : {'a', 'b'}) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string long_path = "/" + std::string(20000, fill);
      AccessRecord r = record();
      r.path = long_path;
      for (int i = 0; i < kLines; ++i) Log::access(r);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    ++count;
    const bool a =
        line.find("\"GET /" + std::string(20000, 'a') + " HTTP/2.0\"") != std::string::npos;
    const bool b =
        line.find("\"GET /" + std::string(20000, 'b') + " HTTP/2.0\"") != std::string::npos;
    ASSERT_TRUE(a != b) << "line " << count << " is not one whole line (" << line.size()
                        << " bytes)";
  }
  EXPECT_EQ(count, 2 * kLines);
  config.access_log.clear();
  Log::open(config);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace h2::serve
