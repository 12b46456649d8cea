#include "tessera/montecarlo/aiscv.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include <boost/math/distributions/normal.hpp>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/optim/simplex.hpp"

namespace tessera::montecarlo {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t kFinalStream = 999;

std::string str(arma::uword x) { return std::to_string(x); }

// sign(phi) * exp(logf + log|phi| - logd), column by column (law_of maps j to a column of logf).
template <class LawOf>
arma::mat weighted_values(const arma::mat& logf, const arma::mat& phi, const arma::vec& logd, LawOf law_of) {
  arma::mat y(phi.n_rows, phi.n_cols);
  for (arma::uword j = 0; j < phi.n_cols; ++j)
    for (arma::uword i = 0; i < phi.n_rows; ++i) {
      const double v = phi(i, j);
      y(i, j) = v == 0 ? 0.0 : (v > 0 ? 1.0 : -1.0) * std::exp(logf(i, law_of(j)) + std::log(std::abs(v)) - logd(i));
    }
  return y;
}

double column_variance(const arma::vec& x) { return x.n_elem > 1 ? arma::var(x) : 0.0; }

// Estimates, covariance, intervals and ESS from the final sample's summands.
template <class LawOf>
void summarise(const arma::mat& logf, const arma::mat& phi, const arma::mat& logG, const arma::vec& logga,
               const arma::vec& alpha, const arma::vec& beta, double level, LawOf law_of, aiscv_result& r) {
  const arma::uword n = phi.n_rows, J = phi.n_cols;
  const arma::mat y = weighted_values(logf, phi, logga, law_of);
  arma::mat Y(n, J);
  for (arma::uword j = 0; j < J; ++j) Y.col(j) = beta(j) + y.col(j) - beta(j) * arma::exp(logG.col(j) - logga);
  r.estimate = arma::mean(Y, 0).t();
  r.covariance = (n > 1 ? arma::mat(arma::cov(Y)) : arma::mat(J, J, arma::fill::zeros)) / static_cast<double>(n);
  r.covariance = 0.5 * (r.covariance + r.covariance.t());
  r.se = arma::sqrt(arma::clamp(r.covariance.diag(), 0.0, kInf));
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 + level / 2);
  r.lower = r.estimate - z * r.se;
  r.upper = r.estimate + z * r.se;
  r.level = level;
  r.ess.set_size(J);
  for (arma::uword j = 0; j < J; ++j) {
    const arma::vec lw = logf.col(law_of(j)) - logga;
    const double m = lw.max();
    const arma::vec w = arma::exp(lw - m);
    const double s2 = arma::dot(w, w);
    r.ess(j) = s2 > 0 ? arma::accu(w) * arma::accu(w) / s2 : 0.0;
  }
  r.n_final = n;
  r.alpha = alpha;
  r.beta = beta;
}

void check_laws(const std::vector<input_law>& laws, arma::uword J) {
  require(J >= 1, "`n_outputs` (the number J of expectations) must be at least 1.");
  require(!laws.empty(), "`laws` must hold one input law, or one per expectation.");
  require(laws.size() == 1 || laws.size() == J,
          "`laws` must hold one law or J = " + str(J) + " laws (one per expectation), not " + str(laws.size()) + ".");
  for (std::size_t l = 0; l < laws.size(); ++l) {
    const std::string name = "laws[" + std::to_string(l + 1) + "]";
    require(laws[l].dim >= 1, "`" + name + "` must have dimension at least 1.");
    require(laws[l].dim == laws[0].dim, "`" + name + "` has dimension " + str(laws[l].dim) + " but `laws[1]` has " +
                                            str(laws[0].dim) + ": every law must live on the same space.");
    require(static_cast<bool>(laws[l].sample) && static_cast<bool>(laws[l].log_density),
            "`" + name + "` needs both a sampler and a log density.");
  }
}

arma::mat draw_law(const input_law& law, arma::uword n, std::uint64_t seed, std::size_t index) {
  arma::mat x = law.sample(n, seed);
  const std::string name = "laws[" + std::to_string(index + 1) + "]";
  require(x.n_rows == n && x.n_cols == law.dim, "the sampler of `" + name + "` returned a " + str(x.n_rows) + " x " +
                                                    str(x.n_cols) + " matrix; it must return n x d = " + str(n) +
                                                    " x " + str(law.dim) + ".");
  check_finite(x, name + " sample");
  return x;
}

