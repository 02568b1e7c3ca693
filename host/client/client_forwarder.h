// The runtime adapter is the connection's ClientHandler (it must see on_output_ready); every
// other event goes on, unchanged, to the embedder's handler.
#pragma once

#include "protocol/client_connection.h"

namespace h2::host::client {

class ClientForwarder : public protocol::ClientHandler {
 public:
  explicit ClientForwarder(protocol::ClientHandler* to) : to_(to) {}

  void on_informational(protocol::ClientStream& s, uint16_t status,
                        std::span<const protocol::ResponseField> fields) override {
    to_->on_informational(s, status, fields);
  }
  void on_response(protocol::ClientStream& s, uint16_t status,
                   std::span<const protocol::ResponseField> fields) override {
    to_->on_response(s, status, fields);
  }
  void on_data(protocol::ClientStream& s, std::string_view data) override { to_->on_data(s, data); }
  void on_trailers(protocol::ClientStream& s,
                   std::span<const protocol::ResponseField> fields) override {
    to_->on_trailers(s, fields);
  }
  void on_writable(protocol::ClientStream& s) override { to_->on_writable(s); }
  void on_stream_closed(protocol::ClientStream& s, protocol::ClientStreamEnd end,
                        protocol::ErrorCode code, bool retryable) override {
    to_->on_stream_closed(s, end, code, retryable);
  }
  bool on_push_promise(protocol::ClientStream& parent, protocol::ClientStream& promised,
                       std::span<const protocol::ResponseField> request) override {
    return to_->on_push_promise(parent, promised, request);
  }
  void on_goaway(uint32_t last_stream_id, protocol::ErrorCode code,
                 std::string_view debug) override {
    to_->on_goaway(last_stream_id, code, debug);
  }
  void on_ping_ack(uint64_t opaque) override { to_->on_ping_ack(opaque); }
  void on_connection_closed(protocol::ErrorCode code, std::string_view reason) override {
    to_->on_connection_closed(code, reason);
  }

 private:
  protocol::ClientHandler* to_;
};

}  // namespace h2::host::client
