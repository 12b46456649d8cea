#include "tessera/aggregate/dp.hpp"

#include <map>

#include "tessera/common/validate.hpp"
#include "tessera/privacy/mechanisms.hpp"
#include "tessera/privacy/random.hpp"

namespace tessera::aggregate {

dp_release dp_aggregate(const arma::vec& y, const bag_structure& bags, double epsilon, double clip,
                        std::optional<std::uint64_t> seed) {
  check_positive(epsilon, "epsilon");
  check_positive(clip, "clip");
  require(y.n_elem == bags.n_rows(), "`y` must have one response per row of `bags` (" +
                                         std::to_string(bags.n_rows()) + "), but it has " +
                                         std::to_string(y.n_elem) + ".");
  check_finite(y, "y");
  dp_release out;
  out.epsilon = epsilon;
  out.clip = clip;
  out.seeded = seed.has_value();
  out.sampler = out.seeded
                    ? "seeded stream (Mersenne twister; reproducible, NOT cryptographically secure: "
                      "simulations only), discrete Laplace on a power-of-two grid"
                    : "operating system's cryptographically secure generator, discrete Laplace on a "
                      "power-of-two grid";
  const arma::vec yc = arma::clamp(y, -clip, clip);
  out.n_clipped = arma::accu(yc != y);
  const arma::vec means = bag_means(yc, bags);
  privacy::noise_source src =
      seed ? privacy::noise_source::seeded(*seed, 0, 0) : privacy::noise_source::os_entropy();
  // One scalar Laplace mechanism per distinct bag size (sensitivity 2C/|B_a|).
  std::map<arma::uword, privacy::laplace_mechanism> mech;
  const arma::uword m = bags.n_bags();
  out.y_bag.set_size(m);
  out.scale.set_size(m);
  out.grid.set_size(m);
  for (arma::uword a = 0; a < m; ++a) {
    const arma::uword k = bags.sizes(a);
    auto it = mech.find(k);
    if (it == mech.end())
      it = mech.emplace(k, privacy::laplace_mechanism(2.0 * clip / static_cast<double>(k), 1, epsilon))
               .first;
    out.y_bag(a) = it->second.release(arma::vec{means(a)}, src)(0);
    out.scale(a) = it->second.scale();
    out.grid(a) = it->second.grid();
  }
  return out;
}

}  // namespace tessera::aggregate
