#include "tessera/causal/iv_ate.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <boost/math/distributions/normal.hpp>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::causal {

namespace {

const std::vector<std::string> kNuisanceNames = {"pi", "p0", "p1", "mu00", "mu10", "mu01", "mu11"};

std::string percent(double share) {
  std::ostringstream os;
  os.precision(3);
  os << 100 * share << "%";
  return os.str();
}

double normal_quantile(double level) {
  return boost::math::quantile(boost::math::normal(), 1 - (1 - level) / 2);
}

void set_interval(iv_ate_result& r, double level) {
  const double q = normal_quantile(level);
  r.level = level;
  r.ci_lower = r.estimate - q * r.se;
  r.ci_upper = r.estimate + q * r.se;
}

double sd(const arma::vec& v) { return v.n_elem > 1 ? arma::stddev(v) : 0.0; }

void validate_trim(const trim_options& t) {
  check_in_open(t.trim_pi, 0.0, 0.5, "trim_pi");
  check_in_open(t.trim_v, 0.0, 0.25, "trim_v");
  check_in_closed(t.max_weak_share, 0.0, 1.0, "max_weak_share");
}

// Structural arms: A constant within an instrument arm in the whole sample.
struct structure {
  bool constant[2] = {false, false};
  double value[2] = {0, 0};
};

structure arm_structure(const arma::vec& a, const arma::vec& z) {
  structure s;
  for (int arm = 0; arm < 2; ++arm) {
    const arma::vec aa = a(arma::find(z == arm));
    if (aa.min() == aa.max()) {
      s.constant[arm] = true;
      s.value[arm] = aa(0);
    }
  }
  return s;
}

void describe_structure(const structure& s, const arma::vec& a, const arma::vec& z, diagnostics& d) {
  d.arm_counts.set_size(4);
  for (int zz = 0; zz < 2; ++zz)
    for (int aa = 0; aa < 2; ++aa) d.arm_counts(2 * zz + aa) = arma::accu((z == zz) % (a == aa));
  for (int arm = 0; arm < 2; ++arm) {
    if (!s.constant[arm]) continue;
    d.one_sided = true;
    d.one_sided_arm = arm;
    d.one_sided_value = s.value[arm];
    std::ostringstream os;
    os << "one-sided noncompliance: A = " << s.value[arm] << " for every observation with Z = " << arm
       << ", so P(A = 1 | Z = " << arm << ", L) = " << s.value[arm] << " is a structural constant and v" << arm
       << " = 0. Then delta(L) = mu_1" << 1 - arm << " - mu_0" << 1 - arm
       << " and gamma(L) = 0: the additive treatment model forces A independent of U given L, so the "
          "estimate relies on no unmeasured confounding within the Z = "
       << 1 - arm << " arm.";
    d.warnings.push_back(os.str());
  }
}

// Throws when the ATE is not identified by the fitted nuisances; adds warnings otherwise.
void check_identification(const diagnostics& d, const trim_options& t) {
  if (d.share_weak > t.max_weak_share) {
    std::ostringstream os;
    os << "the ATE is not identified by this instrument: |v1 - v0| < trim_v = " << t.trim_v << " for "
       << percent(d.share_weak) << " of observations (more than max_weak_share = " << t.max_weak_share
       << "). v1 - v0 = (p1 - p0)(1 - p1 - p0) vanishes when the instrument does not move the treatment "
          "(p1 ~ p0 for "
       << percent(d.share_p_equal) << ") or when p1 + p0 ~ 1 (for " << percent(d.share_p_sum_one)
       << "). Use an instrument whose arms differ in Var(A | Z, L), or lower trim_v if the weak region is "
          "genuinely small.";
    throw invalid_argument(os.str());
  }
}

void add_warnings(diagnostics& d) {
  if (d.share_p_equal > 0.1)
    d.warnings.push_back("p1 is within 0.05 of p0 for " + percent(d.share_p_equal) +
                         " of observations: the instrument barely moves the treatment there.");
  if (d.share_p_sum_one > 0.1)
    d.warnings.push_back("p1 + p0 is within 0.05 of 1 for " + percent(d.share_p_sum_one) +
                         " of observations: v1 ~ v0 there even if the instrument is strong.");
  if (d.n_trim_v > 0)
    d.warnings.push_back(std::to_string(d.n_trim_v) + " observation(s) had |v1 - v0| truncated at trim_v.");
  if (d.n_trim_pi > 0)
    d.warnings.push_back(std::to_string(d.n_trim_pi) +
                         " observation(s) had the instrument propensity truncated at trim_pi (limited overlap).");
}

// Identification and overlap diagnostics from the instrument and treatment propensities.
diagnostics identification_diagnostics(const arma::vec& pi_raw, const arma::vec& p0, const arma::vec& p1,
                                       const trim_options& t) {
  diagnostics d;
  const double n = pi_raw.n_elem;
  d.v_diff = p1 % (1 - p1) - p0 % (1 - p0);
  const arma::vec av = arma::abs(d.v_diff);
  d.v_diff_quantiles = arma::quantile(av, arma::vec({0, .05, .25, .5, .75, .95, 1}));
  d.n_trim_v = arma::accu(av < t.trim_v);
  d.share_weak = d.n_trim_v / n;
  d.share_p_equal = arma::accu(arma::abs(p1 - p0) < 0.05) / n;
  d.share_p_sum_one = arma::accu(arma::abs(p1 + p0 - 1) < 0.05) / n;
  d.pi_min = pi_raw.min();
  d.pi_max = pi_raw.max();
  d.n_trim_pi = arma::accu((pi_raw < t.trim_pi) + (pi_raw > 1 - t.trim_pi));
  return d;
}

}  // namespace

