// Client connection throughput, entirely in memory: one connection, N small GETs and their
// responses. Ours (h2::protocol::ClientConnection) against libnghttp2's client session
// (nghttp2_session_client_new + nghttp2_submit_request + mem_send / mem_recv). Both get the
// server's SETTINGS first (MAX_CONCURRENT_STREAMS 10,000, so every request goes out at once),
// then submit N requests, pull their bytes, then read the same server bytes in 16 KiB reads
// (every response: HEADERS :status 200 + 3 fields, DATA "hello world" END_STREAM), pulling
// output (WINDOW_UPDATEs) after every read.
//   h2_bench --benchmark_filter=Client
#include <benchmark/benchmark.h>
#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>
#include <vector>

#include "hpack/encoder.h"
#include "protocol/client_connection.h"
#include "protocol/frame/frame_writer.h"

namespace {

using namespace h2;

constexpr size_t kReadSize = 16 * 1024;
constexpr std::string_view kBody = "hello world";

std::string server_settings() {
  std::string out;
  const protocol::Setting settings[] = {
      {static_cast<uint16_t>(protocol::SettingId::kMaxConcurrentStreams), 10000}};
  protocol::write_settings(out, settings);
  protocol::write_settings_ack(out);
  return out;
}

std::string server_responses(int streams) {
  std::string out;
  hpack::Encoder encoder;
  std::string block;
  const hpack::HeaderField fields[] = {{":status", "200"},
                                       {"content-type", "text/plain"},
                                       {"server", "h2"},
                                       {"content-length", "11"}};
  for (int i = 0; i < streams; ++i) {
    const auto id = static_cast<uint32_t>(2 * i + 1);
    block.clear();
    encoder.encode(fields, block);
    protocol::write_headers(out, id, block, false, true);
    protocol::write_data_header(out, id, static_cast<uint32_t>(kBody.size()), true);
    out.append(kBody);
  }
  return out;
}

const protocol::Field kRequestFields[] = {
    {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
    {"accept", "text/css,*/*;q=0.1"},
    {"accept-encoding", "gzip, deflate, br"},
    {"accept-language", "en-US,en;q=0.5"},
};

std::vector<std::string> paths(int streams) {
  std::vector<std::string> p;
  for (int i = 0; i < streams; ++i) p.push_back("/assets/item-" + std::to_string(i) + ".css");
  return p;
}

// ---- ours --------------------------------------------------------------------------------

struct Counter : protocol::ClientHandler {
  void on_response(protocol::ClientStream&, uint16_t status,
                   std::span<const protocol::Field>) override {
    statuses += status;
  }
  void on_data(protocol::ClientStream&, std::string_view data) override { bytes += data.size(); }
  void on_stream_closed(protocol::ClientStream&, protocol::ClientStreamEnd end,
                        protocol::ErrorCode, bool) override {
    completed += end == protocol::ClientStreamEnd::kCompleted;
  }
  size_t statuses = 0, bytes = 0, completed = 0;
};

template <class Conn>
size_t drain(Conn& conn, std::vector<std::string_view>& views) {
  size_t total = 0;
  while (true) {
    views.clear();
    const size_t n = conn.pending_output(views, 256 * 1024);
    if (n == 0) return total;
    total += n;
    conn.consume_output(n);
  }
}

void BM_Client_Ours(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  const std::string settings = server_settings(), input = server_responses(streams);
  const std::vector<std::string> request_paths = paths(streams);
  std::vector<std::string_view> views;
  size_t completed = 0, out_bytes = 0;
  for (auto _ : state) {
    Counter counter;
    protocol::ClientConnection conn(&counter, {}, 0);
    conn.process_bytes(settings, 0);
    for (const std::string& path : request_paths) {
      conn.submit({"GET", "https", "www.example.com", path, kRequestFields}, true);
    }
    out_bytes += drain(conn, views);
    for (std::string_view rest = input; !rest.empty();) {
      const std::string_view chunk = rest.substr(0, kReadSize);
      rest.remove_prefix(chunk.size());
      conn.process_bytes(chunk, 0);
      out_bytes += drain(conn, views);
    }
    completed += counter.completed;
  }
  if (completed != static_cast<size_t>(streams) * state.iterations())
    state.SkipWithError("lost responses");
  state.SetItemsProcessed(static_cast<int64_t>(completed));
  state.counters["out_bytes_per_conn"] = static_cast<double>(out_bytes) / state.iterations();
}

// ---- nghttp2 -----------------------------------------------------------------------------

int ng_on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*,
                 size_t valuelen, uint8_t, void* user) {
  static_cast<Counter*>(user)->statuses += valuelen;
  return 0;
}
int ng_on_data(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t len, void* user) {
  static_cast<Counter*>(user)->bytes += len;
  return 0;
}
int ng_on_close(nghttp2_session*, int32_t, uint32_t error_code, void* user) {
  static_cast<Counter*>(user)->completed += error_code == NGHTTP2_NO_ERROR;
  return 0;
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

size_t ng_drain(nghttp2_session* session) {
  size_t total = 0;
  const uint8_t* data;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(session, &data)) > 0) total += static_cast<size_t>(n);
  return total;
}

void BM_Client_Nghttp2(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  const std::string settings = server_settings(), input = server_responses(streams);
  const std::vector<std::string> request_paths = paths(streams);
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, ng_on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, ng_on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, ng_on_close);
  size_t completed = 0, out_bytes = 0;
  for (auto _ : state) {
    Counter counter;
    nghttp2_session* session;
    nghttp2_session_client_new(&session, callbacks, &counter);
    // Our client's SETTINGS: no push, a 1 MiB stream window, a 64 KiB header list.
    nghttp2_settings_entry entries[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
                                        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 << 10}};
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, entries, 3);
    nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(settings.data()),
                             settings.size());
    for (const std::string& path : request_paths) {
      nghttp2_nv nva[] = {nv(":method", "GET"),
                          nv(":scheme", "https"),
                          nv(":authority", "www.example.com"),
                          nv(":path", path),
                          nv(kRequestFields[0].name, kRequestFields[0].value),
                          nv(kRequestFields[1].name, kRequestFields[1].value),
                          nv(kRequestFields[2].name, kRequestFields[2].value),
                          nv(kRequestFields[3].name, kRequestFields[3].value)};
      nghttp2_submit_request(session, nullptr, nva, 8, nullptr, nullptr);
    }
    out_bytes += ng_drain(session);
    for (std::string_view rest = input; !rest.empty();) {
      const std::string_view chunk = rest.substr(0, kReadSize);
      rest.remove_prefix(chunk.size());
      nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(chunk.data()),
                               chunk.size());
      out_bytes += ng_drain(session);
    }
    completed += counter.completed;
    nghttp2_session_del(session);
  }
  nghttp2_session_callbacks_del(callbacks);
  if (completed != static_cast<size_t>(streams) * state.iterations())
    state.SkipWithError("lost responses");
  state.SetItemsProcessed(static_cast<int64_t>(completed));
  state.counters["out_bytes_per_conn"] = static_cast<double>(out_bytes) / state.iterations();
}

BENCHMARK(BM_Client_Ours)->Arg(100)->Arg(1000);
BENCHMARK(BM_Client_Nghttp2)->Arg(100)->Arg(1000);

}  // namespace
