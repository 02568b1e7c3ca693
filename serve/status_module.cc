#include "serve/status_module.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <vector>

namespace h2::serve {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

struct Row {
  std::string label;  // JSON: "pid": N, "generation": G; Prometheus: worker="N"
  int pid;
  unsigned generation;
  const Counters* counters;
};

struct Figure {
  const char* name;
  const char* help;
  bool gauge;
  uint64_t (*get)(const Counters&);
};

uint64_t gauge(const std::atomic<int64_t>& v) {
  const int64_t x = v.load(kRelaxed);
  return x < 0 ? 0 : static_cast<uint64_t>(x);
}

const std::array<Figure, 6> kFigures = {{
    {"connections_accepted", "Connections accepted.", false,
     [](const Counters& c) { return c.connections_accepted.load(kRelaxed); }},
    {"connections_open", "Connections being served.", true,
     [](const Counters& c) { return gauge(c.connections_open); }},
    {"requests", "Requests received.", false,
     [](const Counters& c) { return c.requests.load(kRelaxed); }},
    {"requests_open", "Requests a handler holds now.", true,
     [](const Counters& c) { return gauge(c.exchanges_open); }},
    {"bytes_sent", "Response body bytes.", false,
     [](const Counters& c) { return c.bytes_sent.load(kRelaxed); }},
    {"bytes_received", "Request body bytes.", false,
     [](const Counters& c) { return c.bytes_received.load(kRelaxed); }},
}};
constexpr std::array<const char*, 6> kClasses = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

void json_counters(std::string& out, const Counters& c) {
  for (const Figure& f : kFigures) {
    out += '"';
    out += f.name;
    out += "\":" + std::to_string(f.get(c)) + ",";
  }
  out += "\"responses\":{";
  for (size_t i = 0; i < kClasses.size(); ++i) {
    out += std::string(i ? "," : "") + "\"" + kClasses[i] +
           "\":" + std::to_string(c.responses[i].load(kRelaxed));
  }
  out += "}";
}

std::string render_json(const std::vector<Row>& workers, const Counters& total) {
  std::string out = "{\"total\":{";
  json_counters(out, total);
  out += "},\"workers\":[";
  for (size_t i = 0; i < workers.size(); ++i) {
    out += std::string(i ? "," : "") + "{\"pid\":" + std::to_string(workers[i].pid) +
           ",\"generation\":" + std::to_string(workers[i].generation) + ",";
    json_counters(out, *workers[i].counters);
    out += "}";
  }
  out += "]}\n";
  return out;
}

std::string render_prometheus(const std::vector<Row>& workers, const Counters& total) {
  std::string out;
  auto series = [&](const std::string& name, const std::string& labels, uint64_t v) {
    out += name + "{" + labels + "} " + std::to_string(v) + "\n";
  };
  auto rows = [&](auto&& value, const std::string& name, const std::string& extra) {
    for (const Row& w : workers) series(name, w.label + extra, value(*w.counters));
    series(name, "worker=\"total\"" + extra, value(total));
  };
  for (const Figure& f : kFigures) {
    const std::string name = std::string("h2host_") + f.name + (f.gauge ? "" : "_total");
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + (f.gauge ? " gauge\n" : " counter\n");
    rows(f.get, name, "");
  }
  out += "# HELP h2host_responses_total Responses by status class (none: never answered).\n"
         "# TYPE h2host_responses_total counter\n";
  for (size_t i = 0; i < kClasses.size(); ++i) {
    rows([i](const Counters& c) { return c.responses[i].load(kRelaxed); }, "h2host_responses_total",
         std::string(",class=\"") + kClasses[i] + "\"");
  }
  return out;
}

class StatusHandler final : public Handler {
 public:
  explicit StatusHandler(StatusFormat format) : format_(format) {}
  void handle(std::shared_ptr<Exchange> exchange) override {
    static constexpr HeaderField kJson[] = {{"content-type", "application/json"},
                                            {"cache-control", "no-store"}};
    static constexpr HeaderField kText[] = {
        {"content-type", "text/plain; version=0.0.4; charset=utf-8"}, {"cache-control", "no-store"}};
    const std::string body = render_status(format_, stats_table(), stats(), ::getpid());
    exchange->respond_with_string({200, format_ == StatusFormat::kJson ? kJson : kText}, body);
  }

 private:
  StatusFormat format_;
};

constexpr h2_config_key kRouteKeys[] = {
    {"format", H2_KEY_STRING, "json", "json, or prometheus (text exposition format 0.0.4)"}};
constexpr h2_config_schema kRouteSchema = {kRouteKeys, 1};

}  // namespace

std::string render_status(StatusFormat format, const StatsTable* table, const Counters& own,
                          int own_pid) {
  std::vector<Row> workers;
  Counters total;
  if (table == nullptr) {
    workers.push_back({"worker=\"" + std::to_string(own_pid) + "\"", own_pid, 0, &own});
    total.add(own, true);
  } else {
    total.add(table->retired, false);
    for (const WorkerSlot& slot : table->slots) {
      const int pid = slot.pid.load(kRelaxed);
      if (pid == 0) continue;
      workers.push_back({"worker=\"" + std::to_string(pid) + "\"", pid,
                         slot.generation.load(kRelaxed), &slot.counters});
      total.add(slot.counters, true);
    }
  }
  return format == StatusFormat::kJson ? render_json(workers, total)
                                       : render_prometheus(workers, total);
}

BuiltinModule status_module() {
  BuiltinModule m;
  m.name = "status";
  m.version = "builtin";
  m.route_schema = &kRouteSchema;
  m.create = [](const ConfigValue& route) -> HandlerResult {
    StatusFormat format = StatusFormat::kJson;
    if (const ConfigValue* f = route.find("format")) {
      if (f->as_string() == "prometheus") {
        format = StatusFormat::kPrometheus;
      } else if (f->as_string() != "json") {
        return {nullptr, {make_error_code(ModuleError::kCreateHandlerFailed),
                          f->where() + ": module status: \"format\" must be json or prometheus, "
                                       "got \"" + std::string(f->as_string()) + "\""}};
      }
    }
    return {std::make_shared<StatusHandler>(format), {}};
  };
  return m;
}

}  // namespace h2::serve