void validate_iv_data(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x) {
  const arma::uword n = y.n_elem;
  require(n >= 4, "`y` must have at least 4 observations, not " + std::to_string(n) + ".");
  require(a.n_elem == n, "`a` must have the same length as `y` (" + std::to_string(n) + "), not " +
                             std::to_string(a.n_elem) + ".");
  require(z.n_elem == n, "`z` must have the same length as `y` (" + std::to_string(n) + "), not " +
                             std::to_string(z.n_elem) + ".");
  require(x.n_rows == n || (x.n_cols == 0), "`x` must have one row per observation (" + std::to_string(n) +
                                                "), not " + std::to_string(x.n_rows) + ".");
  check_finite(y, "y");
  check_finite(a, "a");
  check_finite(z, "z");
  check_finite(x, "x");
  for (arma::uword i = 0; i < n; ++i) {
    if (a(i) != 0 && a(i) != 1)
      throw invalid_argument("`a` (the treatment) must be binary 0/1, but entry " + std::to_string(i + 1) + " is " +
                             format_number(a(i)) + ".");
    if (z(i) != 0 && z(i) != 1)
      throw invalid_argument("`z` (the instrument) must be binary 0/1, but entry " + std::to_string(i + 1) + " is " +
                             format_number(z(i)) + ".");
  }
  require(a.min() != a.max(), "`a` (the treatment) is constant: the ATE needs treated and untreated units.");
  require(z.min() != z.max(), "`z` (the instrument) is constant: both instrument arms must be observed.");
  const double n1 = arma::accu(z), n0 = n - n1;
  require(n1 >= 2 && n0 >= 2, "`z` must have at least 2 observations in each arm (Z = 0: " +
                                  format_number(n0) + ", Z = 1: " + format_number(n1) + ").");
}

arma::vec pseudo_outcome(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& nu,
                         const trim_options& t, diagnostics* diag) {
  const arma::uword n = y.n_elem;
  require(nu.n_rows == n && nu.n_cols == 7, "`nuisance` must be n x 7 (pi, p0, p1, mu00, mu10, mu01, mu11).");
  arma::vec xi(n);
  for (arma::uword i = 0; i < n; ++i) {
    const double pi = std::min(std::max(nu(i, 0), t.trim_pi), 1 - t.trim_pi);
    const double p0 = nu(i, 1), p1 = nu(i, 2);
    const double v0 = p0 * (1 - p0), v1 = p1 * (1 - p1);
    const double c0 = v0 * (nu(i, 4) - nu(i, 3)), c1 = v1 * (nu(i, 6) - nu(i, 5));
    const double m0 = p0 * nu(i, 4) + (1 - p0) * nu(i, 3), m1 = p1 * nu(i, 6) + (1 - p1) * nu(i, 5);
    double d = v1 - v0;
    if (std::abs(d) < t.trim_v) d = d < 0 ? -t.trim_v : t.trim_v;
    const double delta = (c1 - c0) / d, gamma = (v1 * c0 - v0 * c1) / d;
    const double pz = z(i) == 1 ? p1 : p0, mz = z(i) == 1 ? m1 : m0;
    const double r = (a(i) - pz) * (y(i) - mz) - delta * (a(i) - pz) * (a(i) - pz) - gamma;
    xi(i) = delta + (z(i) - pi) / (pi * (1 - pi)) * r / d;
  }
  if (diag) *diag = identification_diagnostics(nu.col(0), nu.col(1), nu.col(2), t);
  return xi;
}

// ---------------------------------------------------------------------------------------
// Cross-fitting

