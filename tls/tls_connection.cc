#include "tls/tls_connection.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

namespace h2::tls {
namespace {

constexpr size_t kBlockSize = 64 * 1024;     // ciphertext block (reserved once, never moved)
constexpr size_t kEncryptAhead = 64 * 1024;  // ciphertext queued before asking for more output
constexpr size_t kRecord = 16 * 1024;        // plaintext per SSL_write: full TLS records

int output_write(BIO* bio, const char* data, int size) {
  static_cast<TlsConnection*>(BIO_get_data(bio))->append_output(data, static_cast<size_t>(size));
  return size;
}
long output_ctrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}
int output_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// A write-only BIO that appends each record to the connection's ciphertext queue.
BIO_METHOD* output_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "h2 tls output");
    BIO_meth_set_write(m, output_write);
    BIO_meth_set_ctrl(m, output_ctrl);
    BIO_meth_set_create(m, output_create);
    return m;
  }();
  return method;
}

bool retry(int error) {
  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

}  // namespace

TlsConnection::TlsConnection(const ServerContext& context, DriverFactory make_driver, Limits limits,
                             uint64_t now)
    : make_driver_(std::move(make_driver)), limits_(limits), start_ms_(now), now_(now) {
  ssl_ = SSL_new(context.get());
  in_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);  // empty means "more later", not EOF
  BIO* out = BIO_new(output_method());
  BIO_set_data(out, this);
  SSL_set_bio(ssl_, in_, out);  // both owned by ssl_ from here
  SSL_set_accept_state(ssl_);
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);  // an idle connection holds no record buffer
}

TlsConnection::~TlsConnection() {
  driver_.reset();  // open streams end first (modules hear on_cancel)
  SSL_free(ssl_);
}

std::string_view TlsConnection::alpn() const {
  return alpn_selected(ssl_);
}

const char* alpn_name(std::string_view alpn) {
  return alpn == "h2" ? "h2" : alpn == "http/1.1" ? "http/1.1" : nullptr;
}

std::optional<serve::DriverPolicy> policy_after_handshake(serve::DriverPolicy listener,
                                                          std::string_view alpn) {
  if (alpn == "h2") {
    listener.skip_sniffing = true;
    return listener;
  }
  if (!listener.protocols.http1 || !listener.http1) return std::nullopt;
  listener.protocols = serve::Protocols{/*http2=*/false, /*http1=*/true};  // no h2c over TLS
  return listener;
}

serve::ConnectionEngine::State TlsConnection::state() const {
  switch (phase_) {
    case Phase::kHandshake:
      return State::kSniffing;
    case Phase::kHandOff:
      return State::kHandOff;
    case Phase::kOpen:
      return driver_->state();
    case Phase::kShutdown:
      return State::kLingering;
    case Phase::kFailed:
      return queued_ > 0 ? State::kLingering : State::kClosed;
    case Phase::kClosed:
      return State::kClosed;
  }
  return State::kClosed;
}

void TlsConnection::on_bytes(std::string_view bytes, uint64_t now) {
  now_ = now;
  if (phase_ != Phase::kHandshake && phase_ != Phase::kOpen) return;  // read and drop
  BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  if (phase_ == Phase::kHandshake) handshake(now);
  if (phase_ == Phase::kOpen) read_plaintext(now);
  settle();
}

void TlsConnection::handshake(uint64_t now) {
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    driver_ = make_driver_(SSL_get_version(ssl_), alpn());
    make_driver_ = nullptr;  // what it captured (the runtime's serving settings) is not needed
    if (!driver_) {
      phase_ = Phase::kHandOff;
      return;
    }
    phase_ = Phase::kOpen;
    if (drain_requested_) driver_->drain(now);
    return;
  }
  if (!retry(SSL_get_error(ssl_, result))) fail();
}

// Decrypted bytes go to the driver while it reads; the rest waits in OpenSSL's buffers (and
// the runtime stops reading: wants_read() is the driver's).
void TlsConnection::read_plaintext(uint64_t now) {
  thread_local char buffer[kRecord];
  while (phase_ == Phase::kOpen && driver_->wants_read()) {
    const int n = SSL_read(ssl_, buffer, sizeof buffer);
    if (n > 0) {
      driver_->on_bytes(std::string_view(buffer, static_cast<size_t>(n)), now);
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    if (retry(error)) return;
    if (error == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify
      driver_->on_peer_eof(now, false);
      return;
    }
    return fail();
  }
}

// The driver's output as full records, encrypted straight into the ciphertext queue. A partial
// record waits in staging_ while the driver has more to give (HTTP/2 frames never line up with
// 16 KiB records), so a long response goes out in full records only; it is sealed as soon as
// the driver has nothing more for now.
void TlsConnection::encrypt(uint64_t now) {
  thread_local std::vector<std::string_view> views;
  bool ok = true;
  while (ok && phase_ == Phase::kOpen && queued_ < kEncryptAhead && driver_->wants_write()) {
    views.clear();
    const size_t total = driver_->pending_output(views, kEncryptAhead - queued_);
    if (total == 0) break;
    for (std::string_view view : views) {
      while (ok && !view.empty()) {
        if (staging_.empty() && view.size() >= kRecord) {  // a whole record from the view itself
          ok = seal(view.data(), kRecord);
          view.remove_prefix(kRecord);
          continue;
        }
        if (staging_.capacity() < kRecord) staging_.reserve(kRecord);
        const size_t take = std::min(view.size(), kRecord - staging_.size());
        staging_.append(view.data(), take);
        view.remove_prefix(take);
        if (staging_.size() == kRecord) ok = flush_staging();
      }
    }
    if (ok) driver_->on_written(total, now);
  }
  if (ok && !staging_.empty() && !(phase_ == Phase::kOpen && driver_->wants_write())) {
    ok = flush_staging();
  }
  if (!ok) fail();
}

bool TlsConnection::seal(const char* data, size_t size) {
  return SSL_write(ssl_, data, static_cast<int>(size)) == static_cast<int>(size);
}

bool TlsConnection::flush_staging() {
  const bool ok = seal(staging_.data(), staging_.size());
  staging_.clear();
  return ok;
}

size_t TlsConnection::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  if (phase_ == Phase::kOpen) encrypt(now_);
  settle();
  size_t total = 0;
  size_t skip = sent_;
  for (const std::string& block : blocks_) {
    if (total >= max_bytes) break;
    const size_t take = std::min(block.size() - skip, max_bytes - total);
    out.emplace_back(block.data() + skip, take);
    total += take;
    skip = 0;
  }
  if (total > 0 && write_waiting_since_ == 0) write_waiting_since_ = std::max<uint64_t>(now_, 1);
  return total;
}

