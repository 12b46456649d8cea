#include "tessera/common/rng.hpp"

#include <utility>

namespace tessera {

std::uint64_t mix_seed(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  return mix_seed(mix_seed(seed) ^ mix_seed(stream + 0x632BE59BD9B4E019ULL));
}

rng_engine make_rng(std::uint64_t seed, std::uint64_t stream) {
  return rng_engine(derive_seed(seed, stream));
}

double draw_uniform(rng_engine& rng) { return boost::random::uniform_01<double>()(rng); }

double draw_uniform(rng_engine& rng, double lo, double hi) {
  if (!(hi > lo)) return lo;  // a degenerate interval (Boost's sampler would never return)
  return boost::random::uniform_real_distribution<double>(lo, hi)(rng);
}

double draw_normal(rng_engine& rng) { return boost::random::normal_distribution<double>()(rng); }

arma::mat draw_normal(rng_engine& rng, arma::uword n_rows, arma::uword n_cols) {
  arma::mat out(n_rows, n_cols);
  boost::random::normal_distribution<double> normal;
  for (double& v : out) v = normal(rng);
  return out;
}

long long draw_integer(rng_engine& rng, long long lo, long long hi) {
  return boost::random::uniform_int_distribution<long long>(lo, hi)(rng);
}

arma::uvec draw_permutation(rng_engine& rng, arma::uword n) {
  arma::uvec p = arma::regspace<arma::uvec>(0, n == 0 ? 0 : n - 1);
  if (n == 0) return arma::uvec();
  for (arma::uword i = n - 1; i > 0; --i) {
    const auto j = static_cast<arma::uword>(draw_integer(rng, 0, static_cast<long long>(i)));
    std::swap(p(i), p(j));
  }
  return p;
}

}  // namespace tessera