namespace {

arma::vec call_learner(const learner& l, const std::string& nuisance, const arma::mat& x, const arma::vec& t,
                       const arma::mat& x_new, bool binary, std::uint64_t seed) {
  arma::vec out;
  try {
    require(static_cast<bool>(l.fit_predict), "it has no fit/predict function");
    out = l.fit_predict(x, t, x_new, binary, seed);
  } catch (const std::exception& e) {
    throw invalid_argument("learner '" + l.name + "' failed while fitting " + nuisance + ": " + e.what());
  }
  require(out.n_elem == x_new.n_rows, "learner '" + l.name + "' returned " + std::to_string(out.n_elem) +
                                          " predictions for " + nuisance + " but " +
                                          std::to_string(x_new.n_rows) + " were needed.");
  require(out.is_finite(), "learner '" + l.name + "' returned NaN or infinite predictions for " + nuisance + ".");
  if (binary)
    require(out.min() >= 0 && out.max() <= 1, "learner '" + l.name + "' returned probabilities outside [0, 1] for " +
                                                  nuisance + ".");
  return out;
}

struct nuisance_learners {
  const learner* pi;
  const learner* p;
  const learner* mu;
};

// Fits the nuisances on `train` and predicts them on `test`; returns test.n_elem x 7.
arma::mat fit_nuisances(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                        const arma::uvec& train, const arma::uvec& test, const nuisance_learners& L,
                        const structure& st, std::uint64_t seed, const std::string& where) {
  arma::mat out(test.n_elem, 7, arma::fill::zeros);
  const arma::mat xtr = x.rows(train), xte = x.rows(test);
  const arma::vec ztr = z(train), atr = a(train), ytr = y(train);
  require(ztr.min() != ztr.max(), "the training part of " + where +
                                      " has a single instrument level: use fewer folds.");
  out.col(0) = call_learner(*L.pi, "pi = P(Z=1|L)", xtr, ztr, xte, true, derive_seed(seed, 0));
  for (int arm = 0; arm < 2; ++arm) {
    const arma::uvec in = arma::find(ztr == arm);
    const std::string pname = "p" + std::to_string(arm) + " = P(A=1|Z=" + std::to_string(arm) + ",L)";
    const arma::vec aa = atr(in);
    if (st.constant[arm]) {
      out.col(1 + arm).fill(st.value[arm]);
    } else if (aa.min() == aa.max()) {
      out.col(1 + arm).fill(aa(0));  // constant by chance in this training part
    } else {
      out.col(1 + arm) = call_learner(*L.p, pname, xtr.rows(in), aa, xte, true, derive_seed(seed, 1 + arm));
    }
    for (int av = 0; av < 2; ++av) {
      const arma::uword col = 3 + 2 * arm + av;  // mu00, mu10, mu01, mu11
      if (st.constant[arm] && st.value[arm] != av) continue;  // a cell that never occurs
      const arma::uvec cell = arma::find((ztr == arm) % (atr == av));
      const std::string mname = "mu" + std::to_string(av) + std::to_string(arm) + " = E[Y|A=" +
                                std::to_string(av) + ",Z=" + std::to_string(arm) + ",L]";
      if (cell.n_elem < 2) {
        // A cell too small to learn from: only harmless if p_arm is ~ constant there.
        require(cell.n_elem > 0 || aa.min() == aa.max(),
                "cell (A=" + std::to_string(av) + ", Z=" + std::to_string(arm) + ") has fewer than 2 observations in "
                    "the training part of " + where + ": use fewer folds.");
        out.col(col).fill(cell.n_elem ? arma::mean(ytr(cell)) : 0.0);
        continue;
      }
      out.col(col) = call_learner(*L.mu, mname, xtr.rows(cell), ytr(cell), xte, false,
                                  derive_seed(seed, 3 + 2 * arm + av));
    }
  }
  return out;
}

arma::uvec cell_strata(const arma::vec& a, const arma::vec& z) { return arma::conv_to<arma::uvec>::from(a + 2 * z); }

arma::mat crossfit(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                   const arma::uvec& fold, int K, const nuisance_learners& L, const structure& st,
                   std::uint64_t seed, const runtime_context& ctx) {
  arma::mat nu(y.n_elem, 7);
  for (int k = 0; k < K; ++k) {
    ctx.check_interrupt();
    const arma::uvec te = arma::find(fold == static_cast<arma::uword>(k)), tr = arma::find(fold != static_cast<arma::uword>(k));
    nu.rows(te) = fit_nuisances(y, a, z, x, tr, te, L, st, derive_seed(seed, k), "fold " + std::to_string(k + 1));
    ctx.report_progress(k + 1, K);
  }
  return nu;
}

void validate_folds(int folds, arma::uword n) {
  check_at_least(folds, 2, "folds");
  require(static_cast<arma::uword>(folds) <= n / 2, "`folds` (" + std::to_string(folds) +
                                                        ") is too large for " + std::to_string(n) +
                                                        " observations: use at most n / 2.");
}

}  // namespace

iv_ate_result fit_mdml(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x_in,
                       const learner& pi_learner, const learner& p_learner, const learner& mu_learner,
                       const mdml_options& o, std::uint64_t seed, const runtime_context& ctx) {
  const arma::mat x = x_in.n_cols == 0 ? arma::mat(y.n_elem, 0) : x_in;
  validate_iv_data(y, a, z, x);
  validate_trim(o.trim);
  validate_folds(o.folds, y.n_elem);
  check_at_least(o.repeats, 1, "repeats");
  check_in_open(o.level, 0.0, 1.0, "level");
  const structure st = arm_structure(a, z);
  const nuisance_learners L{&pi_learner, &p_learner, &mu_learner};
  iv_ate_result r;
  r.method = "mdml";
  r.trim = o.trim;
  r.folds = o.folds;
  r.nuisance_names = kNuisanceNames;
  r.learner_names = {pi_learner.name, p_learner.name, mu_learner.name};
  arma::vec est(o.repeats), se(o.repeats);
  const double n = y.n_elem;
  for (int rep = 0; rep < o.repeats; ++rep) {
    const std::uint64_t s = derive_seed(seed, rep);
    const arma::uvec fold = glm::make_stratified_folds(cell_strata(a, z), o.folds, s);
    const arma::mat nu = crossfit(y, a, z, x, fold, o.folds, L, st, derive_seed(s, 1), ctx);
    diagnostics d;
    const arma::vec xi = pseudo_outcome(y, a, z, nu, o.trim, &d);
    if (rep == 0) {
      check_identification(d, o.trim);
      r.diag = d;
      r.nuisance = nu;
      r.nuisance.col(0) = arma::clamp(nu.col(0), o.trim.trim_pi, 1 - o.trim.trim_pi);
      r.pseudo_outcome = xi;
      r.fold_id = fold;
    }
    est(rep) = arma::mean(xi);
    se(rep) = sd(xi) / std::sqrt(n);
  }
  r.estimate = arma::median(est);
  r.se = arma::median(arma::sqrt(arma::square(se) + arma::square(est - r.estimate)));
  if (o.repeats > 1) r.replicates = est;
  describe_structure(st, a, z, r.diag);
  add_warnings(r.diag);
  set_interval(r, o.level);
  return r;
}

