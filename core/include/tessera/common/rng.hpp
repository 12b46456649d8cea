#pragma once
// Seeded, portable random numbers. Every randomised routine takes a uint64_t seed and
// draws from its own generator; Boost.Random distributions give the same stream on
// every compiler (std:: distributions do not). Parallel work derives one generator per
// task from (seed, task index), so results do not depend on the thread count.
#include <cstdint>

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>

#include "tessera/common/arma.hpp"

namespace tessera {

using rng_engine = boost::random::mt19937_64;

// SplitMix64 finaliser: a bijective 64-bit mix, used to decorrelate derived seeds.
std::uint64_t mix_seed(std::uint64_t x);

// The seed of sub-stream `stream` of `seed` (task index, user id, round ...).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

// A generator for (seed, stream).
rng_engine make_rng(std::uint64_t seed, std::uint64_t stream = 0);

// Convenience draws.
double draw_uniform(rng_engine& rng);                    // U(0, 1)
double draw_uniform(rng_engine& rng, double lo, double hi);  // lo when hi <= lo
double draw_normal(rng_engine& rng);                     // N(0, 1)
arma::mat draw_normal(rng_engine& rng, arma::uword n_rows, arma::uword n_cols);
// Uniform integer in [lo, hi].
long long draw_integer(rng_engine& rng, long long lo, long long hi);
// A uniformly random permutation of 0..n-1 (Fisher-Yates).
arma::uvec draw_permutation(rng_engine& rng, arma::uword n);

}  // namespace tessera
