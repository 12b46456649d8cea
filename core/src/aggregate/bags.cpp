#include "tessera/aggregate/bags.hpp"

#include <algorithm>
#include <cmath>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::aggregate {

std::string to_string(bag_scheme s) {
  switch (s) {
    case bag_scheme::random: return "random";
    case bag_scheme::grouping: return "grouping";
    default: return "given";
  }
}

bool bag_structure::equal_sizes() const {
  return sizes.n_elem == 0 || sizes.min() == sizes.max();
}

bag_structure bags_from_ids(const arma::uvec& ids, bag_scheme scheme) {
  require(ids.n_elem >= 1, "`bags` must have one id per row, but it is empty.");
  bag_structure out;
  out.scheme = scheme;
  out.ids = arma::unique(ids);  // sorted
  out.bag.set_size(ids.n_elem);
  out.sizes.zeros(out.ids.n_elem);
  for (arma::uword i = 0; i < ids.n_elem; ++i) {
    const auto pos = static_cast<arma::uword>(
        std::lower_bound(out.ids.begin(), out.ids.end(), ids(i)) - out.ids.begin());
    out.bag(i) = pos;
    ++out.sizes(pos);
  }
  return out;
}

bag_structure random_bags(arma::uword n, arma::uword k, std::uint64_t seed) {
  require(n >= 1, "`n` must be at least 1.");
  require(k >= 1 && k <= n, "`k` (the bag size) must lie in [1, n] = [1, " + std::to_string(n) +
                                "], not " + std::to_string(k) + ".");
  rng_engine rng = make_rng(seed);
  const arma::uvec perm = draw_permutation(rng, n);
  arma::uvec ids(n);
  for (arma::uword j = 0; j < n; ++j) ids(perm(j)) = j / k;
  bag_structure out = bags_from_ids(ids, bag_scheme::random);
  return out;
}

arma::vec bag_means(const arma::vec& y, const bag_structure& bags) {
  require(y.n_elem == bags.n_rows(), "`y` must have one value per row (" +
                                         std::to_string(bags.n_rows()) + "), but it has " +
                                         std::to_string(y.n_elem) + ".");
  check_finite(y, "y");
  arma::vec s(bags.n_bags(), arma::fill::zeros);
  for (arma::uword i = 0; i < y.n_elem; ++i) s(bags.bag(i)) += y(i);
  return s / arma::conv_to<arma::vec>::from(bags.sizes);
}

arma::vec align_aggregates(const bag_structure& bags, const arma::uvec& aggregate_ids,
                           const arma::vec& values, const std::string& name) {
  require(aggregate_ids.n_elem == values.n_elem,
          "`" + name + "` must have one value per aggregate id: got " +
              std::to_string(values.n_elem) + " values and " +
              std::to_string(aggregate_ids.n_elem) + " ids.");
  check_finite(values, name);
  arma::vec out(bags.n_bags());
  arma::uvec seen(bags.n_bags(), arma::fill::zeros);
  for (arma::uword j = 0; j < aggregate_ids.n_elem; ++j) {
    const auto it = std::lower_bound(bags.ids.begin(), bags.ids.end(), aggregate_ids(j));
    require(it != bags.ids.end() && *it == aggregate_ids(j), [&] {
      return "`" + name + "` has an aggregate for bag id " + std::to_string(aggregate_ids(j)) +
             " that has no rows: drop it or add that bag's rows.";
    });
    const auto a = static_cast<arma::uword>(it - bags.ids.begin());
    require(seen(a) == 0, [&] {
      return "`" + name + "` has two aggregates for bag id " + std::to_string(aggregate_ids(j)) +
             ": give one per bag.";
    });
    seen(a) = 1;
    out(a) = values(j);
  }
  for (arma::uword a = 0; a < bags.n_bags(); ++a)
    require(seen(a) == 1, [&] {
      return "bag id " + std::to_string(bags.ids(a)) + " has rows but no aggregate in `" + name +
             "`: supply one aggregate per bag or drop its rows.";
    });
  return out;
}

arma::vec means_from_sums(const bag_structure& bags, const arma::vec& sums, const arma::vec& sizes) {
  require(sums.n_elem == bags.n_bags() && sizes.n_elem == bags.n_bags(),
          "`sums` and `sizes` must have one entry per bag (" + std::to_string(bags.n_bags()) + ").");
  check_finite(sums, "sums");
  check_finite(sizes, "sizes");
  for (arma::uword a = 0; a < sizes.n_elem; ++a) {
    require(sizes(a) > 0, [&] {
      return "`sizes` must be positive, but bag id " + std::to_string(bags.ids(a)) + " has size " +
             format_number(sizes(a)) + ".";
    });
    require(sizes(a) == static_cast<double>(bags.sizes(a)), [&] {
      return "`sizes` says bag id " + std::to_string(bags.ids(a)) + " has " + format_number(sizes(a)) +
             " members but it has " + std::to_string(bags.sizes(a)) + " rows: give every member's features.";
    });
  }
  return sums / sizes;
}

arma::uvec assign_folds(arma::uword m, arma::uword K, std::uint64_t seed) {
  require(K >= 1 && K <= m, "the number of folds must lie in [1, number of bags].");
  rng_engine rng = make_rng(seed);
  const arma::uvec perm = draw_permutation(rng, m);
  arma::uvec fold(m);
  for (arma::uword j = 0; j < m; ++j) fold(perm(j)) = j % K;
  return fold;
}

}  // namespace tessera::aggregate