iv_ate_result fit_selective(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x_in,
                            const std::vector<learner>& pis, const std::vector<learner>& ps,
                            const std::vector<learner>& mus, const mdml_options& o, std::uint64_t seed,
                            const runtime_context& ctx) {
  const arma::mat x = x_in.n_cols == 0 ? arma::mat(y.n_elem, 0) : x_in;
  validate_iv_data(y, a, z, x);
  validate_trim(o.trim);
  validate_folds(o.folds, y.n_elem);
  require(!pis.empty() && !ps.empty() && !mus.empty(),
          "each nuisance (pi, p, mu) needs at least one candidate learner.");
  const structure st = arm_structure(a, z);
  const arma::uword n = y.n_elem, K = o.folds, C0 = pis.size(), C1 = ps.size(), C2 = mus.size();
  const arma::uvec fold = glm::make_stratified_folds(cell_strata(a, z), o.folds, derive_seed(seed, 1000));
  // Out-of-fold predictions of every candidate: pi (n x C0), p0/p1 (n x C1 each), mu (n x 4 per C2).
  arma::mat P_pi(n, C0), P_p0(n, C1), P_p1(n, C1);
  arma::cube P_mu(n, 4, C2);
  for (arma::uword k = 0; k < K; ++k) {
    ctx.check_interrupt();
    const arma::uvec te = arma::find(fold == k), tr = arma::find(fold != k);
    const std::uint64_t s = derive_seed(seed, 2000 + k);
    const std::string where = "validation fold " + std::to_string(k + 1);
    const arma::uword m = std::max({C0, C1, C2});
    for (arma::uword c = 0; c < m; ++c) {
      const nuisance_learners L{&pis[std::min(c, C0 - 1)], &ps[std::min(c, C1 - 1)], &mus[std::min(c, C2 - 1)]};
      const arma::mat nu = fit_nuisances(y, a, z, x, tr, te, L, st, s, where);
      for (arma::uword r = 0; r < te.n_elem; ++r) {
        if (c < C0) P_pi(te(r), c) = nu(r, 0);
        if (c < C1) {
          P_p0(te(r), c) = nu(r, 1);
          P_p1(te(r), c) = nu(r, 2);
        }
        if (c < C2)
          for (arma::uword j = 0; j < 4; ++j) P_mu(te(r), j, c) = nu(r, 3 + j);
      }
    }
    ctx.report_progress(k + 1, K);
  }
  // Fold-wise estimates of every tuple.
  const arma::uword T = C0 * C1 * C2;
  arma::umat tuples(T, 3);
  arma::mat psi_k(K, T);
  arma::vec pooled(T);
  auto index = [&](arma::uword i, arma::uword j, arma::uword l) { return (i * C1 + j) * C2 + l; };
  for (arma::uword i = 0; i < C0; ++i)
    for (arma::uword j = 0; j < C1; ++j)
      for (arma::uword l = 0; l < C2; ++l) {
        const arma::uword t = index(i, j, l);
        tuples(t, 0) = i;
        tuples(t, 1) = j;
        tuples(t, 2) = l;
        arma::mat nu(n, 7);
        nu.col(0) = P_pi.col(i);
        nu.col(1) = P_p0.col(j);
        nu.col(2) = P_p1.col(j);
        nu.cols(3, 6) = P_mu.slice(l);
        const arma::vec xi = pseudo_outcome(y, a, z, nu, o.trim, nullptr);
        pooled(t) = arma::mean(xi);
        for (arma::uword k = 0; k < K; ++k) psi_k(k, t) = arma::mean(xi(arma::find(fold == k)));
      }
  // Pseudo-risk (the note's adaptation): for each submodel M_j, hold the learners it needs
  // at the tuple and take the largest fold-averaged squared difference of the estimate over
  // pairs of the remaining learners. With learners for pi, p and mu (delta, gamma, b and m
  // are derived from p and mu) two submodels can be held: M1 = {p, gamma, delta} <- (p, mu)
  // held, pi varied; M3 = {pi, p} <- (pi, p) held, mu varied. M2 = {pi, b, delta} cannot:
  // b and delta depend on both the p and the mu learners, and holding (pi, mu) while varying
  // p is not an invariance (the bias term (delta - delta*)(D - D*)/D* moves with p), so it
  // is not a term of the criterion (session 1 summed it, which penalised correct tuples).
  auto range2 = [&](arma::uword t1, arma::uword t2) { return arma::mean(arma::square(psi_k.col(t1) - psi_k.col(t2))); };
  arma::vec pr(T, arma::fill::zeros);
  arma::mat terms(T, 2, arma::fill::zeros);
  for (arma::uword t = 0; t < T; ++t) {
    const arma::uword i = tuples(t, 0), j = tuples(t, 1), l = tuples(t, 2);
    double r_m1 = 0, r_m3 = 0;
    for (arma::uword c1 = 0; c1 < C0; ++c1)
      for (arma::uword c2 = c1 + 1; c2 < C0; ++c2) r_m1 = std::max(r_m1, range2(index(c1, j, l), index(c2, j, l)));
    for (arma::uword c1 = 0; c1 < C2; ++c1)
      for (arma::uword c2 = c1 + 1; c2 < C2; ++c2) r_m3 = std::max(r_m3, range2(index(i, j, c1), index(i, j, c2)));
    terms(t, 0) = r_m1;
    terms(t, 1) = r_m3;
    pr(t) = r_m1 + r_m3;
  }
  const arma::uword best = pr.index_min();
  iv_ate_result r = fit_mdml(y, a, z, x, pis[tuples(best, 0)], ps[tuples(best, 1)], mus[tuples(best, 2)], o,
                             derive_seed(seed, 3000), ctx);
  r.method = "selective";
  r.tuples = tuples;
  r.pseudo_risk = pr;
  r.tuple_estimate = pooled;
  r.tuple_fold_estimate = psi_k;
  r.pseudo_risk_terms = terms;
  r.selected = best;
  return r;
}

