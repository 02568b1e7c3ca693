// The ABI 1.3 upstream functions of h2_host_api (serve/sdk_bridge.cc puts them in the table):
// h2_upstream handles over serve::UpstreamCall, opened through the exchange's Loop's client.
#pragma once

#include <cstddef>
#include <cstdint>

#include "h2/abi.h"

namespace h2::serve::sdk {

int upstream_open(h2_exchange* ex, const h2_upstream_request* request, h2_upstream_head_fn fn,
                  void* ctx, h2_upstream** out);
int upstream_status(h2_upstream* up);
std::size_t upstream_header_count(h2_upstream* up);
h2_header upstream_header_at(h2_upstream* up, std::size_t index);
int upstream_read(h2_upstream* up, h2_read_fn fn, void* ctx);
std::size_t upstream_trailer_count(h2_upstream* up);
h2_header upstream_trailer_at(h2_upstream* up, std::size_t index);
int upstream_write(h2_upstream* up, const char* data, std::size_t size);
void upstream_flush(h2_upstream* up, h2_flush_fn fn, void* ctx);
int upstream_end(h2_upstream* up, const h2_header* trailers, std::size_t count);
int upstream_error(h2_upstream* up, h2_str* reason);
void upstream_release(h2_upstream* up);
int upstream_ended_with_head(h2_upstream* up);

}  // namespace h2::serve::sdk
