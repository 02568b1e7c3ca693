// The step from "a request head is complete" to "a handler runs": shared by every runtime.
#pragma once

#include <memory>

#include "serve/exchange.h"
#include "serve/router.h"

namespace h2::serve {

// Routes one request and calls its handler; answers 404 / 405 itself, 503 for a route the
// master quarantined after repeated crashes (serve/route_quarantine.h), and 500
// (or a reset, once the response started) when an in-process handler throws. Logs the failure.
// With the access log on, notes the route on the exchange (kept alive through `router`).
void dispatch_request(const std::shared_ptr<const Router>& router,
                      const std::shared_ptr<Exchange>& exchange);

}  // namespace h2::serve