// ---------------------------------------------------------------------------------------
// Multiply robust estimator with parametric working models.

namespace {

double expit(double e) { return e >= 0 ? 1 / (1 + std::exp(-e)) : std::exp(e) / (1 + std::exp(e)); }

arma::vec expit(const arma::vec& e) {
  arma::vec out(e.n_elem);
  for (arma::uword i = 0; i < e.n_elem; ++i) out(i) = expit(e(i));
  return out;
}

// A logistic working model on [1, L] (possibly restricted to a subset of observations),
// with its ridge penalty if separation forced one.
struct logistic_model {
  bool structural = false;
  double constant = 0;
  arma::vec coef;       // on [1, L]
  arma::vec penalty;    // per-coefficient penalty multiplier: score_i - penalty % coef
  std::string message;
};

logistic_model fit_logistic(const arma::mat& x, const arma::vec& t, const arma::uvec& rows, arma::uword n,
                            const glm::fit_options& base, const std::string& name) {
  logistic_model m;
  glm::fit_options o = base;
  o.link = glm::family::binomial;
  o.lambda = 0;
  glm::glm_fit f;
  try {
    f = glm::fit(x.rows(rows), t(rows), {}, o);
  } catch (const std::exception& e) {
    throw invalid_argument("the " + name + " working model could not be fitted: " + std::string(e.what()));
  }
  m.coef = arma::join_vert(arma::vec{f.intercept}, f.beta);
  m.penalty.zeros(m.coef.n_elem);
  if (f.separation) {
    // Score of the penalised objective, per observation of the whole sample:
    // 1{row} x (t - mu) - (n_rows / n) lambda s_j^2 b_j  (intercept unpenalised).
    const double share = double(rows.n_elem) / n;
    for (arma::uword j = 0; j < f.beta.n_elem; ++j)
      m.penalty(1 + j) = share * f.lambda * f.x_scale(j) * f.x_scale(j);
    m.message = "the " + name + " working model: " + f.message;
  }
  return m;
}

struct mr_layout {
  arma::uword q = 0, qb = 0;
  arma::uword ia = 0, ik0 = 0, ik1 = 0, ib = 0, iw = 0, ir = 0, ipsi = 0, dim = 0;
  bool s0 = false, s1 = false;  // structural arms
  double c0 = 0, c1 = 0;
};

struct mr_data {
  const arma::vec &y, &a, &z;
  arma::mat Lt, Xb, AL;
  arma::vec pen_a, pen_k0, pen_k1;
  trim_options trim;
};

// Per-observation stacked estimating equations U (n x dim) at theta.
arma::mat mr_scores(const mr_data& d, const mr_layout& l, const arma::vec& th) {
  const arma::uword n = d.y.n_elem, q = l.q;
  arma::mat U(n, l.dim, arma::fill::zeros);
  const arma::vec al = th.subvec(l.ia, l.ia + q - 1);
  const arma::vec pi_raw = expit(d.Lt * al);
  const arma::vec pi = arma::clamp(pi_raw, d.trim.trim_pi, 1 - d.trim.trim_pi);
  U.cols(l.ia, l.ia + q - 1) = d.Lt.each_col() % (d.z - pi_raw);
  U.cols(l.ia, l.ia + q - 1).each_row() -= (d.pen_a % al).t();
  arma::vec p0(n), p1(n);
  if (l.s0) {
    p0.fill(l.c0);
  } else {
    const arma::vec k0 = th.subvec(l.ik0, l.ik0 + q - 1);
    p0 = expit(d.Lt * k0);
    U.cols(l.ik0, l.ik0 + q - 1) = d.Lt.each_col() % ((1 - d.z) % (d.a - p0));
    U.cols(l.ik0, l.ik0 + q - 1).each_row() -= (d.pen_k0 % k0).t();
  }
  if (l.s1) {
    p1.fill(l.c1);
  } else {
    const arma::vec k1 = th.subvec(l.ik1, l.ik1 + q - 1);
    p1 = expit(d.Lt * k1);
    U.cols(l.ik1, l.ik1 + q - 1) = d.Lt.each_col() % (d.z % (d.a - p1));
    U.cols(l.ik1, l.ik1 + q - 1).each_row() -= (d.pen_k1 % k1).t();
  }
  const arma::vec pz = d.z % p1 + (1 - d.z) % p0;
  const arma::vec beta = th.subvec(l.ib, l.ib + q - 1);
  const arma::vec omega = th.subvec(l.iw, l.iw + l.qb - 1);
  const arma::vec rho = th.subvec(l.ir, l.ir + q - 1);
  const arma::vec e = d.y - d.AL * beta - d.Xb * omega;
  const arma::vec R = (d.a - pz) % e;
  const arma::vec gam = d.Lt * rho;
  U.cols(l.ib, l.ib + q - 1) = d.Lt.each_col() % ((d.z - pi) % (R - gam));
  U.cols(l.iw, l.iw + l.qb - 1) = d.Xb.each_col() % e;
  U.cols(l.ir, l.ir + q - 1) = d.Lt.each_col() % (R - gam);
  arma::vec D = p1 % (1 - p1) - p0 % (1 - p0);
  for (auto& v : D)
    if (std::abs(v) < d.trim.trim_v) v = v < 0 ? -d.trim.trim_v : d.trim.trim_v;
  U.col(l.ipsi) = d.Lt * beta + (d.z - pi) % (R - gam) / (pi % (1 - pi) % D) - th(l.ipsi);
  return U;
}

arma::mat ls_residual(const arma::mat& X, const arma::mat& M) {
  arma::mat coef;
  if (!arma::solve(coef, X, M, arma::solve_opts::no_approx))
    throw invalid_argument("`x` makes the MR working-model design singular (collinear covariates?): drop redundant columns.");
  return M - X * coef;
}

struct mr_point {
  arma::vec theta;
  mr_layout layout;
  std::vector<std::string> messages;
  arma::vec pen_a, pen_k0, pen_k1;
};

mr_point mr_estimate(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x, mr_data& d,
                     const mr_options& o) {
  const arma::uword n = y.n_elem, p = x.n_cols, q = p + 1;
  mr_point P;
  mr_layout& l = P.layout;
  l.q = q;
  l.qb = 2 * q;
  const structure st = arm_structure(a, z);
  l.s0 = st.constant[0];
  l.s1 = st.constant[1];
  l.c0 = st.value[0];
  l.c1 = st.value[1];
  l.ia = 0;
  l.ik0 = q;
  l.ik1 = 2 * q;
  l.ib = 3 * q;
  l.iw = 4 * q;
  l.ir = 6 * q;
  l.ipsi = 7 * q;
  l.dim = 7 * q + 1;
  const arma::uvec all = arma::regspace<arma::uvec>(0, n - 1);
  logistic_model mpi = fit_logistic(x, z, all, n, o.logistic, "instrument (pi)");
  logistic_model mk0, mk1;
  if (!l.s0) mk0 = fit_logistic(x, a, arma::find(z == 0), n, o.logistic, "treatment (p0, Z = 0 arm)");
  if (!l.s1) mk1 = fit_logistic(x, a, arma::find(z == 1), n, o.logistic, "treatment (p1, Z = 1 arm)");
  for (const logistic_model* m : {&mpi, &mk0, &mk1})
    if (!m->message.empty()) P.messages.push_back(m->message);
  d.pen_a = mpi.penalty;
  d.pen_k0 = l.s0 ? arma::vec(q, arma::fill::zeros) : mk0.penalty;
  d.pen_k1 = l.s1 ? arma::vec(q, arma::fill::zeros) : mk1.penalty;
  const arma::vec pi = arma::clamp(expit(d.Lt * mpi.coef), o.trim.trim_pi, 1 - o.trim.trim_pi);
  const arma::vec p0 = l.s0 ? arma::vec(n).fill(l.c0) : expit(d.Lt * mk0.coef);
  const arma::vec p1 = l.s1 ? arma::vec(n).fill(l.c1) : expit(d.Lt * mk1.coef);
  const arma::vec w1 = a - (z % p1 + (1 - z) % p0);
  // beta solves Lt' diag(z - pi) (I - H_L) diag(w1) (I - H_b) (y - AL beta) = 0.
  auto G = [&](const arma::mat& V) {
    const arma::mat RV = ls_residual(d.Lt, V.each_col() % w1);
    return arma::mat(d.Lt.t() * (RV.each_col() % (z - pi)));
  };
  const arma::mat lhs = G(ls_residual(d.Xb, d.AL));
  const arma::vec rhs = G(ls_residual(d.Xb, y));
  arma::vec beta;
  const double rc = arma::rcond(lhs);
  if (!(rc > 1e-12) || !arma::solve(beta, lhs, rhs, arma::solve_opts::no_approx))
    throw invalid_argument("the MR estimating equation for the CATE coefficients is singular (reciprocal condition " +
                           format_number(rc) + "): the ATE is not identified by this instrument and these "
                           "working models (p1 ~ p0 or p1 + p0 ~ 1, i.e. Var(A | Z, L) the same in both arms).");
  arma::vec omega;
  arma::solve(omega, d.Xb, y - d.AL * beta, arma::solve_opts::no_approx);
  const arma::vec R = w1 % (y - d.AL * beta - d.Xb * omega);
  arma::vec rho;
  arma::solve(rho, d.Lt, R, arma::solve_opts::no_approx);
  P.theta.zeros(l.dim);
  P.theta.subvec(l.ia, l.ia + q - 1) = mpi.coef;
  if (!l.s0) P.theta.subvec(l.ik0, l.ik0 + q - 1) = mk0.coef;
  if (!l.s1) P.theta.subvec(l.ik1, l.ik1 + q - 1) = mk1.coef;
  P.theta.subvec(l.ib, l.ib + q - 1) = beta;
  P.theta.subvec(l.iw, l.iw + l.qb - 1) = omega;
  P.theta.subvec(l.ir, l.ir + q - 1) = rho;
  P.theta(l.ipsi) = 0;
  P.theta(l.ipsi) = arma::mean(mr_scores(d, l, P.theta).col(l.ipsi));
  return P;
}

mr_data make_mr_data(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                     const trim_options& t) {
  mr_data d{y, a, z, {}, {}, {}, {}, {}, {}, t};
  const arma::uword n = y.n_elem;
  d.Lt = arma::join_horiz(arma::ones(n), x);
  d.Xb = arma::join_horiz(d.Lt, d.Lt.each_col() % z);
  d.AL = d.Lt.each_col() % a;
  return d;
}

}  // namespace

