#include "serve/config_schema.h"

#include <vector>

#include "serve/suggest.h"

namespace h2::serve {
namespace {

const char* kind_name(ConfigValue::Kind kind) {
  switch (kind) {
    case ConfigValue::Kind::kNull: return "null";
    case ConfigValue::Kind::kBool: return "a boolean";
    case ConfigValue::Kind::kInt: return "an integer";
    case ConfigValue::Kind::kString: return "a string";
    case ConfigValue::Kind::kList: return "a list";
    case ConfigValue::Kind::kMap: return "a map";
  }
  return "?";
}

const char* type_name(h2_config_key_type type) {
  switch (type) {
    case H2_KEY_STRING: return "a string";
    case H2_KEY_INT: return "an integer";
    case H2_KEY_BOOL: return "a boolean";
    case H2_KEY_LIST: return "a list";
    case H2_KEY_MAP: return "a map";
    case H2_KEY_ANY: break;
  }
  return "anything";
}

bool fits(const ConfigValue& value, h2_config_key_type type) {
  switch (type) {
    case H2_KEY_ANY: return true;
    case H2_KEY_STRING: return value.kind() == ConfigValue::Kind::kString;
    case H2_KEY_INT: return value.kind() == ConfigValue::Kind::kInt;
    case H2_KEY_BOOL: return value.kind() == ConfigValue::Kind::kBool;
    case H2_KEY_LIST: return value.kind() == ConfigValue::Kind::kList;
    case H2_KEY_MAP: return value.kind() == ConfigValue::Kind::kMap;
  }
  return false;
}

}  // namespace

std::string check_config(const ConfigValue& config, const h2_config_schema* schema,
                         std::string_view module, std::string_view what) {
  if (schema == nullptr || config.is_null()) return {};
  const std::string prefix = "module " + std::string(module) + ": ";
  if (config.kind() != ConfigValue::Kind::kMap) {
    return config.where() + ": " + prefix + "its " + std::string(what) + " must be a map, got " +
           kind_name(config.kind());
  }
  std::vector<std::string_view> names;
  for (size_t k = 0; k < schema->count; ++k) names.push_back(schema->keys[k].name);
  for (size_t i = 0; i < config.size(); ++i) {
    const std::string_view key = config.key_at(i);
    const ConfigValue& value = *config.at(i);
    const h2_config_key* declared = nullptr;
    for (size_t k = 0; k < schema->count; ++k) {
      if (key == schema->keys[k].name) declared = &schema->keys[k];
    }
    if (declared == nullptr) {
      std::string message = value.where() + ": " + prefix + "unknown key \"" + std::string(key) +
                            "\" in its " + std::string(what);
      const std::string hint = nearest_key(key, names);
      if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
      if (names.empty()) message += " (it takes no keys)";
      return message;
    }
    if (!fits(value, declared->type)) {
      return value.where() + ": " + prefix + "\"" + std::string(key) + "\" must be " +
             type_name(declared->type) + ", got " + kind_name(value.kind());
    }
  }
  return {};
}

}  // namespace h2::serve
