// Robustness: random (mostly malformed) frame sequences mixed with valid requests never crash
// the connection, never make it emit an undecodable frame, and every failure it reports is a
// proper GOAWAY or RST_STREAM (RFC 9113 §5.4). Run under -fsanitize=address,undefined in CI
// builds that enable it; deterministic seeds.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Reqd;

std::string random_payload(std::mt19937& rng, size_t max) {
  std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Reads a body to its end; the callbacks own the buffer, so nothing dangles.
void read_all(Reqd r, std::shared_ptr<std::string> body) {
  r.schedule_read(
      [r, body](std::string_view d) {
        body->append(d);
        read_all(r, body);
      },
      [] {});
}

TEST(Robustness, RandomFrameSequencesNeverBreakTheConnection) {
  size_t goaways = 0, resets = 0, responses = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Harness h(SplitMode{seed});
    h.options.max_concurrent_streams = 8;
    h.handler.respond = [&rng](Reqd& r) {
      switch (rng() % 4) {
        case 0:
          r.respond_with_string({200, {}}, std::string(rng() % 70000, 'b'));
          break;
        case 1: {
          auto w = r.respond_with_streaming({200, {}});
          w.write(std::string(rng() % 3000, 'w'));
          if (rng() % 2) w.close();
          break;
        }
        case 2:
          read_all(r, std::make_shared<std::string>());
          break;
        default:
          break;  // never answered
      }
    };
    h.handshake();
    for (int i = 0; i < 60 && h.conn().wants_read(); ++i) {
      FrameBuilder b;
      // Mostly streams already opened (any state), sometimes 0 or an idle one.
      uint32_t stream = 2 * std::uniform_int_distribution<uint32_t>(0, i + 1)(rng) + 1;
      if (rng() % 10 == 0) stream = static_cast<uint32_t>(rng() % 4);
      uint32_t next_id = 2 * static_cast<uint32_t>(i) + 1;
      switch (rng() % 40) {
        case 20:
        case 21:
        case 22:
        case 23:
        case 24:
        case 25:
        case 26:
        case 27:
        case 28:
        case 29:
        case 30:
        case 31:
        case 32:
        case 33:
        case 34:
        case 35:
        case 36:
        case 37:
        case 38:
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 6:
        case 7:
        case 8:
        case 9:
          h.request(next_id, Harness::get_fields(), rng() % 2);  // valid, ids increasing
          break;
        case 10:
        case 11:
        case 12:
          b.data(stream | 1, random_payload(rng, 100), rng() % 2);
          break;
        case 13:
        case 14:
          b.window_update(stream, static_cast<uint32_t>(rng() % 100000));
          break;
        case 15:
        case 16:
          b.rst_stream(stream | 1, static_cast<ErrorCode>(rng() % 14));
          break;
        case 17:
          b.priority(stream, static_cast<uint32_t>(rng() % 14));
          break;
        default:
          b.raw(static_cast<uint8_t>(rng() % 12), static_cast<uint8_t>(rng()), stream,
                random_payload(rng, 30));
          break;
      }
      if (b.size() > 0) h.feed(b);
      auto out = h.drain();  // the harness decodes (and so checks) every frame we send
      goaways += count_frames(out, FrameType::kGoaway);
      resets += count_frames(out, FrameType::kRstStream);
      responses += count_frames(out, FrameType::kHeaders);
      if (::testing::Test::HasFailure()) return;
    }
    h.handler.requests.clear();
  }
  // The sequences must actually reach all three outcomes.
  EXPECT_GT(goaways, 50u);
  EXPECT_GT(resets, 100u);
  EXPECT_GT(responses, 500u);
  std::printf("random sequences: %zu GOAWAY, %zu RST_STREAM, %zu response heads\n", goaways, resets,
              responses);
}

}  // namespace
}  // namespace h2::test