gaussian_mixture flatten(const std::vector<gaussian_mixture>& comps, const arma::vec& alpha) {
  gaussian_mixture out;
  std::vector<double> w;
  for (std::size_t j = 0; j < comps.size(); ++j)
    for (std::size_t k = 0; k < comps[j].components.size(); ++k) {
      out.components.push_back(comps[j].components[k]);
      w.push_back(alpha(j) * comps[j].weights(k));
    }
  out.weights = arma::vec(w);
  out.weights /= arma::accu(out.weights);
  return out;
}

arma::mat components_log_densities(const std::vector<gaussian_mixture>& comps, const arma::mat& x) {
  arma::mat out(x.n_rows, comps.size());
  for (std::size_t j = 0; j < comps.size(); ++j) out.col(j) = log_density(comps[j], x);
  return out;
}

// log( delta h + (1 - delta) sum_j alpha_j g_j ), h = equal mixture of the laws (columns of logf).
arma::vec defensive_mixture_log_density(const arma::mat& logG, const arma::vec& alpha, const arma::mat& logf,
                                        double delta) {
  arma::mat terms(logG.n_rows, logG.n_cols + (delta > 0 ? 1 : 0));
  terms.cols(0, logG.n_cols - 1) = logG;
  terms.cols(0, logG.n_cols - 1).each_row() += arma::log((1 - delta) * alpha).t();
  if (delta > 0)
    terms.col(logG.n_cols) = std::log(delta / static_cast<double>(logf.n_cols)) + log_sum_exp_rows(logf);
  return log_sum_exp_rows(terms);
}
}  // namespace

arma::vec optimise_alpha(const arma::vec& a, const arma::mat& G, const arma::vec& alpha0, double floor,
                         const arma::vec& offset) {
  require(a.n_elem == G.n_rows && alpha0.n_elem == G.n_cols, "`a`, `G` and `alpha0` have inconsistent sizes.");
  require(offset.is_empty() || offset.n_elem == G.n_rows, "`offset` must be empty or have one entry per row of `G`.");
  require(a.is_finite() && G.is_finite() && arma::all(a >= 0) && arma::all(arma::vectorise(G) >= 0),
          "`a` and `G` must be finite and non-negative.");
  require(offset.is_empty() || (offset.is_finite() && arma::all(offset >= 0)), "`offset` must be finite and non-negative.");
  const arma::vec c = offset.is_empty() ? arma::vec(G.n_rows, arma::fill::zeros) : offset;
  const double scale = a.max();
  if (!(scale > 0)) return optim::project_to_simplex(alpha0, floor);  // every residual is zero
  const arma::vec as = a / scale;
  const double M = static_cast<double>(a.n_elem);
  auto fg = [&](const arma::vec& alpha, arma::vec& grad) {
    const arma::vec den = c + G * alpha + 1e-300;
    const arma::vec q = as / den;
    grad = -(G.t() * (q / den)) / M;
    return arma::accu(q) / M;
  };
  optim::simplex_options o;
  o.floor = floor;
  o.max_iter = 3000;
  o.tol = 1e-10;
  return optim::minimise_on_simplex(fg, alpha0, o).x;
}

