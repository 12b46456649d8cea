#include "tessera/privacy/random.hpp"

#include <random>

#include <boost/random/normal_distribution.hpp>

#include "tessera/common/error.hpp"

#if defined(__linux__)
#include <sys/random.h>
#include <cerrno>
#endif

namespace tessera::privacy {

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t user, std::uint64_t round) {
  return derive_seed(derive_seed(seed, round), user);
}

noise_source noise_source::os_entropy() {
  noise_source s(false, 0);
  s.buffer_.resize(512);
  s.used_ = s.buffer_.size();
  return s;
}

noise_source noise_source::seeded(std::uint64_t seed, std::uint64_t user, std::uint64_t round) {
  return noise_source(true, stream_seed(seed, user, round));
}

noise_source::result_type noise_source::operator()() {
  if (seeded_) return engine_();
  if (used_ == buffer_.size()) {
#if defined(__linux__)
    auto* bytes = reinterpret_cast<unsigned char*>(buffer_.data());
    std::size_t want = buffer_.size() * sizeof(std::uint64_t), got = 0;
    while (got < want) {
      const ssize_t r = getrandom(bytes + got, want - got, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw numerical_error("the operating system's random generator (getrandom) failed; "
                              "secure privacy noise cannot be drawn on this machine.");
      }
      got += static_cast<std::size_t>(r);
    }
#else
    std::random_device dev;
    for (auto& w : buffer_) w = (static_cast<std::uint64_t>(dev()) << 32) ^ dev();
#endif
    used_ = 0;
  }
  return buffer_[used_++];
}

double noise_source::uniform_open0() {
  // (k + 1) / 2^53 for k uniform on [0, 2^53): in (0, 1].
  return (static_cast<double>((*this)() >> 11) + 1.0) * 0x1.0p-53;
}

double noise_source::normal() { return boost::random::normal_distribution<double>()(*this); }

}  // namespace tessera::privacy
