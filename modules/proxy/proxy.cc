// proxy: a reverse proxy to an HTTP/2 upstream (h2c prior knowledge, TLS with ALPN h2, or a
// Unix socket) through the host's client (ABI 1.3 upstream requests, h2/upstream.hpp).
//
// Per request: hop-by-hop fields are dropped (RFC 9110 §7.6.1, RFC 9113 §8.2.2), the client
// is named in x-forwarded-for / x-forwarded-proto / x-forwarded-host and `forwarded`
// (RFC 7239), :authority is kept or rewritten, and both bodies stream with backpressure end to
// end: the next request chunk is read only once the upstream can take more, the next response
// chunk only once the client took the last one (so neither side is buffered whole). Trailers
// pass both ways (gRPC works through it). An upstream that cannot be reached or fails before
// its head answers 502 (504 on a timeout) with the reason logged; one that fails after its
// head resets the client's stream (INTERNAL_ERROR). A client that goes away cancels the
// upstream request. Upstream connections are pooled and reused by the host.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "h2/module.hpp"
#include "h2/upstream.hpp"

namespace {

struct Route {
  std::string origin;         // http://host:port or https://host:port
  std::string unix_socket;
  std::string authority;      // "" keep the client's, "upstream": the origin's, else this
  bool authority_upstream = false;
  std::string strip_prefix;
  bool forwarded = true;
  std::uint64_t connect_timeout_ms = 0;
  std::uint64_t response_timeout_ms = 0;
  bool verify = true;
  std::string ca_file;
  std::string via;  // "": no Via; else the pseudonym this proxy adds (RFC 9110 §7.6.3)
};

// RFC 9110 §7.6.3: received-protocol, the version of the message as this proxy received it.
std::string_view received_protocol(h2::HttpVersion version) {
  return version == h2::HttpVersion::kHttp2 ? "2" : "1.1";
}

bool hop_by_hop(std::string_view name, std::string_view value) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "http2-settings" ||
         name == "host" || (name == "te" && value != "trailers");
}

// Fields named by the client's Connection header are hop-by-hop too (RFC 9110 §7.6.1).
bool listed_in_connection(std::string_view name, std::string_view connection) {
  while (!connection.empty()) {
    std::size_t comma = connection.find(',');
    std::string_view token = connection.substr(0, comma);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.size() == name.size()) {
      bool same = true;  // case-insensitive; `name` is lowercase
      for (std::size_t i = 0; i < name.size() && same; ++i) same = (token[i] | 0x20) == name[i];
      if (same) return true;
    }
    if (comma == std::string_view::npos) break;
    connection.remove_prefix(comma + 1);
  }
  return false;
}