aiscv_session::aiscv_session(std::vector<input_law> laws, arma::uword n_outputs, const aiscv_options& options,
                             std::uint64_t seed)
    : laws_(std::move(laws)), J_(n_outputs), options_(options), seed_(seed) {
  if (J_ == 0 && laws_.size() > 1) J_ = laws_.size();
  check_laws(laws_, J_ == 0 ? 1 : J_);
  d_ = laws_[0].dim;
  L_ = laws_.size();
  const aiscv_options& o = options_;
  check_in_open(o.adapt_fraction, 0, 1, "adapt_fraction");
  check_in_closed(o.batch_fraction, 0, 1, "batch_fraction");
  require(o.batch_fraction > 0 && o.batch_fraction <= o.adapt_fraction,
          "`batch_fraction` must be positive and at most `adapt_fraction` (" + format_number(o.adapt_fraction) +
              "), not " + format_number(o.batch_fraction) + ".");
  check_nonnegative(o.jitter, "jitter");
  require(o.defensive >= 0 && o.defensive < 1,
          "`defensive` (the weight of the input law in the sampling mixture) must be in [0, 1), not " +
              format_number(o.defensive) + ".");
  N_ = o.budget;
  n_batch_ = static_cast<arma::uword>(std::floor(o.batch_fraction * static_cast<double>(N_)));
  N1_ = static_cast<arma::uword>(std::floor(o.adapt_fraction * static_cast<double>(N_)));
  const arma::uword min_batch = std::max<arma::uword>({10, 2 * (d_ + 1), L_});
  if (n_batch_ < min_batch) {
    const auto needed = static_cast<arma::uword>(std::ceil(static_cast<double>(min_batch) / o.batch_fraction));
    throw invalid_argument("`budget` = " + str(N_) + " gives batches of " + str(n_batch_) +
                           " points (batch_fraction x budget), fewer than the " + str(min_batch) +
                           " needed to fit the proposals in dimension " + str(d_) + (L_ > 1 ? " with " + str(L_) + " laws" : std::string()) +
                           ": use a budget of at least " + str(needed) + " or a larger `batch_fraction`.");
  }
  require(N_ - N1_ >= 2, "`budget` leaves fewer than 2 points for the final sample: lower `adapt_fraction`.");
  check_in_open(o.level, 0, 1, "level");
  require(o.mixture_components >= 1, "`mixture_components` must be at least 1.");
  if (J_ > 0) set_outputs(J_);
  result_.options = options_;
  start_batch_from_h0();
}

void aiscv_session::set_outputs(arma::uword J) {
  J_ = J;
  check_laws(laws_, J_);
  const aiscv_options& o = options_;
  require(o.alpha_floor >= 0 && o.alpha_floor * static_cast<double>(J_) < 0.5,
          "`alpha_floor` must be in [0, 1 / (2 J)) = [0, " + format_number(0.5 / static_cast<double>(J_)) + "), not " +
              format_number(o.alpha_floor) + ".");
  if (!o.weights.is_empty()) {
    require(o.weights.n_elem == J_, "`weights` must have one entry per expectation (J = " + str(J_) + "), not " +
                                        str(o.weights.n_elem) + ".");
    check_finite(o.weights, "weights");
    for (arma::uword j = 0; j < J_; ++j)
      require(o.weights(j) > 0, "`weights` must be positive, but entry " + str(j + 1) + " is " +
                                    format_number(o.weights(j)) + ": drop that expectation or give it a positive weight.");
  }
  degenerate_.assign(J_, 0);
}

std::string aiscv_session::phase_name() const {
  switch (phase_) {
    case phase::initial: return "initial";
    case phase::adapt: return "adapt";
    case phase::final: return "final";
    case phase::done: return "done";
  }
  return "done";
}

const aiscv_result& aiscv_session::result() const {
  require(done(), "the aISCV session is not finished: evaluate phi at ask() and tell() the values until done().");
  return result_;
}

void aiscv_session::start_batch_from_h0() {
  h0_counts_.set_size(L_);
  for (arma::uword l = 0; l < L_; ++l) h0_counts_(l) = n_batch_ / L_ + (l < n_batch_ % L_ ? 1 : 0);
  const std::uint64_t s0 = derive_seed(seed_, 0);
  std::vector<arma::mat> parts;
  for (arma::uword l = 0; l < L_; ++l)
    if (h0_counts_(l) > 0) parts.push_back(draw_law(laws_[l], h0_counts_(l), derive_seed(s0, l), l));
  pending_.set_size(0, d_);
  for (const auto& p : parts) pending_ = arma::join_cols(pending_, p);
  phase_ = phase::initial;
}

