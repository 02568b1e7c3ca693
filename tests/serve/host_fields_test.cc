// serve/host_fields.h: the date (RFC 9110 §6.6.1) and server (§10.2.4) fields the host adds.
#include "serve/host_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace h2::serve {
namespace {

std::string names(std::span<const HeaderField> fields) {
  std::string out;
  for (const HeaderField& f : fields) out += std::string(f.name) + ";";
  return out;
}

TEST(HostFields, HttpDateIsImfFixdate) {  // RFC 9110 §5.6.7
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1796297208), "Thu, 03 Dec 2026 11:26:48 GMT");
}

TEST(HostFields, DateAndServerAddedBeforeTheModuleFields) {
  set_server_header("h2host");
  const HeaderField module[] = {{"content-type", "text/plain"}};
  const ResponseFields fields(module);
  EXPECT_EQ(names(fields.fields()), "date;server;content-type;");
  EXPECT_EQ(fields.fields()[0].value, current_http_date());
  EXPECT_EQ(current_http_date().size(), 29u);
  EXPECT_EQ(fields.fields()[1].value, "h2host");
}

TEST(HostFields, ModuleValuesWinAndServerCanBeOff) {
  set_server_header("h2host");
  const HeaderField module[] = {{"server", "mine"}, {"date", "Tue, 29 Feb 2000 00:00:00 GMT"}};
  const ResponseFields kept(module);
  EXPECT_EQ(names(kept.fields()), "server;date;");
  EXPECT_EQ(kept.fields()[0].value, "mine");
  set_server_header("");
  const ResponseFields none({});
  EXPECT_EQ(names(none.fields()), "date;");
  set_server_header("edge/1");
  const ResponseFields renamed({});
  EXPECT_EQ(renamed.fields()[1].value, "edge/1");
  set_server_header("h2host");
}

TEST(HostFields, ManyModuleFieldsSpillToTheHeap) {
  std::vector<std::string> storage;
  for (int i = 0; i < 40; ++i) storage.push_back("x-" + std::to_string(i));
  std::vector<HeaderField> module;
  for (const std::string& name : storage) module.push_back({name, "v"});
  const ResponseFields fields(module);
  ASSERT_EQ(fields.fields().size(), 42u);
  EXPECT_EQ(fields.fields()[41].name, "x-39");
}

}  // namespace
}  // namespace h2::serve