iv_ate_result fit_mr(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x_in,
                     const mr_options& o, std::uint64_t seed, const runtime_context& ctx) {
  const arma::mat x = x_in.n_cols == 0 ? arma::mat(y.n_elem, 0) : x_in;
  validate_iv_data(y, a, z, x);
  validate_trim(o.trim);
  check_in_open(o.level, 0.0, 1.0, "level");
  check_at_least(o.bootstrap, 0, "bootstrap");
  const arma::uword n = y.n_elem;
  require(n > 2 * (x.n_cols + 1) + 2, "too few observations (" + std::to_string(n) + ") for the MR working models with " +
                                          std::to_string(x.n_cols) + " covariates.");
  mr_data d = make_mr_data(y, a, z, x, o.trim);
  const mr_point P = mr_estimate(y, a, z, x, d, o);
  const mr_layout& l = P.layout;
  iv_ate_result r;
  r.method = "mr";
  r.trim = o.trim;
  r.model_messages = P.messages;
  r.theta = P.theta;
  r.estimate = P.theta(l.ipsi);
  // Sandwich over the free parameters (structural arms have none).
  std::vector<arma::uword> free;
  for (arma::uword j = 0; j < l.dim; ++j) {
    if (l.s0 && j >= l.ik0 && j < l.ik0 + l.q) continue;
    if (l.s1 && j >= l.ik1 && j < l.ik1 + l.q) continue;
    free.push_back(j);
  }
  const arma::uvec F = arma::conv_to<arma::uvec>::from(free);
  const arma::mat U = mr_scores(d, l, P.theta);
  const arma::mat M = U.cols(F).t() * U.cols(F) / double(n);
  arma::mat B(F.n_elem, F.n_elem);
  for (arma::uword c = 0; c < F.n_elem; ++c) {
    const double h = 1e-6 * std::max(1.0, std::abs(P.theta(F(c))));
    arma::vec tp = P.theta, tm = P.theta;
    tp(F(c)) += h;
    tm(F(c)) -= h;
    const arma::rowvec up = arma::mean(mr_scores(d, l, tp).cols(F), 0), um = arma::mean(mr_scores(d, l, tm).cols(F), 0);
    B.col(c) = ((up - um) / (2 * h)).t();
  }
  arma::mat Binv;
  if (!arma::inv(Binv, B))
    throw numerical_error("the Jacobian of the MR estimating equations is singular: the sandwich variance "
                          "does not exist (check identification and collinear covariates).");
  const arma::mat Vf = Binv * M * Binv.t() / double(n);
  r.vcov_theta.zeros(l.dim, l.dim);
  r.vcov_theta.submat(F, F) = Vf;
  r.se = std::sqrt(r.vcov_theta(l.ipsi, l.ipsi));
  r.beta = P.theta.subvec(l.ib, l.ib + l.q - 1);
  r.beta_se = arma::sqrt(arma::vec(r.vcov_theta.diag()).subvec(l.ib, l.ib + l.q - 1));
  // Influence values: -B^-1 U, row of psi (the estimate added back).
  r.pseudo_outcome = r.estimate - (U.cols(F) * Binv.t()).eval().col(F.n_elem - 1);
  // Nuisances and diagnostics at the fitted working models.
  {
    const arma::vec& th = P.theta;
    arma::mat nu(n, 7, arma::fill::zeros);
    nu.col(0) = expit(d.Lt * th.subvec(l.ia, l.ia + l.q - 1));
    nu.col(1) = l.s0 ? arma::vec(n).fill(l.c0) : expit(d.Lt * th.subvec(l.ik0, l.ik0 + l.q - 1));
    nu.col(2) = l.s1 ? arma::vec(n).fill(l.c1) : expit(d.Lt * th.subvec(l.ik1, l.ik1 + l.q - 1));
    // Working-model fits: b(z, L) = omega'[1, z, L, z L], delta = beta'[1, L], gamma = rho'[1, L].
    const arma::vec omega = th.subvec(l.iw, l.iw + l.qb - 1);
    nu.col(3) = d.Lt * omega.head(l.q);
    nu.col(4) = nu.col(3) + d.Lt * omega.tail(l.q);
    nu.col(5) = d.Lt * r.beta;
    nu.col(6) = d.Lt * th.subvec(l.ir, l.ir + l.q - 1);
    diagnostics dg = identification_diagnostics(nu.col(0), nu.col(1), nu.col(2), o.trim);
    check_identification(dg, o.trim);
    r.diag = dg;
    nu.col(0) = arma::clamp(nu.col(0), o.trim.trim_pi, 1 - o.trim.trim_pi);
    r.nuisance = nu;
    r.nuisance_names = {"pi", "p0", "p1", "b0", "b1", "delta", "gamma"};
  }
  describe_structure(arm_structure(a, z), a, z, r.diag);
  for (const auto& m : P.messages) r.diag.warnings.push_back(m);
  add_warnings(r.diag);
  set_interval(r, o.level);
  if (o.bootstrap > 0) {
    rng_engine rng = make_rng(seed, 0xb007);
    std::vector<double> reps;
    for (int b = 0; b < o.bootstrap; ++b) {
      ctx.check_interrupt();
      arma::uvec idx(n);
      for (auto& i : idx) i = static_cast<arma::uword>(draw_integer(rng, 0, n - 1));
      try {
        const arma::vec yb = y(idx), ab = a(idx), zb = z(idx);
        const arma::mat xb = x.rows(idx);
        validate_iv_data(yb, ab, zb, xb);
        if (arm_structure(ab, zb).constant[0] != l.s0 || arm_structure(ab, zb).constant[1] != l.s1) continue;
        mr_data db = make_mr_data(yb, ab, zb, xb, o.trim);
        reps.push_back(mr_estimate(yb, ab, zb, xb, db, o).theta(l.ipsi));
      } catch (const std::exception&) {
        // A degenerate resample (e.g. an arm with one class) is skipped and counted.
      }
      ctx.report_progress(b + 1, o.bootstrap);
    }
    r.replicates = arma::vec(reps);
    if (reps.size() < static_cast<size_t>(o.bootstrap))
      r.diag.warnings.push_back(std::to_string(o.bootstrap - reps.size()) +
                                " bootstrap resample(s) were degenerate and skipped.");
    if (reps.size() >= 2) {
      r.bootstrap_se = sd(r.replicates);
      const arma::vec qs = arma::quantile(r.replicates, arma::vec({(1 - o.level) / 2, 1 - (1 - o.level) / 2}));
      r.bootstrap_lower = qs(0);
      r.bootstrap_upper = qs(1);
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Context estimators

iv_ate_result fit_wald(const arma::vec& y, const arma::vec& a, const arma::vec& z, double level) {
  validate_iv_data(y, a, z, arma::mat(y.n_elem, 0));
  check_in_open(level, 0.0, 1.0, "level");
  const arma::uvec i1 = arma::find(z == 1), i0 = arma::find(z == 0);
  const double q = double(i1.n_elem) / y.n_elem;
  const double y1 = arma::mean(y(i1)), y0 = arma::mean(y(i0)), a1 = arma::mean(a(i1)), a0 = arma::mean(a(i0));
  const double den = a1 - a0;
  require(std::abs(den) > 1e-8, "the Wald estimator is not identified: P(A = 1 | Z = 1) = P(A = 1 | Z = 0) in the "
                                "sample (the instrument does not move the treatment).");
  iv_ate_result r;
  r.method = "wald";
  r.estimate = (y1 - y0) / den;
  const arma::vec inf = (z / q) % (y - y1 - r.estimate * (a - a1)) - ((1 - z) / (1 - q)) % (y - y0 - r.estimate * (a - a0));
  r.pseudo_outcome = r.estimate + inf / den;
  r.se = sd(r.pseudo_outcome) / std::sqrt(double(y.n_elem));
  describe_structure(arm_structure(a, z), a, z, r.diag);
  r.diag.warnings.clear();  // the GENIUS reading of one-sidedness does not concern the Wald ratio
  set_interval(r, level);
  return r;
}

iv_ate_result fit_dr_no_confounding(const arma::vec& y, const arma::vec& a, const arma::mat& x_in,
                                    const learner& propensity, const learner& outcome, int folds, double trim,
                                    double level, std::uint64_t seed) {
  const arma::uword n = y.n_elem;
  const arma::mat x = x_in.n_cols == 0 ? arma::mat(n, 0) : x_in;
  // Reuse the IV validation with a dummy balanced instrument for the shared checks.
  arma::vec zd(n, arma::fill::zeros);
  zd.head(n / 2).ones();
  validate_iv_data(y, a, zd, x);
  check_in_open(trim, 0.0, 0.5, "trim");
  check_in_open(level, 0.0, 1.0, "level");
  require(arma::accu(a) >= 2 && arma::accu(1 - a) >= 2, "`a` must have at least 2 treated and 2 untreated units.");
  arma::uvec fold(n, arma::fill::zeros);
  if (folds > 1) {
    validate_folds(folds, n);
    fold = glm::make_stratified_folds(arma::conv_to<arma::uvec>::from(a), folds, seed);
  } else {
    require(folds == 1, "`folds` must be 1 (no cross-fitting) or at least 2.");
  }
  arma::vec e(n), m1(n), m0(n);
  for (int k = 0; k < std::max(folds, 1); ++k) {
    const arma::uvec te = arma::find(fold == static_cast<arma::uword>(k));
    const arma::uvec tr = folds > 1 ? arma::uvec(arma::find(fold != static_cast<arma::uword>(k))) : te;
    const std::uint64_t s = derive_seed(seed, k);
    const arma::mat xtr = x.rows(tr), xte = x.rows(te);
    const arma::vec atr = a(tr), ytr = y(tr);
    e(te) = call_learner(propensity, "e = P(A=1|L)", xtr, atr, xte, true, derive_seed(s, 0));
    const arma::uvec t1 = arma::find(atr == 1), t0 = arma::find(atr == 0);
    require(t1.n_elem >= 2 && t0.n_elem >= 2, "a training fold has fewer than 2 treated or untreated units: use fewer folds.");
    m1(te) = call_learner(outcome, "E[Y|A=1,L]", xtr.rows(t1), ytr(t1), xte, false, derive_seed(s, 1));
    m0(te) = call_learner(outcome, "E[Y|A=0,L]", xtr.rows(t0), ytr(t0), xte, false, derive_seed(s, 2));
  }
  iv_ate_result r;
  r.method = "dr_no_confounding";
  r.folds = folds;
  r.fold_id = fold;
  r.diag.n_trim_pi = arma::accu((e < trim) + (e > 1 - trim));
  const arma::vec ec = arma::clamp(e, trim, 1 - trim);
  r.pseudo_outcome = m1 - m0 + a % (y - m1) / ec - (1 - a) % (y - m0) / (1 - ec);
  r.estimate = arma::mean(r.pseudo_outcome);
  r.se = sd(r.pseudo_outcome) / std::sqrt(double(n));
  r.learner_names = {propensity.name, outcome.name};
  set_interval(r, level);
  return r;
}

}  // namespace tessera::causal
