// Ranking metrics on hand-worked examples (values computed by hand from the definitions in
// tessera/recsys/metrics.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "tessera/common/error.hpp"
#include "tessera/recsys/metrics.hpp"

using namespace tessera::recsys;

TEST_CASE("recsys metrics: test-item ranking, both DCG forms, both averages") {
  // user 0: ranking item0 (rel 1), item3 (1), item2 (0), item1 (0)
  // user 1: ranking item1 (0), item2 (1), item0 (0)
  // user 2: one test item, not relevant
  // user 3: tie between items 5 and 6 -> item 5 (rel 0) ranked first
  const arma::uvec users{0, 0, 0, 0, 1, 1, 1, 2, 3, 3};
  const arma::uvec items{0, 1, 2, 3, 0, 1, 2, 4, 6, 5};
  const arma::vec scores{0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.5, 0.3, 0.4, 0.4};
  const arma::vec rel{1, 0, 0, 1, 0, 0, 1, 0, 1, 0};
  metric_options o;
  o.k = {1, 3};
  const metric_table t = rank_metrics_test_items(users, items, scores, rel, o);
  CHECK(t.n_users == 4);
  CHECK(t.n_users_relevant == 3);
  const double l3 = 1.0 / std::log2(3.0);
  // per user @1: dcg 1, 0, -, 0; recall .5, 0, -, 0; ap .5, 0, -, 0
  CHECK(t.dcg(0) == doctest::Approx(1.0 / 3));
  CHECK(t.recall(0) == doctest::Approx(0.5 / 3));
  CHECK(t.map(0) == doctest::Approx(0.5 / 3));
  CHECK(t.dcg_all(0) == doctest::Approx(1.0 / 4));
  // per user @3: dcg 1 + l3, l3, -, l3 (user 3's relevant item 6 is at rank 2)
  CHECK(t.dcg(1) == doctest::Approx((1 + l3 + l3 + l3) / 3));
  CHECK(t.recall(1) == doctest::Approx(1.0));
  // ap @3: user0 (1 + 2/2)/2 = 1, user1 (1/2)/1 = .5, user3 (1/2)/1 = .5
  CHECK(t.map(1) == doctest::Approx(2.0 / 3));
  CHECK(t.map_all(1) == doctest::Approx(2.0 / 4));
  CHECK(t.recall_all(1) == doctest::Approx(3.0 / 4));

  o.dcg = dcg_form::reference;  // weights 1, 1, 1/log2(3), ...
  const metric_table r = rank_metrics_test_items(users, items, scores, rel, o);
  CHECK(r.dcg(1) == doctest::Approx((2.0 + 1.0 + 1.0) / 3));
  CHECK(r.dcg(0) == doctest::Approx(t.dcg(0)));
}

TEST_CASE("recsys metrics: graded relevance and the relevance threshold") {
  const arma::uvec users{0, 0, 0};
  const arma::uvec items{0, 1, 2};
  const arma::vec scores{3, 2, 1};
  const arma::vec rel{0.001, 1.0, 0.001};
  metric_options o;
  o.k = {1, 2};
  o.relevant_threshold = 0.5;
  const metric_table t = rank_metrics_test_items(users, items, scores, rel, o);
  CHECK(t.dcg(0) == doctest::Approx(0.001));
  CHECK(t.dcg(1) == doctest::Approx(0.001 + 1.0 / std::log2(3.0)));
  CHECK(t.recall(1) == doctest::Approx(1.001 / 1.002));
  CHECK(t.map(0) == doctest::Approx(0.0));
  CHECK(t.map(1) == doctest::Approx(0.5));
}

TEST_CASE("recsys metrics: whole-catalogue ranking with excluded training items") {
  const arma::mat S{{0.1, 0.9, 0.8, 0.3, 0.5}, {0.5, 0.4, 0.3, 0.2, 0.1}};
  arma::sp_mat exclude(2, 5);
  exclude(0, 1) = 1;  // user 0's training click, ranked first otherwise
  exclude(1, 0) = 1;  // user 1's training click is also its relevant test item
  const arma::uvec users{0, 0, 1};
  const arma::uvec items{2, 3, 0};
  const arma::vec rel{1, 1, 1};
  metric_options o;
  o.k = {1, 3};
  const auto scores_of = [&](arma::uword u) { return arma::rowvec(S.row(u)); };
  const metric_table t = rank_metrics_catalogue(users, items, rel, 2, 5, scores_of, exclude, o);
  // user 0: item2 (1), item4 (0), item3 (1); user 1: item 0 excluded, nothing relevant ranked
  CHECK(t.n_users_relevant == 2);
  CHECK(t.dcg(0) == doctest::Approx(0.5));
  CHECK(t.dcg(1) == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(t.recall(0) == doctest::Approx(0.25));
  CHECK(t.map(1) == doctest::Approx((1.0 + 2.0 / 3.0) / 2 / 2));
  // without exclusion user 0's top item is 1 (not relevant)
  const metric_table u = rank_metrics_catalogue(users, items, rel, 2, 5, scores_of, arma::sp_mat(), o);
  CHECK(u.dcg(0) == doctest::Approx(0.5));  // user 1 now ranks item 0 first
  CHECK(u.recall(1) == doctest::Approx((0.5 + 1.0) / 2));
}

TEST_CASE("recsys metrics: bad input") {
  const arma::uvec u{0, 0}, i{1, 1};
  const arma::vec s{1, 2}, r{1, 0};
  CHECK_THROWS_WITH_AS(rank_metrics_test_items(u, i, s, r), doctest::Contains("more than once"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(rank_metrics_test_items(u, arma::uvec{1, 2}, s, arma::vec{1, -1}),
                       doctest::Contains("`relevance`"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(rank_metrics_test_items(u, arma::uvec{1, 2}, arma::vec{1, arma::datum::nan}, r),
                       doctest::Contains("`scores`"), tessera::invalid_argument);
  metric_options o;
  o.k = {0};
  CHECK_THROWS_WITH_AS(rank_metrics_test_items(u, arma::uvec{1, 2}, s, r, o), doctest::Contains("`k`"),
                       tessera::invalid_argument);
  const auto f = [](arma::uword) { return arma::rowvec(3, arma::fill::zeros); };
  CHECK_THROWS_WITH_AS(rank_metrics_catalogue(u, arma::uvec{1, 7}, r, 1, 3, f), doctest::Contains("outside"),
                       tessera::invalid_argument);
}
