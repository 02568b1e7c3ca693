// Checking a module's config (or a route's) against the keys the module declared through the
// SDK (h2/abi.h, ABI 1.2 h2_config_schema): what the host does before calling init or
// create_handler, so a typo (`mesage: hi`) or a wrong type (`max_age: "1h"`) is refused at
// `h2host -t` with its location instead of being silently ignored by the module.
#pragma once

#include <string>
#include <string_view>

#include "h2/abi.h"
#include "serve/config_value.h"

namespace h2::serve {

// Empty when `config` fits `schema` (a null schema accepts anything; a null config is an empty
// map). Otherwise one message: "FILE:LINE:COL: module NAME: unknown key "mesage" in its route
// config; did you mean "message"?" or "...: "max_age" must be an integer, got a string".
// `what` names the config in messages ("route config", "module config").
std::string check_config(const ConfigValue& config, const h2_config_schema* schema,
                         std::string_view module, std::string_view what);

}  // namespace h2::serve