arma::mat aiscv_session::law_log_densities(const arma::mat& x) const {
  arma::mat out(x.n_rows, L_);
  for (arma::uword l = 0; l < L_; ++l) {
    arma::vec v = laws_[l].log_density(x);
    require(v.n_elem == x.n_rows, "the log density of `laws[" + str(l + 1) + "]` returned " + str(v.n_elem) +
                                      " values for " + str(x.n_rows) + " points; it must return one per point.");
    for (arma::uword i = 0; i < v.n_elem; ++i)
      require(!std::isnan(v(i)) && v(i) < kInf, [&] {
        return "the log density of `laws[" + str(l + 1) + "]` is " + (std::isnan(v(i)) ? "NaN" : "+Inf") +
               " at point " + str(i + 1) + " of the batch: it must be finite or -Inf (outside the support).";
      });
    out.col(l) = v;
  }
  return out;
}

arma::vec aiscv_session::h0_log_density(const arma::mat& logf) const {
  arma::mat terms = logf;
  const double n = static_cast<double>(arma::accu(h0_counts_));
  for (arma::uword l = 0; l < L_; ++l) terms.col(l) += std::log(static_cast<double>(h0_counts_(l)) / n);
  return log_sum_exp_rows(terms);
}

arma::vec aiscv_session::proposal_log_density(const arma::mat& logG, const arma::vec& alpha,
                                               const arma::mat& logf) const {
  return defensive_mixture_log_density(logG, alpha, logf, options_.defensive);
}

arma::mat aiscv_session::component_log_densities(const arma::mat& x) const {
  return components_log_densities(components_, x);
}

arma::mat aiscv_session::checked_values(const arma::mat& values) const {
  const arma::uword n = pending_.n_rows;
  const bool broadcast = values.n_cols == 1 && J_ > 1 && L_ == J_;
  if (values.n_rows != n || !(values.n_cols == J_ || broadcast)) {
    std::ostringstream os;
    os << "`phi` returned a " << values.n_rows << " x " << values.n_cols << " matrix for " << n
       << " points; it must return " << n << " x " << J_ << " (one row per point, one column per expectation"
       << (L_ == J_ && J_ > 1 ? ", or a single column shared by the J laws" : "") << ").";
    throw invalid_argument(os.str());
  }
  for (arma::uword i = 0; i < values.n_rows; ++i)
    for (arma::uword j = 0; j < values.n_cols; ++j)
      if (!std::isfinite(values(i, j))) {
        std::ostringstream os;
        os << "`phi` returned " << (std::isnan(values(i, j)) ? "NaN" : "an infinite value") << " at row " << i + 1
           << ", column " << j + 1 << " (the point (";
        for (arma::uword k = 0; k < std::min<arma::uword>(d_, 6); ++k) os << (k ? ", " : "") << pending_(i, k);
        os << (d_ > 6 ? ", ...))" : "))") << "; phi must be finite wherever the input law puts mass.";
        throw invalid_argument(os.str());
      }
  return broadcast ? arma::mat(arma::repmat(values, 1, J_)) : values;
}

arma::vec aiscv_session::pool_log_density() const {
  const double M = static_cast<double>(X_.n_rows);
  arma::mat terms = logq_;
  for (arma::uword b = 0; b < batch_sizes_.size(); ++b)
    terms.col(b) += std::log(static_cast<double>(batch_sizes_[b]) / M);
  return log_sum_exp_rows(terms);
}

void aiscv_session::fit_components() {
  const arma::uword M = X_.n_rows;
  const arma::vec logh = pool_log_density();
  arma::rowvec scale = arma::var(X_, 1, 0);
  for (double& s : scale)
    if (!(s > 0)) s = 1.0;
  rng_engine rng = make_rng(derive_seed(seed_, 5000), batch_index_);
  components_.assign(J_, gaussian_mixture());
  fit_report report;
  for (arma::uword j = 0; j < J_; ++j) {
    arma::vec logw(M);
    for (arma::uword i = 0; i < M; ++i)
      logw(i) = phi_(i, j) == 0 ? -kInf : logf_(i, law_of(j)) + std::log(std::abs(phi_(i, j))) - logh(i);
    double top = logw.max();
    if (!std::isfinite(top)) {  // phi_j is zero on every point so far: fall back to f_j itself
      logw = logf_.col(law_of(j)) - logh;
      top = logw.max();
    }
    const arma::vec w = arma::exp(logw - top);
    if (options_.family == proposal_family::single_gaussian) {
      components_[j].components.push_back(
          fit_gaussian(X_, w, scale, options_.jitter, options_.diagonal, report, options_.shrinkage));
      components_[j].weights = arma::vec{1.0};
    } else {
      components_[j] = fit_gaussian_mixture(X_, w, options_.mixture_components, scale, options_.jitter,
                                            options_.diagonal, rng, report, options_.shrinkage);
    }
  }
  last_jitter_ = report.jitter;
  last_shrinkage_ = report.shrinkage;
  logG_ = component_log_densities(X_);
  if (!result_.history.empty()) {
    result_.history.back().components = components_;
    result_.history.back().jitter = last_jitter_;
    result_.history.back().shrinkage = last_shrinkage_;
  }
}

