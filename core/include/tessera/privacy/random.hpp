#pragma once
// Randomness for privacy noise.
//
// Two kinds of source, one interface (a UniformRandomBitGenerator of 64-bit words, so
// Boost.Random distributions accept it):
// * os_entropy(): a cryptographically secure source for deployments. On Linux every word
//   comes from the kernel's CSPRNG through getrandom(2) (ChaCha20, reseeded by the
//   kernel), read in blocks of 4096 bytes; elsewhere from std::random_device, which on
//   the supported platforms is backed by the OS (/dev/urandom, BCryptGenRandom,
//   arc4random). Nothing is seeded by the program, so nothing can be replayed.
//   This is the default of every estimator in this module.
// * seeded(seed, user, round): a reproducible source for simulations and tests (a
//   Mersenne Twister, NOT secure: its state can be recovered from its output). The
//   stream of user u in round t is make_rng(stream_seed(seed, user, round)), a distinct
//   derived seed per (user, round), so no two users or rounds ever share noise
//   (reusing one seed across mechanisms correlates the noise and voids the guarantee;
//   diffprivlib #31, tensorflow/privacy #349).
#include <cstdint>
#include <limits>
#include <vector>

#include "tessera/common/rng.hpp"

namespace tessera::privacy {

// The seed of (user, round) under a master seed: derive_seed(derive_seed(seed, round), user).
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t user, std::uint64_t round);

class noise_source {
 public:
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  // The OS's cryptographically secure generator (see above).
  static noise_source os_entropy();
  // The reproducible stream of (user, round) under `seed`.
  static noise_source seeded(std::uint64_t seed, std::uint64_t user, std::uint64_t round);

  result_type operator()();

  bool is_seeded() const { return seeded_; }
  // The derived seed of a seeded source (0 for os_entropy()).
  std::uint64_t seed() const { return seed_; }

  // U(0, 1] with 53 random bits (never 0, so log() is finite).
  double uniform_open0();
  // Standard normal (Boost's ziggurat), for directions (Duchi) and continuous noise.
  double normal();

 private:
  noise_source(bool seeded, std::uint64_t seed) : seeded_(seeded), seed_(seed), engine_(seed) {}
  bool seeded_ = false;
  std::uint64_t seed_ = 0;
  rng_engine engine_;
  std::vector<std::uint64_t> buffer_;  // OS words not yet used (os_entropy only)
  std::size_t used_ = 0;
};

}  // namespace tessera::privacy
