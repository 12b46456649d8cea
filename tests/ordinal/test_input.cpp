// Bad input: each entry point, each kind of bad input, the error text.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "ordinal/helpers.hpp"

using namespace tessera;
using namespace tessera::ordinal;

namespace {

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const tessera::invalid_argument& e) {
    return e.what();
  }
  return "(no tessera::invalid_argument thrown)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("bad input to fit_presto, cv_presto and the baselines") {
  rng_engine rng = make_rng(3);
  const arma::mat X = draw_normal(rng, 40, 2);
  arma::uvec y(40);
  for (arma::uword i = 0; i < 40; ++i) y(i) = i % 4;

  CHECK(contains(message_of([&] { arma::uvec y2 = y; y2.elem(arma::find(y > 1)).fill(1); fit_presto(X, y2, 2); }), "at least 3 ordered levels"));
  arma::uvec y_empty = y;
  y_empty.elem(arma::find(y == 2)).fill(1);
  CHECK(contains(message_of([&] { fit_presto(X, y_empty, 4); }), "empty levels (3)"));
  arma::mat Xn = X;
  Xn(5, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK(contains(message_of([&] { fit_presto(Xn, y, 4); }), "`x` must contain only finite values"));
  arma::mat Xi = X;
  Xi(2, 0) = std::numeric_limits<double>::infinity();
  CHECK(contains(message_of([&] { fit_presto(Xi, y, 4); }), "infinite"));
  arma::mat Xc = X;
  Xc.col(1).fill(3.0);
  CHECK(contains(message_of([&] { fit_presto(Xc, y, 4); }), "column 2"));
  CHECK(contains(message_of([&] { fit_presto(X.head_rows(3), arma::uvec{0, 1, 2}, 4); }),
                 "at least as many rows"));
  CHECK(contains(message_of([&] { fit_presto(X, arma::uvec(y.head(10)), 4); }), "one value per row"));
  CHECK(contains(message_of([&] { fit_presto(X, y, 3); }), "class codes 0..2"));
  presto_options bad;
  bad.lambda = {0.1, -1.0};
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, bad); }), "`lambda` must hold finite values >= 0"));
  bad = {};
  bad.alpha = 1.5;
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, bad); }), "`alpha` must lie in [0, 1]"));
  bad = {};
  bad.block_factors = {1.0, 1.0};
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, bad); }), "`block_factors` must have one value per threshold (3)"));
  bad.block_factors = {1.0, -1.0, 1.0};
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, bad); }), "`block_factors` must be >= 0"));
  bad = {};
  bad.lambda_min_ratio = 0;
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, bad); }), "lambda_min_ratio"));
  CHECK(contains(message_of([&] { fit_presto(X, y, 4, {}, arma::vec(40, arma::fill::zeros)); }),
                 "`weights` must be positive"));

  // A level too rare for the folds.
  arma::uvec y_rare = y;
  y_rare.elem(arma::find(y == 3)).fill(2);
  y_rare(0) = 3;
  y_rare(1) = 3;
  cv_options cvo;
  CHECK(contains(message_of([&] { cv_presto(X, y_rare, 4, {}, cvo); }),
                 "level 4 of `y` has only 2 observations, fewer than nfolds = 5"));
  cvo.nfolds = 1;
  CHECK(contains(message_of([&] { cv_presto(X, y, 4, {}, cvo); }), "`nfolds` must be at least 2"));
  cvo.nfolds = 5;
  cvo.threads = 0;
  CHECK(contains(message_of([&] { cv_presto(X, y, 4, {}, cvo); }), "`threads`"));

  CHECK(contains(message_of([&] { fit_proportional_odds(Xc, y, 4); }), "column 2"));
  CHECK(contains(message_of([&] { fit_separate_logits(X, y_empty, 4); }), "empty levels"));
  CHECK(contains(message_of([&] { predict_link(arma::vec{0.0, 1.0}, arma::mat(3, 2), X); }),
                 "`x` must have 3 columns"));
}
