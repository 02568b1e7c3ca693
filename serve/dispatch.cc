#include "serve/dispatch.h"

#include <exception>
#include <string>

#include "serve/log.h"
#include "serve/route_quarantine.h"
#include "serve/running_route.h"

namespace h2::serve {

namespace {

void answer(Exchange& exchange, int status, std::string body) {
  static constexpr HeaderField kPlain[] = {{"content-type", "text/plain; charset=utf-8"}};
  exchange.respond_with_string({status, kPlain}, std::move(body));
}

}  // namespace

void dispatch_request(const std::shared_ptr<const Router>& routes,
                      const std::shared_ptr<Exchange>& exchange) {
  const Router& router = *routes;
  const Router::Match match =
      router.match(exchange->authority(), exchange->path(), exchange->method());
  if (match.outcome == Router::Outcome::kNotFound) {
    answer(*exchange, 404, "not found\n");
    return;
  }
  if (match.outcome == Router::Outcome::kMethodNotAllowed) {
    // RFC 9110 §15.5.6: a 405 MUST carry Allow with the target's methods.
    const std::string allow = router.allowed_methods(exchange->authority(), exchange->path());
    const HeaderField fields[] = {{"content-type", "text/plain; charset=utf-8"}, {"allow", allow}};
    exchange->respond_with_string({405, fields}, "method not allowed\n");
    return;
  }
  if (Log::access_enabled()) {
    exchange->access_notes.module = match.route->config.module;
    exchange->access_notes.route = match.route->log_name;
  }
  const int32_t index = router.index_of(match.route);
  if (route_quarantined(index)) {
    // The master took the route out of service after repeated crashes (logged there, once).
    answer(*exchange, 503, "service unavailable: this route is disabled after repeated crashes\n");
    return;
  }
  const RunningRoute running(index);
  try {
    match.route->handler->handle(exchange);
  } catch (const std::exception& e) {
    H2_LOG(kError, "handler for " + std::string(exchange->path()) + " (module " +
                       match.route->config.module + ") threw: " + e.what());
    if (!exchange->response_started()) {
      answer(*exchange, 500, "internal server error\n");
    } else {
      exchange->reset(0x2);  // RFC 9113 §7 INTERNAL_ERROR
    }
  } catch (...) {
    H2_LOG(kError, "handler for " + std::string(exchange->path()) + " threw a non-exception");
    if (!exchange->response_started()) {
      answer(*exchange, 500, "internal server error\n");
    } else {
      exchange->reset(0x2);
    }
  }
}

}  // namespace h2::serve