void aiscv_session::update_alpha() {
  const arma::uword M = X_.n_rows;
  const arma::vec logh = pool_log_density();
  const double delta = options_.defensive;
  // log of the defensive density delta h at the pooled points (-Inf without one)
  const arma::vec logdef = delta > 0 ? arma::vec(std::log(delta / static_cast<double>(L_)) + log_sum_exp_rows(logf_))
                                     : arma::vec(M, arma::fill::value(-kInf));
  arma::vec a(M), offset(M);
  arma::mat G(M, J_);
  for (arma::uword i = 0; i < M; ++i) {
    double c = std::max(logG_.row(i).max(), logdef(i));
    for (arma::uword j = 0; j < J_; ++j)
      if (phi_(i, j) != 0) c = std::max(c, logf_(i, law_of(j)) + std::log(std::abs(phi_(i, j))));
    double acc = 0;
    for (arma::uword j = 0; j < J_; ++j) {
      const double v = phi_(i, j);
      const double fphi = v == 0 ? 0.0 : (v > 0 ? 1.0 : -1.0) * std::exp(logf_(i, law_of(j)) + std::log(std::abs(v)) - c);
      const double g = std::exp(logG_(i, j) - c);
      G(i, j) = (1 - delta) * g;
      const double r = fphi - beta_(j) * g;
      acc += omega_(j) * r * r;
    }
    offset(i) = std::exp(logdef(i) - c);
    a(i) = std::isfinite(c) ? std::exp(c - logh(i)) * acc : 0.0;
  }
  if (!a.is_finite()) a.elem(arma::find_nonfinite(a)).fill(std::numeric_limits<double>::max() / (10.0 * M));
  alpha_ = optimise_alpha(a, G, alpha_, options_.alpha_floor, offset);
}

void aiscv_session::draw_from_proposal(arma::uword n, std::uint64_t stream) {
  rng_engine rng = make_rng(seed_, stream);
  // iid from delta h + (1 - delta) g: the number of defensive draws is Binomial(n, delta),
  // each from a law chosen uniformly (h is the equal mixture of the laws).
  arma::uvec per_law(L_, arma::fill::zeros);
  arma::uword n_def = 0;
  if (options_.defensive > 0)
    for (arma::uword i = 0; i < n; ++i)
      if (draw_uniform(rng) < options_.defensive) {
        ++n_def;
        ++per_law(std::min<arma::uword>(L_ - 1, static_cast<arma::uword>(draw_uniform(rng) * static_cast<double>(L_))));
      }
  pending_ = sample(flatten(components_, alpha_), n - n_def, rng);
  const std::uint64_t sd = derive_seed(derive_seed(seed_, 7000), stream);
  for (arma::uword l = 0; l < L_; ++l)
    if (per_law(l) > 0) pending_ = arma::join_cols(pending_, draw_law(laws_[l], per_law(l), derive_seed(sd, l), l));
}

