#include "tessera/aggregate/dp.hpp"

#include <boost/random/laplace_distribution.hpp>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::aggregate {

dp_release dp_aggregate(const arma::vec& y, const bag_structure& bags, double epsilon, double clip,
                        std::uint64_t seed) {
  check_positive(epsilon, "epsilon");
  check_positive(clip, "clip");
  require(y.n_elem == bags.n_rows(), "`y` must have one response per row of `bags` (" +
                                         std::to_string(bags.n_rows()) + "), but it has " +
                                         std::to_string(y.n_elem) + ".");
  check_finite(y, "y");
  dp_release out;
  out.epsilon = epsilon;
  out.clip = clip;
  const arma::vec yc = arma::clamp(y, -clip, clip);
  out.n_clipped = arma::accu(yc != y);
  out.y_bag = bag_means(yc, bags);
  out.scale = (2.0 * clip / epsilon) / arma::conv_to<arma::vec>::from(bags.sizes);
  rng_engine rng = make_rng(seed);
  for (arma::uword a = 0; a < out.y_bag.n_elem; ++a)
    out.y_bag(a) += boost::random::laplace_distribution<double>(0.0, out.scale(a))(rng);
  return out;
}

}  // namespace tessera::aggregate
