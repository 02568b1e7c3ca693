// How h2host writes a socket address, everywhere one is shown or passed on (error and access
// logs, $client_address, x-forwarded-for, $upstream_addr): "1.2.3.4:80", "[::1]:443". The
// brackets keep an IPv6 address and its port apart (serve::split_peer relies on them).
#pragma once

#include <sys/socket.h>

#include <string>

namespace h2::host {

// An AF_INET or AF_INET6 address with its port; "?" for any other family.
std::string address_text(const sockaddr* addr);

}  // namespace h2::host
