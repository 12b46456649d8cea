#pragma once
// Label differential privacy for aggregate responses.
//
// Mechanism (the paper's: truncate the responses, add Laplace noise to the aggregates;
// the accounting below is the note's derived version): each individual response is clipped
// to [-C, C]; each bag releases mean(clipped y) + Laplace(0, 2C / (|B_a| eps)).
// Neighbouring data sets differ in one individual's response (replace-one; features and bag
// memberships are public). One response moves its bag mean by at most 2C/|B_a| and no other
// bag's, so each bag's release is eps-DP (Laplace mechanism) and, the bags being disjoint, the
// whole vector of releases is eps-label-DP by parallel composition. Any model trained on the
// released aggregates and the public features is post-processing and stays eps-label-DP.
// Clipping is applied to individual responses (only this gives the 1/|B_a| sensitivity);
// C and eps come from the user, never from the data.
//
// Noise: the privacy module's secure Laplace mechanism (privacy/mechanisms.hpp), one
// scalar mechanism per bag with l1 sensitivity Delta_a = 2C/|B_a|. It releases on a grid
// g_a Z (g_a the largest power of two <= Delta_a/1024): the clipped mean is rounded to the
// grid and discrete Laplace noise added, so no floating-point low bits leak the input
// (Mironov 2012); the rounding moves neighbouring means apart by at most g_a more, so the
// scale is (Delta_a + g_a)/eps <= (1 + 1/1024) 2C/(|B_a| eps) (reported in `scale`). The
// guarantee is exactly eps-label-DP (discrete Laplace is exact for integer sensitivity in
// grid units; the sampler's probabilities are exact to double precision).
// Randomness (privacy/random.hpp): without a seed, the OS's cryptographically secure
// generator (the default for real releases; nothing can be replayed); with a seed, the
// reproducible stream noise_source::seeded(seed, 0, 0) (a Mersenne twister, NOT secure:
// for simulations only). The release records which (`seeded`, `sampler`).
#include <cstdint>
#include <optional>
#include <string>

#include "tessera/aggregate/bags.hpp"
#include "tessera/common/arma.hpp"

namespace tessera::aggregate {

struct dp_release {
  arma::vec y_bag;          // released noisy means, dense bag order
  arma::vec scale;          // Laplace scale per bag, (2C/|B_a| + grid_a) / eps
  arma::vec grid;           // the grid step g_a of each bag's release
  double epsilon = 0;
  double clip = 0;
  arma::uword n_clipped = 0;  // individual responses moved by the clipping
  std::string clipping = "individual responses clipped to [-C, C] before averaging";
  std::string neighbours = "replace-one individual response (features and bags public)";
  bool seeded = false;
  std::string sampler;
};

// y: one response per row of `bags`; epsilon > 0 finite; clip > 0 finite; seed empty: the
// OS's secure generator.
dp_release dp_aggregate(const arma::vec& y, const bag_structure& bags, double epsilon, double clip,
                        std::optional<std::uint64_t> seed = std::nullopt);

}  // namespace tessera::aggregate