void TlsConnection::on_written(size_t n, uint64_t now) {
  now_ = now;
  if (n > 0) write_waiting_since_ = 0;
  while (n > 0 && !blocks_.empty()) {
    const size_t take = std::min(n, blocks_.front().size() - sent_);
    sent_ += take;
    queued_ -= take;
    n -= take;
    if (sent_ == blocks_.front().size()) {
      blocks_.pop_front();
      sent_ = 0;
    }
  }
  if (queued_ == 0 && staging_.empty() && staging_.capacity() > 0) staging_ = std::string();
  if (phase_ == Phase::kOpen) read_plaintext(now);
  settle();
}

void TlsConnection::on_write_failed() {
  close_now();
}

void TlsConnection::on_peer_eof(uint64_t now, bool failed) {
  now_ = now;
  if (driver_ && (phase_ == Phase::kOpen || phase_ == Phase::kShutdown)) {
    driver_->on_peer_eof(now, failed);
  } else {
    phase_ = Phase::kClosed;
  }
  settle();
}

void TlsConnection::on_time(uint64_t now) {
  now_ = now;
  if (phase_ == Phase::kHandshake && now >= start_ms_ + limits_.handshake_ms) return close_now();
  if (write_waiting_since_ != 0 && now >= write_waiting_since_ + limits_.write_ms) {
    return close_now();
  }
  if (driver_ && (phase_ == Phase::kOpen || phase_ == Phase::kShutdown)) driver_->on_time(now);
  if (phase_ == Phase::kOpen) read_plaintext(now);
  settle();
}

bool TlsConnection::wants_read() const {
  switch (phase_) {
    case Phase::kHandshake:
    case Phase::kShutdown:
    case Phase::kFailed:
      return true;  // the handshake; or read and drop while closing
    case Phase::kOpen:
      return driver_->wants_read();
    case Phase::kHandOff:
    case Phase::kClosed:
      return false;
  }
  return false;
}

bool TlsConnection::wants_write() const {
  return queued_ > 0 || !staging_.empty() || (phase_ == Phase::kOpen && driver_->wants_write());
}

std::optional<uint64_t> TlsConnection::next_wakeup_ms() const {
  std::optional<uint64_t> due;
  if (phase_ == Phase::kHandshake) due = start_ms_ + limits_.handshake_ms;
  if (driver_ && (phase_ == Phase::kOpen || phase_ == Phase::kShutdown)) {
    due = driver_->next_wakeup_ms();
  }
  if (write_waiting_since_ != 0) {
    const uint64_t at = write_waiting_since_ + limits_.write_ms;
    due = due ? std::min(*due, at) : at;
  }
  return due;
}

void TlsConnection::drain(uint64_t now) {
  now_ = now;
  if (phase_ == Phase::kHandshake) {
    drain_requested_ = true;  // the handshake may carry a request on its way: serve it, then drain
    return;
  }
  if (phase_ == Phase::kOpen) driver_->drain(now);
  settle();
}

void TlsConnection::close_now() {
  if (driver_) driver_->close_now();
  phase_ = Phase::kClosed;
}

void TlsConnection::fail() {
  ERR_clear_error();
  if (driver_) driver_->close_now();
  phase_ = queued_ > 0 ? Phase::kFailed : Phase::kClosed;  // an alert to send first
}

// The driver's end becomes TLS's: its kLingering queues close_notify (RFC 8446 §6.1) before the
// runtime shuts the write side; its kClosed closes.
void TlsConnection::settle() {
  if (phase_ == Phase::kOpen) {
    const State inner = driver_->state();
    if (inner == State::kLingering) {
      if (!staging_.empty()) flush_staging();  // the last bytes before close_notify
      SSL_shutdown(ssl_);
      ERR_clear_error();
      phase_ = Phase::kShutdown;
    } else if (inner == State::kClosed) {
      phase_ = Phase::kClosed;
    }
  }
  if (phase_ == Phase::kShutdown && driver_->state() == State::kClosed) phase_ = Phase::kClosed;
  if (phase_ == Phase::kFailed && queued_ == 0) phase_ = Phase::kClosed;
}

void TlsConnection::append_output(const char* data, size_t size) {
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < size) {
    blocks_.emplace_back();
    blocks_.back().reserve(std::max(kBlockSize, size));
  }
  blocks_.back().append(data, size);
  queued_ += size;
}

}  // namespace h2::tls
