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
// The noise is drawn from a seeded Mersenne twister (Boost's laplace_distribution), which is
// reproducible but NOT a cryptographically secure source: fine for studies, not for a real
// release (the privacy module's secure sampler should replace it when it exists).
#include <cstdint>
#include <string>

#include "tessera/aggregate/bags.hpp"
#include "tessera/common/arma.hpp"

namespace tessera::aggregate {

struct dp_release {
  arma::vec y_bag;          // released noisy means, dense bag order
  arma::vec scale;          // Laplace scale per bag, 2C / (|B_a| eps)
  double epsilon = 0;
  double clip = 0;
  arma::uword n_clipped = 0;  // individual responses moved by the clipping
  std::string clipping = "individual responses clipped to [-C, C] before averaging";
  std::string neighbours = "replace-one individual response (features and bags public)";
  std::string sampler = "seeded mt19937_64 Laplace sampler (reproducible, not cryptographically secure)";
};

// y: one response per row of `bags`; epsilon > 0 finite; clip > 0 finite.
dp_release dp_aggregate(const arma::vec& y, const bag_structure& bags, double epsilon, double clip,
                        std::uint64_t seed);

}  // namespace tessera::aggregate