void aiscv_session::tell(const arma::mat& values) {
  require(!done(), "the aISCV session is finished; read its result().");
  if (J_ == 0) {
    require(values.n_cols >= 1 && values.n_rows == pending_.n_rows,
            "`phi` must return one row per point and at least one column.");
    set_outputs(values.n_cols);
  }
  const arma::mat V = checked_values(values);
  auto law_of = [this](arma::uword j) { return this->law_of(j); };
  if (phase_ == phase::final) {
    finish(V);
    return;
  }
  const arma::mat& Xn = pending_;
  const arma::mat logf = law_log_densities(Xn);
  adaptation_stage stage;
  stage.batch = batch_index_;
  stage.n_points = Xn.n_rows;
  if (phase_ == phase::initial) {
    const arma::vec logh0 = h0_log_density(logf);
    for (arma::uword i = 0; i < logh0.n_elem; ++i)
      require(std::isfinite(logh0(i)), [&] {
        return "the input law gives zero density at its own sample point " + str(i + 1) +
               ": check its log density.";
      });
    const arma::mat y = weighted_values(logf, V, logh0, law_of);
    const arma::vec est = arma::mean(y, 0).t();
    s2_old_.set_size(J_);
    for (arma::uword j = 0; j < J_; ++j) s2_old_(j) = column_variance(y.col(j));
    if (!arma::any(arma::vectorise(V) != 0))
      throw invalid_argument("`phi` is zero at all " + str(V.n_rows) +
                             " points of the first batch: every expectation would be estimated as 0; check phi.");
    if (options_.weights.is_empty() && options_.weight_rule) {
      omega_ = options_.weight_rule(est);
      require(omega_.n_elem == J_ && omega_.is_finite() && arma::all(omega_ >= 0) && arma::any(omega_ > 0),
              "`weight_rule` must return J finite, non-negative weights, not all zero.");
    } else if (options_.weights.is_empty()) {
      omega_.set_size(J_);
      for (arma::uword j = 0; j < J_; ++j) omega_(j) = est(j) == 0 ? 0.0 : 1.0 / (est(j) * est(j));
    } else {
      omega_ = options_.weights;
    }
    beta_ = est;
    alpha_ = optim::project_to_simplex(arma::sqrt(omega_) % arma::abs(est) / arma::accu(arma::sqrt(omega_) % arma::abs(est) + 1e-300),
                                       options_.alpha_floor);
    X_ = Xn;
    logf_ = logf;
    phi_ = V;
    logq_ = logh0;
    batch_sizes_ = {Xn.n_rows};
    N_now_ = Xn.n_rows;
    stage.n_total = N_now_;
    stage.beta = beta_;
    stage.estimate = est;
    stage.s2 = s2_old_;
    stage.criterion = arma::dot(omega_, s2_old_) / static_cast<double>(N_ - N_now_);
    result_.history.push_back(stage);
    fit_components();
    update_alpha();
  } else {
    const arma::mat logG = component_log_densities(Xn);
    const arma::vec logga = proposal_log_density(logG, alpha_, logf);
    const arma::mat y = weighted_values(logf, V, logga, law_of);
    arma::vec s2_new(J_), est(J_);
    for (arma::uword j = 0; j < J_; ++j) {
      const arma::vec c = arma::exp(logG.col(j) - logga);
      const arma::vec yj = y.col(j);
      const double vc = column_variance(c), mc = arma::mean(c);
      if (vc <= 1e-10 * mc * mc) {
        beta_(j) = arma::mean(yj);
        degenerate_[j] = 1;
      } else {
        beta_(j) = arma::as_scalar(arma::cov(c, yj)) / vc;
        degenerate_[j] = 0;
      }
      const arma::vec resid = yj - beta_(j) * c;
      s2_new(j) = column_variance(resid);
      est(j) = beta_(j) + arma::mean(resid);
    }
    N_prev_ = N_now_;
    N_now_ += Xn.n_rows;
    const double crit_old = arma::dot(omega_, s2_old_) / static_cast<double>(N_ - N_prev_);
    const double crit_new = arma::dot(omega_, s2_new) / static_cast<double>(N_ - N_now_);
    // Append the batch to the pool with every proposal's density.
    const arma::vec logq_old_points = proposal_log_density(logG_, alpha_, logf_);
    arma::mat logq_new(Xn.n_rows, logq_.n_cols + 1);
    logq_new.col(0) = h0_log_density(logf);
    for (std::size_t b = 0; b < stage_components_.size(); ++b)
      logq_new.col(b + 1) =
          proposal_log_density(components_log_densities(stage_components_[b], Xn), stage_alpha_[b], logf);
    logq_new.col(logq_.n_cols) = logga;
    logq_ = arma::join_cols(arma::join_rows(logq_, logq_old_points), logq_new);
    stage_components_.push_back(components_);
    stage_alpha_.push_back(alpha_);
    X_ = arma::join_cols(X_, Xn);
    logf_ = arma::join_cols(logf_, logf);
    phi_ = arma::join_cols(phi_, V);
    batch_sizes_.push_back(Xn.n_rows);
    stage.n_total = N_now_;
    stage.alpha = alpha_;
    stage.beta = beta_;
    stage.estimate = est;
    stage.s2 = s2_new;
    stage.criterion = crit_new;
    result_.history.push_back(stage);
    s2_old_ = s2_new;
    if (crit_old <= crit_new) {
      result_.stop_reason = "variance criterion: the last batch did not pay for its points";
      phase_ = phase::final;
      draw_from_proposal(N_ - N_now_, kFinalStream);
      return;
    }
    fit_components();
    update_alpha();
  }
  ++batch_index_;
  if (N_now_ + n_batch_ <= N1_) {
    phase_ = phase::adapt;
    draw_from_proposal(n_batch_, batch_index_);
  } else {
    result_.stop_reason = "adaptation budget reached";
    phase_ = phase::final;
    draw_from_proposal(N_ - N_now_, kFinalStream);
  }
}

