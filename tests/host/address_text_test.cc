// host/address_text.h: one text for a socket address wherever h2host shows or forwards one.
#include "host/address_text.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "serve/log.h"

namespace h2::host {
namespace {

TEST(AddressText, Ipv4IsAddressColonPort) {
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  in4.sin_port = htons(8080);
  ASSERT_EQ(::inet_pton(AF_INET, "10.1.2.3", &in4.sin_addr), 1);
  EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&in4)), "10.1.2.3:8080");
}

// The brackets keep an IPv6 address and its port apart: serve::split_peer (the access log's
// $client_address / $client_port) takes them off again.
TEST(AddressText, Ipv6IsBracketedAndSplitsBackIntoAddressAndPort) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  ASSERT_EQ(::inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr), 1);
  const std::string text = address_text(reinterpret_cast<const sockaddr*>(&in6));
  EXPECT_EQ(text, "[2001:db8::1]:443");
  const auto [address, port] = serve::split_peer(text);
  EXPECT_EQ(address, "2001:db8::1");
  EXPECT_EQ(port, "443");
}

TEST(AddressText, OtherFamiliesAreUnknown) {
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_EQ(address_text(&other), "?");
}

}  // namespace
}  // namespace h2::host