// "1.2.3.4:5678" -> "1.2.3.4", "[::1]:5678" -> "[::1]" (a unix socket path stays as it is).
std::string_view client_address(std::string_view peer) {
  if (peer.empty() || peer.front() == '/') return peer;
  std::size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

class ProxyStream : public std::enable_shared_from_this<ProxyStream> {
 public:
  ProxyStream(std::shared_ptr<const Route> route, h2::Exchange ex)
      : keep_route_(std::move(route)), ex_(std::move(ex)), route_(*keep_route_) {}

  void start() {
    std::weak_ptr<ProxyStream> weak = weak_from_this();
    ex_.on_cancel([weak] {
      if (auto self = weak.lock()) self->up_.reset();  // RST_STREAM(CANCEL) upstream
    });
    build_request_fields();
    // The first read tells whether there is a body at all: a request that ended with its head
    // (GET) answers at once, and is then sent with END_STREAM, which makes it retryable.
    read_request_body();
    if (!opened_) open(/*end_stream=*/false);  // the body is still on its way
  }

 private:
  void build_request_fields() {
    std::string connection(ex_.header("connection").value_or(""));
    std::string xff, fwd, via;
    const std::vector<h2::Header> headers = ex_.headers();
    store_.reserve(2 * headers.size() + 8);  // + the forwarding fields
    for (const h2::Header& h : headers) {
      if (hop_by_hop(h.name, h.value) || listed_in_connection(h.name, connection)) continue;
      if (route_.forwarded && h.name == "x-forwarded-for") {
        xff.append(h.value).append(", ");
        continue;
      }
      if (route_.forwarded && h.name == "forwarded") {
        fwd.append(h.value).append(", ");
        continue;
      }
      if (route_.forwarded && (h.name == "x-forwarded-proto" || h.name == "x-forwarded-host")) {
        continue;
      }
      if (!route_.via.empty() && h.name == "via") {
        via.append(h.value).append(", ");
        continue;
      }
      add(h.name, h.value);
    }
    if (!route_.via.empty()) {
      add("via", via.append(received_protocol(ex_.version())).append(" ").append(route_.via));
    }
    if (route_.forwarded) {
      std::string_view client = client_address(ex_.peer());
      add("x-forwarded-for", xff.append(client));
      add("x-forwarded-proto", ex_.scheme());
      add("x-forwarded-host", ex_.authority());
      bool v6 = !client.empty() && client.front() == '[';
      fwd.append("for=").append(v6 ? "\"" : "").append(client).append(v6 ? "\"" : "");
      fwd.append(";proto=").append(ex_.scheme()).append(";host=\"").append(ex_.authority());
      add("forwarded", fwd.append("\""));
    }
  }
  void add(std::string_view name, std::string_view value) {
    store_.emplace_back(name);
    store_.emplace_back(value);
  }

  void open(bool end_stream) {
    opened_ = true;
    std::string_view path = ex_.path();
    std::string rewritten;
    if (!route_.strip_prefix.empty() && path.substr(0, route_.strip_prefix.size()) ==
                                            route_.strip_prefix) {
      rewritten = std::string(path.substr(route_.strip_prefix.size()));
      if (rewritten.empty() || rewritten.front() != '/') rewritten.insert(0, "/");
      path = rewritten;
    }
    std::vector<h2::Header> fields;
    fields.reserve(store_.size() / 2);
    for (std::size_t i = 0; i + 1 < store_.size(); i += 2) {
      fields.push_back(h2::Header{store_[i], store_[i + 1]});
    }
    h2::UpstreamRequest req;
    req.origin = route_.origin;
    req.unix_socket = route_.unix_socket;
    req.method = ex_.method();
    req.authority = route_.authority_upstream ? std::string_view()
                    : route_.authority.empty() ? ex_.authority()
                                               : std::string_view(route_.authority);
    req.path = path;
    req.headers = fields;
    req.end_stream = end_stream;
    req.connect_timeout_ms = route_.connect_timeout_ms;
    req.response_timeout_ms = route_.response_timeout_ms;
    req.verify_peer = route_.verify;
    req.ca_file = route_.ca_file;
    auto self = shared_from_this();
    h2::UpstreamEvents events;
    events.on_informational = [self] { self->relay_informational(); };
    events.on_response = [self] { self->relay_head(); };
    events.on_failed = [self] { self->answer_failure(); };
    auto [r, up] = h2::Upstream::open(ex_, req, std::move(events));
    if (r != h2::Result::kOk) {
      h2::log(h2::LogLevel::kError, route_.origin + ": upstream request refused (" +
                                        (r == h2::Result::kUnsupported
                                             ? std::string("this runtime has no client")
                                             : std::string("invalid request")) + ")");
      ex_.respond(502, {{"content-type", "text/plain"}}, "502 bad gateway\n");
      return;
    }
    up_ = std::move(up);
  }

  // ---- request body: client -> upstream ----
  void read_request_body() {
    auto self = shared_from_this();
    ex_.read([self](std::string_view chunk) { self->on_request_chunk(chunk); },
             [self] { self->on_request_eof(); });
  }
  void on_request_chunk(std::string_view chunk) {
    if (!opened_) open(false);
    if (!up_ || up_.write(chunk) != h2::Result::kOk) return;  // upstream gone: stop reading
    auto self = shared_from_this();
    up_.flush([self](bool written) {
      if (written) self->read_request_body();
    });
  }
  void on_request_eof() {
    if (!opened_) return open(/*end_stream=*/true);
    if (!up_) return;
    std::vector<h2::Header> trailers = ex_.trailers();
    up_.end(trailers);
  }

  // ---- response: upstream -> client ----
  void relay_informational() {
    if (up_.status() != 101) ex_.informational(up_.status(), up_.headers());
  }
  void relay_head() {
    const std::vector<h2::Header> head = up_.headers();
    std::vector<h2::Header> fields;
    fields.reserve(head.size() + 1);
    std::string via;
    for (const h2::Header& h : head) {
      if (hop_by_hop(h.name, h.value)) continue;
      if (!route_.via.empty() && h.name == "via") {
        via.append(h.value).append(", ");
        continue;
      }
      fields.push_back(h);
    }
    if (!route_.via.empty()) {  // the upstream's response came over HTTP/2
      fields.push_back(h2::Header{"via", via.append("2 ").append(route_.via)});
    }
    if (up_.ended_with_head()) {
      // One HEADERS frame with END_STREAM, as the upstream sent it: gRPC reads a status in
      // such a head as a trailers-only answer, and a head followed by an empty DATA as broken.
      ex_.respond(up_.status(), fields, std::string());
      return;
    }
    if (ex_.respond_streaming(up_.status(), fields) != h2::Result::kOk) return up_.reset();
    read_response_body();
  }
  void read_response_body() {
    auto self = shared_from_this();
    up_.read([self](std::string_view chunk) { self->on_response_chunk(chunk); },
             [self] { self->on_response_eof(); }, [self] { self->on_response_cancelled(); });
  }
  void on_response_chunk(std::string_view chunk) {
    if (ex_.write(chunk) != h2::Result::kOk) return up_.reset();  // client gone
    auto self = shared_from_this();
    ex_.flush([self](bool written) {
      if (written) {
        self->read_response_body();
      } else {
        self->up_.reset();
      }
    });
  }
  void on_response_eof() {
    std::vector<h2::Header> trailers = up_.trailers();
    if (ex_.close(trailers) == h2::Result::kUnsupported) ex_.close();
  }
  void on_response_cancelled() {
    if (!up_) return;  // we cancelled it (client gone)
    h2::log(h2::LogLevel::kWarn, std::string(ex_.method()) + " " +
                                     std::string(ex_.path()) + " -> " + route_.origin +
                                     ": response cut: " + std::string(up_.reason()));
    ex_.reset(0x2);  // INTERNAL_ERROR (RFC 9113 §7): the client must not take it as complete
  }

  void answer_failure() {
    const bool timeout = up_.error() == h2::UpstreamError::kTimeout;
    h2::log(h2::LogLevel::kWarn, std::string(ex_.method()) + " " +
                                     std::string(ex_.path()) + " -> " + route_.origin + ": " +
                                     std::string(up_.reason()) +
                                     (timeout ? " (answered 504)" : " (answered 502)"));
    if (ex_.response_started() || ex_.closed()) return;
    if (timeout) {
      ex_.respond(504, {{"content-type", "text/plain"}}, "504 gateway timeout\n");
    } else {
      ex_.respond(502, {{"content-type", "text/plain"}}, "502 bad gateway\n");
    }
  }

  std::shared_ptr<const Route> keep_route_;  // the handler may go (reload) before the stream ends
  h2::Exchange ex_;
  const Route& route_;
  h2::Upstream up_;
  std::vector<std::string> store_;  // request fields: name, value, name, value, ...
  bool opened_ = false;
};

class ProxyHandler final : public h2::Handler {
 public:
  explicit ProxyHandler(Route route) : route_(std::make_shared<const Route>(std::move(route))) {}
  void handle(h2::Exchange ex) override {
    std::make_shared<ProxyStream>(route_, std::move(ex))->start();
  }

 private:
  std::shared_ptr<const Route> route_;
};

class ProxyModule final : public h2::Module {
 public:
  static constexpr h2_config_key kRouteConfigKeys[] = {
      {"upstream", H2_KEY_STRING, nullptr, "the origin: http://host:port (h2c) or https://..."},
      {"unix_socket", H2_KEY_STRING, "", "connect to this socket instead of host:port"},
      {"authority", H2_KEY_STRING, "keep",
       ":authority sent: keep (the client's), upstream (the origin's) or a literal value"},
      {"strip_prefix", H2_KEY_STRING, "", "removed from the front of the path when present"},
      {"forwarded", H2_KEY_BOOL, "true", "add x-forwarded-for/-proto/-host and forwarded"},
      {"connect_timeout_ms", H2_KEY_INT, "10000", "resolve + connect + TLS handshake"},
      {"response_timeout_ms", H2_KEY_INT, "60000", "from the request to the response head"},
      {"verify", H2_KEY_BOOL, "true", "https: verify the certificate and name"},
      {"ca_file", H2_KEY_STRING, "", "https: PEM CA file (empty: the system trust store)"},
      {"via", H2_KEY_STRING, "",
       "add Via with this pseudonym to requests and responses (empty: none)"}};
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  std::unique_ptr<h2::Handler> create_handler(const h2::Config& config) override {
    Route route;
    route.origin = std::string(config["upstream"].as_string());
    if (route.origin.rfind("http://", 0) != 0 && route.origin.rfind("https://", 0) != 0) {
      throw std::runtime_error("proxy: upstream must be http://host[:port] or https://... (got \"" +
                               route.origin + "\")");
    }
    route.unix_socket = std::string(config["unix_socket"].as_string());
    std::string authority(config["authority"].as_string());
    route.authority_upstream = authority == "upstream";
    if (authority != "keep" && authority != "upstream") route.authority = authority;
    route.strip_prefix = std::string(config["strip_prefix"].as_string());
    route.forwarded = config["forwarded"].as_bool(true);
    route.connect_timeout_ms = positive(config, "connect_timeout_ms");
    route.response_timeout_ms = positive(config, "response_timeout_ms");
    route.verify = config["verify"].as_bool(true);
    route.ca_file = std::string(config["ca_file"].as_string());
    route.via = std::string(config["via"].as_string());
    if (route.via.find_first_of(" \t,;()\"") != std::string::npos) {
      throw std::runtime_error("proxy: via must be one token, a pseudonym like h2host (got \"" +
                               route.via + "\")");
    }
    return std::make_unique<ProxyHandler>(std::move(route));
  }

 private:
  static std::uint64_t positive(const h2::Config& config, std::string_view key) {
    std::int64_t v = config[key].as_int(0);
    if (v < 0) throw std::runtime_error("proxy: " + std::string(key) + " must be >= 0");
    return static_cast<std::uint64_t>(v);
  }
};

}  // namespace

H2_MODULE(ProxyModule, "proxy", "1.0.0")