void aiscv_session::finish(const arma::mat& values) {
  auto law_of = [this](arma::uword j) { return this->law_of(j); };
  const arma::mat logf = law_log_densities(pending_);
  const arma::mat logG = component_log_densities(pending_);
  summarise(logf, values, logG, proposal_log_density(logG, alpha_, logf), alpha_, beta_, options_.level, law_of,
            result_);
  result_.defensive = options_.defensive;
  result_.weights = omega_;
  result_.components = components_;
  result_.cv_degenerate = degenerate_;
  result_.n_adapt = N_now_;
  pending_.reset();
  phase_ = phase::done;
}

aiscv_result aiscv(const phi_function& phi, const std::vector<input_law>& laws, arma::uword n_outputs,
                   const aiscv_options& options, std::uint64_t seed, const runtime_context& context) {
  require(static_cast<bool>(phi), "`phi` must be a function.");
  aiscv_session session(laws, n_outputs, options, seed);
  arma::uword used = 0;
  while (!session.done()) {
    context.check_interrupt();
    const arma::mat& x = session.ask();
    used += x.n_rows;
    session.tell(phi(x));
    context.report_progress(static_cast<double>(used), static_cast<double>(options.budget));
  }
  return session.result();
}

aiscv_result estimate_with_proposal(const phi_function& phi, const std::vector<input_law>& laws,
                                    arma::uword n_outputs, const std::vector<gaussian_mixture>& components,
                                    const arma::vec& alpha, const arma::vec& beta, arma::uword n, double level,
                                    std::uint64_t seed) {
  check_laws(laws, n_outputs);
  require(components.size() == n_outputs && alpha.n_elem == n_outputs && beta.n_elem == n_outputs,
          "`components`, `alpha` and `beta` must have one entry per expectation (J = " + str(n_outputs) + ").");
  require(arma::all(alpha > 0) && std::abs(arma::accu(alpha) - 1) < 1e-8,
          "`alpha` must be positive and sum to 1.");
  check_finite(beta, "beta");
  require(n >= 2, "`n` must be at least 2.");
  check_in_open(level, 0, 1, "level");
  rng_engine rng = make_rng(seed);
  const arma::mat x = sample(flatten(components, alpha), n, rng);
  arma::mat logf(n, laws.size()), logG(n, n_outputs);
  for (std::size_t l = 0; l < laws.size(); ++l) logf.col(l) = laws[l].log_density(x);
  for (arma::uword j = 0; j < n_outputs; ++j) logG.col(j) = log_density(components[j], x);
  arma::mat v = phi(x);
  require(v.n_rows == n && v.n_cols == n_outputs, "`phi` must return an n x J matrix.");
  check_finite(v, "phi values");
  aiscv_result r;
  const std::size_t L = laws.size();
  summarise(logf, v, logG, defensive_mixture_log_density(logG, alpha, logf, 0.0), alpha, beta, level,
            [L](arma::uword j) { return L == 1 ? arma::uword(0) : j; }, r);
  r.components = components;
  return r;
}

}  // namespace tessera::montecarlo
