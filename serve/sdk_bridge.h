// The host side of the module C ABI (sdk/include/h2/abi.h): the h2_host_api function table
// over serve::Exchange and serve::ConfigValue, and the Handler that calls a module's hooks.
//
// Exactly-once callbacks: each C callback a module registers is wrapped in a guard object held
// by the std::function handed to the Exchange. Calling it forwards the event; destroying it
// uncalled (stream closed, connection gone, callback replaced) forwards "cancelled"/"closed".
// Guards, handles and handlers each hold the LoadedModule, so module code stays mapped while
// anything may still call into it.
//
// Failures: a non-zero return of the handle hook or api->fail() goes to
// report_handler_failure(): logged at error level, then 500 when no response head was sent,
// else RST_STREAM(INTERNAL_ERROR) (Exchange::reset(2)); the connection goes on.
#pragma once

#include <memory>
#include <string_view>

#include "h2/abi.h"
#include "serve/exchange.h"

namespace h2::serve {

class LoadedModule;

// The table given to every module's init hook (static storage).
const h2_host_api& sdk_host_api();

// A Handler calling `module`'s handle hook with `handler_state` (owned: destroy_handler is
// called by the Handler's destructor).
std::shared_ptr<Handler> make_module_handler(std::shared_ptr<LoadedModule> module,
                                             void* handler_state);

// See the header comment. `module` names the culprit in the log line.
void report_handler_failure(Exchange& exchange, const LoadedModule& module,
                            std::string_view message);

// RFC 9113 §7 INTERNAL_ERROR.
inline constexpr std::uint32_t kInternalError = 0x2;

}  // namespace h2::serve
