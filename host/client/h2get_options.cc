#include "host/client/h2get_options.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string_view>

namespace h2::host::client {

const char* h2get_usage() {
  return R"(Usage: h2get [OPTIONS] URL...
An HTTP/2 client: h2c by prior knowledge for http://, TLS with ALPN h2 for https://.
Requests to the same origin share one connection, each on its own stream.

  -X, --method METHOD      request method (default GET, or POST with -d)
  -d, --data DATA          request body: DATA itself, @FILE (streamed), or @- (stdin)
  -H, --header 'NAME: VALUE'
                           add a request field (repeatable; the name is lowercased)
  -o, --output FILE        write response bodies to FILE (default: stdout)
  -i, --include            print response heads and trailers on stderr
  -v, --verbose            print every frame sent and received on stderr (like nghttp -v)
  -m, --multiply N         send each request N times, concurrently
  -k, --insecure           do not verify the server's certificate and name
      --cacert FILE        trust the CAs in FILE (PEM) instead of the system store
      --unix-socket PATH   connect to the Unix socket PATH (the URL names the origin)
      --connect-timeout S  seconds for connecting and the TLS handshake (default 10)
      --timeout S          seconds without a byte from the server while a request is open
                           (default 30)
  -h, --help               this text
  -V, --version            the version

Exit status: 0 when every response was 2xx (or 1xx); 3, 4 or 5 when the highest status class
of a response was 3xx, 4xx or 5xx; 1 when a request got no complete response (connect, TLS,
protocol or stream failure); 2 for a usage error.
)";
}

namespace {

bool parse_seconds(std::string_view text, uint64_t* ms) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds <= 0) return false;
  *ms = static_cast<uint64_t>(seconds * 1000);
  return true;
}

}  // namespace

ParseOutcome parse_h2get_options(int argc, char** argv, H2getOptions* o, std::string* error) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  bool method_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string_view* out) {
      if (i + 1 >= args.size()) {
        *error = "option " + std::string(a) + " needs a value";
        return false;
      }
      *out = args[++i];
      return true;
    };
    std::string_view v;
    if (a == "-h" || a == "--help") return ParseOutcome::kHelp;
    if (a == "-V" || a == "--version") return ParseOutcome::kVersion;
    if (a == "-i" || a == "--include") {
      o->include = true;
    } else if (a == "-v" || a == "--verbose") {
      o->verbose = true;
    } else if (a == "-k" || a == "--insecure") {
      o->insecure = true;
    } else if (a == "-X" || a == "--method") {
      if (!value(&v)) return ParseOutcome::kError;
      o->method = std::string(v);
      method_given = true;
    } else if (a == "-d" || a == "--data") {
      if (!value(&v)) return ParseOutcome::kError;
      if (v == "@-") {
        o->body.kind = BodySource::Kind::kText;
        o->body.text.assign(std::istreambuf_iterator<char>(std::cin), {});
      } else if (v.starts_with('@')) {
        o->body.kind = BodySource::Kind::kFile;
        o->body.text = std::string(v.substr(1));
        if (std::FILE* f = std::fopen(o->body.text.c_str(), "rb")) {
          std::fclose(f);
        } else {
          *error = "cannot read the body file " + o->body.text;
          return ParseOutcome::kError;
        }
      } else {
        o->body.kind = BodySource::Kind::kText;
        o->body.text = std::string(v);
      }
    } else if (a == "-H" || a == "--header") {
      if (!value(&v)) return ParseOutcome::kError;
      const size_t colon = v.find(':');
      if (colon == 0 || colon == std::string_view::npos) {
        *error = "bad header \"" + std::string(v) + "\" (want 'name: value')";
        return ParseOutcome::kError;
      }
      std::string name(v.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view rest = v.substr(colon + 1);
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      o->headers.emplace_back(std::move(name), std::string(rest));
    } else if (a == "-o" || a == "--output") {
      if (!value(&v)) return ParseOutcome::kError;
      o->output = std::string(v);
    } else if (a == "-m" || a == "--multiply") {
      if (!value(&v)) return ParseOutcome::kError;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o->multiply);
      if (ec != std::errc() || end != v.data() + v.size() || o->multiply < 1 ||
          o->multiply > 100000) {
        *error = "-m wants a count from 1 to 100000, not \"" + std::string(v) + "\"";
        return ParseOutcome::kError;
      }
    } else if (a == "--cacert") {
      if (!value(&v)) return ParseOutcome::kError;
      o->ca_file = std::string(v);
    } else if (a == "--unix-socket") {
      if (!value(&v)) return ParseOutcome::kError;
      o->unix_socket = std::string(v);
    } else if (a == "--connect-timeout" || a == "--timeout") {
      if (!value(&v)) return ParseOutcome::kError;
      uint64_t* target = a == "--timeout" ? &o->response_timeout_ms : &o->connect_timeout_ms;
      if (!parse_seconds(v, target)) {
        *error = std::string(a) + " wants seconds > 0, not \"" + std::string(v) + "\"";
        return ParseOutcome::kError;
      }
    } else if (a.starts_with('-') && a.size() > 1) {
      *error = "unknown option " + std::string(a);
      return ParseOutcome::kError;
    } else {
      Url url;
      if (!parse_url(a, &url, error)) return ParseOutcome::kError;
      o->urls.push_back(std::move(url));
    }
  }
  if (o->urls.empty()) {
    *error = "no URL given";
    return ParseOutcome::kError;
  }
  if (!method_given) o->method = o->body.kind == BodySource::Kind::kNone ? "GET" : "POST";
  return ParseOutcome::kRun;
}

}  // namespace h2::host::client
