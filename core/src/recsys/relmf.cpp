#include "tessera/recsys/relmf.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/optim/adam.hpp"
#include "../common/parallel.hpp"

namespace tessera::recsys {

namespace {

double softplus(double s) { return s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s)); }

double sigmoid(double s) {
  if (s >= 0) return 1.0 / (1.0 + std::exp(-s));
  const double e = std::exp(s);
  return e / (1.0 + e);
}

std::string pair_text(arma::uword u, arma::uword i) {
  return "[" + std::to_string(u + 1) + ", " + std::to_string(i + 1) + "]";
}

// The per-pair loss: f0 (unclicked, w = 0) and f1 (clicked, weight w), values and d/ds.
struct pair_loss {
  loss_type loss;
  link_type link;
  double c;

  void f0(double s, double& value, double& deriv) const {
    if (loss == loss_type::log) {
      value = softplus(s);
      deriv = sigmoid(s);
    } else if (link == link_type::logistic) {
      const double r = sigmoid(s);
      value = c * r * r;
      deriv = 2.0 * c * r * r * (1.0 - r);
    } else {
      value = c * s * s;
      deriv = 2.0 * c * s;
    }
  }

  void f1(double s, double w, double& value, double& deriv) const {
    if (loss == loss_type::log) {
      value = softplus(s) - w * s;
      deriv = sigmoid(s) - w;
    } else if (link == link_type::logistic) {
      const double r = sigmoid(s);
      value = w * (1.0 - r) * (1.0 - r) + c * (1.0 - w) * r * r;
      deriv = (-2.0 * w * (1.0 - r) + 2.0 * c * (1.0 - w) * r) * r * (1.0 - r);
    } else {
      value = w * (1.0 - s) * (1.0 - s) + c * (1.0 - w) * s * s;
      deriv = -2.0 * w * (1.0 - s) + 2.0 * c * (1.0 - w) * s;
    }
  }
};

// Pair-wise work reads one row of U and of V; rows of a column-major matrix are strided, so
// these helpers work on the transposes Ut = U' (k x m) and Vt = V' (k x n), whose columns are
// contiguous, and accumulate the factor gradients into gUt, gVt (transposed back by the caller).
struct transposed {
  arma::mat Ut, Vt, gUt, gVt;
  explicit transposed(const relmf_model& m)
      : Ut(m.U.t()), Vt(m.V.t()), gUt(arma::size(Ut), arma::fill::zeros), gVt(arma::size(Vt), arma::fill::zeros) {}
  void refresh(const relmf_model& m) {
    Ut = m.U.t();
    Vt = m.V.t();
    gUt.zeros();
    gVt.zeros();
  }
};

double score_of(const relmf_model& m, const transposed& t, arma::uword u, arma::uword i) {
  const double* a = t.Ut.colptr(u);
  const double* b = t.Vt.colptr(i);
  double s = 0;
  for (arma::uword j = 0; j < t.Ut.n_rows; ++j) s += a[j] * b[j];
  return s + m.user_bias(u) + m.item_bias(i) + m.global_bias;
}

// Adds d * (gradient of s_ui): factors into t.gUt / t.gVt, biases into g.
void add_pair_gradient(transposed& t, arma::uword u, arma::uword i, double d, bool biases, relmf_model& g) {
  const double* a = t.Ut.colptr(u);
  const double* b = t.Vt.colptr(i);
  double* ga = t.gUt.colptr(u);
  double* gb = t.gVt.colptr(i);
  for (arma::uword j = 0; j < t.Ut.n_rows; ++j) {
    ga[j] += d * b[j];
    gb[j] += d * a[j];
  }
  if (biases) {
    g.user_bias(u) += d;
    g.item_bias(i) += d;
    g.global_bias += d;
  }
}

relmf_model zeros_like(const relmf_model& m) {
  relmf_model g;
  g.U.zeros(arma::size(m.U));
  g.V.zeros(arma::size(m.V));
  g.user_bias.zeros(m.user_bias.n_elem);
  g.item_bias.zeros(m.item_bias.n_elem);
  g.global_bias = 0;
  g.link = m.link;
  return g;
}

double normaliser(const relmf_options& o, double pairs, double clicks) {
  return o.loss == loss_type::log ? pairs : clicks + o.unlabeled_weight * (pairs - clicks);
}

// sum_D f0(s) and its gradient, for the logistic link: dense products in blocks of users.
// Blocks are grouped into at most 8 pieces (fixed by the sizes); each piece keeps its own
// partial gradient of V and the item biases, summed afterwards in piece order.
double dense_unclicked_part(const relmf_model& m, const pair_loss& pl, bool biases, unsigned threads,
                            relmf_model& g) {
  const arma::uword n_users = m.U.n_rows, n_items = m.V.n_rows;
  const arma::uword block = std::max<arma::uword>(1, (arma::uword(1) << 18) / n_items);
  const std::vector<detail::index_range> blocks = detail::fixed_ranges(n_users, block);
  const std::size_t n_pieces = std::min<std::size_t>(blocks.size(), 8);
  struct piece {
    double total = 0, global = 0;
    arma::mat gV;
    arma::vec gbi;
  };
  std::vector<piece> pieces(n_pieces);
  detail::parallel_tasks(n_pieces, threads, [&](std::size_t c) {
    piece& p = pieces[c];
    p.gV.zeros(arma::size(m.V));
    p.gbi.zeros(n_items);
    const std::size_t b0 = c * blocks.size() / n_pieces, b1 = (c + 1) * blocks.size() / n_pieces;
    for (std::size_t b = b0; b < b1; ++b) {
      const arma::uword r0 = blocks[b].begin, r1 = blocks[b].end - 1;
      arma::mat S = m.U.rows(r0, r1) * m.V.t();
      if (biases) {
        S.each_col() += m.user_bias.subvec(r0, r1);
        S.each_row() += m.item_bias.t();
        S += m.global_bias;
      }
      double value = 0, deriv = 0;
      for (double& s : S) {
        pl.f0(s, value, deriv);
        p.total += value;
        s = deriv;  // S now holds the derivatives
      }
      g.U.rows(r0, r1) += S * m.V;  // rows of this block only
      p.gV += S.t() * m.U.rows(r0, r1);
      if (biases) {
        g.user_bias.subvec(r0, r1) += arma::sum(S, 1);
        p.gbi += arma::sum(S, 0).t();
        p.global += arma::accu(S);
      }
    }
  });
  double total = 0;
  for (const piece& p : pieces) {
    total += p.total;
    g.V += p.gV;
    if (biases) {
      g.item_bias += p.gbi;
      g.global_bias += p.global;
    }
  }
  return total;
}

// A' A by fixed blocks of rows, summed in block order.
arma::mat blocked_gram(const arma::mat& A, unsigned threads) {
  const std::vector<detail::index_range> r = detail::fixed_ranges(A.n_rows, 4096);
  std::vector<arma::mat> parts(r.size());
  detail::parallel_tasks(r.size(), threads, [&](std::size_t t) {
    const arma::mat a = A.rows(r[t].begin, r[t].end - 1);
    parts[t] = a.t() * a;
  });
  arma::mat G(A.n_cols, A.n_cols, arma::fill::zeros);
  for (const arma::mat& p : parts) G += p;
  return G;
}

// A B by fixed blocks of rows of A (each block writes its own rows).
arma::mat blocked_product(const arma::mat& A, const arma::mat& B, unsigned threads) {
  const std::vector<detail::index_range> r = detail::fixed_ranges(A.n_rows, 4096);
  arma::mat out(A.n_rows, B.n_cols);
  detail::parallel_tasks(r.size(), threads, [&](std::size_t t) {
    out.rows(r[t].begin, r[t].end - 1) = A.rows(r[t].begin, r[t].end - 1) * B;
  });
  return out;
}

// sum_D c s^2 and its gradient for the identity link, through k x k Gram matrices.
double gram_unclicked_part(const relmf_model& m, double c, bool biases, unsigned threads, relmf_model& g) {
  const arma::uword k = m.U.n_cols;
  arma::mat Ua = m.U, Va = m.V;
  if (biases) {
    Ua = arma::join_rows(m.U, m.user_bias + m.global_bias, arma::ones<arma::vec>(m.U.n_rows));
    Va = arma::join_rows(m.V, arma::ones<arma::vec>(m.V.n_rows), m.item_bias);
  }
  const arma::mat GU = blocked_gram(Ua, threads), GV = blocked_gram(Va, threads);
  const arma::mat gUa = (2.0 * c) * blocked_product(Ua, GV, threads);
  const arma::mat gVa = (2.0 * c) * blocked_product(Va, GU, threads);
  g.U += gUa.cols(0, k - 1);
  g.V += gVa.cols(0, k - 1);
  if (biases) {
    g.user_bias += gUa.col(k);
    g.global_bias += arma::accu(gUa.col(k));
    g.item_bias += gVa.col(k + 1);
  }
  return c * arma::accu(GU % GV);
}

// sum over clicks of [f1 - f0] and its gradient. Pass 1 runs over items (CSC columns): per-click
// values and derivatives, the V rows and item biases. Pass 2 runs over users through a row
// index (clicks of a user in item order): the U rows and user biases. Sums over all clicks are
// per-item sums added in item order.
double clicked_part(const arma::sp_mat& clicks, const arma::vec& weight, const relmf_model& model,
                    const pair_loss& pl, bool biases, unsigned threads, relmf_model& g) {
  clicks.sync();
  const arma::uword n_users = clicks.n_rows, n_items = clicks.n_cols, nnz = clicks.n_nonzero;
  const arma::uword k = model.U.n_cols;
  const arma::uword* col_ptrs = clicks.col_ptrs;
  const arma::uword* row_idx = clicks.row_indices;
  const arma::mat Ut = model.U.t(), Vt = model.V.t();
  std::vector<double> der(nnz);
  arma::vec item_value(n_items, arma::fill::zeros);
  arma::mat gUt(k, n_users, arma::fill::zeros), gVt(k, n_items, arma::fill::zeros);
  arma::vec gbu(n_users, arma::fill::zeros), gbi(n_items, arma::fill::zeros);
  const std::vector<detail::index_range> item_r = detail::fixed_ranges(n_items, 256);
  detail::parallel_tasks(item_r.size(), threads, [&](std::size_t t) {
    double v1 = 0, d1 = 0, v0 = 0, d0 = 0;
    for (arma::uword i = item_r[t].begin; i < item_r[t].end; ++i) {
      const double* b = Vt.colptr(i);
      double* gb = gVt.colptr(i);
      double bias = 0, value = 0;
      for (arma::uword e = col_ptrs[i]; e < col_ptrs[i + 1]; ++e) {
        const arma::uword u = row_idx[e];
        const double* a = Ut.colptr(u);
        double s = model.user_bias(u) + model.item_bias(i) + model.global_bias;
        for (arma::uword j = 0; j < k; ++j) s += a[j] * b[j];
        pl.f1(s, weight(e), v1, d1);
        pl.f0(s, v0, d0);
        value += v1 - v0;
        der[e] = d1 - d0;
        for (arma::uword j = 0; j < k; ++j) gb[j] += der[e] * a[j];
        bias += der[e];
      }
      gbi(i) = bias;
      item_value(i) = value;
    }
  });
  // row index: for each user, its clicks (CSC positions and items) in item order
  std::vector<arma::uword> row_ptr(n_users + 1, 0), pos_e(nnz), pos_item(nnz);
  for (arma::uword e = 0; e < nnz; ++e) ++row_ptr[row_idx[e] + 1];
  for (arma::uword u = 0; u < n_users; ++u) row_ptr[u + 1] += row_ptr[u];
  {
    std::vector<arma::uword> fill(row_ptr.begin(), row_ptr.end() - 1);
    for (arma::uword i = 0; i < n_items; ++i) {
      for (arma::uword e = col_ptrs[i]; e < col_ptrs[i + 1]; ++e) {
        const arma::uword q = fill[row_idx[e]]++;
        pos_e[q] = e;
        pos_item[q] = i;
      }
    }
  }
  const std::vector<detail::index_range> user_r = detail::fixed_ranges(n_users, 256);
  detail::parallel_tasks(user_r.size(), threads, [&](std::size_t t) {
    for (arma::uword u = user_r[t].begin; u < user_r[t].end; ++u) {
      double* ga = gUt.colptr(u);
      double bias = 0;
      for (arma::uword q = row_ptr[u]; q < row_ptr[u + 1]; ++q) {
        const double d = der[pos_e[q]];
        const double* b = Vt.colptr(pos_item[q]);
        for (arma::uword j = 0; j < k; ++j) ga[j] += d * b[j];
        bias += d;
      }
      gbu(u) = bias;
    }
  });
  double total = 0, global = 0;
  for (arma::uword i = 0; i < n_items; ++i) {
    total += item_value(i);
    global += gbi(i);
  }
  g.U += gUt.t();
  g.V += gVt.t();
  if (biases) {
    g.user_bias += gbu;
    g.item_bias += gbi;
    g.global_bias += global;
  }
  return total;
}

void check_model(const relmf_model& m, arma::uword n_users, arma::uword n_items) {
  require(m.U.n_rows == n_users && m.V.n_rows == n_items && m.U.n_cols == m.V.n_cols &&
              m.U.n_cols >= 1,
          "`model` must have U with one row per user (" + std::to_string(n_users) +
              ") and V with one row per item (" + std::to_string(n_items) +
              "), both with the same number (>= 1) of columns.");
  require(m.user_bias.n_elem == n_users && m.item_bias.n_elem == n_items,
          "`model` must have a user bias per user and an item bias per item (zeros without biases).");
  check_finite(m.U, "model$U");
  check_finite(m.V, "model$V");
  check_finite(m.user_bias, "model$user_bias");
  check_finite(m.item_bias, "model$item_bias");
  check_finite(m.global_bias, "model$global_bias");
}

void validate_options(const relmf_options& o, arma::uword n_users, arma::uword n_items) {
  require(o.dim >= 1 && o.dim <= std::min(n_users, n_items),
          "`dim` must lie in [1, min(users, items)] = [1, " + std::to_string(std::min(n_users, n_items)) +
              "], not " + std::to_string(o.dim) +
              ": a rank above the smaller side of the click matrix is not identifiable; lower `dim`.");
  require(!(o.loss == loss_type::log && o.link == link_type::identity),
          "`link = \"identity\"` is only available with `loss = \"squared\"`; the log loss needs the "
          "logistic link.");
  check_in_closed(o.clip, 0.0, 1.0, "clip");
  check_nonnegative(o.unlabeled_weight, "unlabeled_weight");
  check_nonnegative(o.lambda, "lambda");
  require(o.max_iter >= 1, "`max_iter` must be at least 1, not " + std::to_string(o.max_iter) + ".");
  check_positive(o.lr, "lr");
  check_in_open(o.beta1, 0.0, 1.0, "beta1");
  check_in_open(o.beta2, 0.0, 1.0, "beta2");
  check_nonnegative(o.tol, "tol");
  check_threads(o.threads);
  if (o.solver == solver_type::minibatch) {
    require(o.batch_size >= 2, "`batch_size` must be at least 2 (half clicked, half unclicked pairs).");
    require(o.batch_size <= (arma::uword(1) << 31), "`batch_size` must be at most 2^31.");
  }
}

// Adam on every parameter block.
class adam_set {
 public:
  adam_set(const relmf_model& m, const relmf_options& o)
      : opt_{o.beta1, o.beta2, 1e-8}, u_(m.U.n_rows, m.U.n_cols, opt_), v_(m.V.n_rows, m.V.n_cols, opt_),
        bu_(m.user_bias.n_elem, 1, opt_), bi_(m.item_bias.n_elem, 1, opt_), g_(1, 1, opt_),
        biases_(o.biases), lr_(o.lr) {}

  void step(relmf_model& m, const relmf_model& grad) {
    m.U -= lr_ * u_.direction(grad.U);
    m.V -= lr_ * v_.direction(grad.V);
    if (biases_) {
      m.user_bias -= lr_ * arma::vec(bu_.direction(arma::mat(grad.user_bias)));
      m.item_bias -= lr_ * arma::vec(bi_.direction(arma::mat(grad.item_bias)));
      m.global_bias -= lr_ * g_.direction(arma::mat(1, 1, arma::fill::value(grad.global_bias)))(0, 0);
    }
  }

 private:
  optim::adam_options opt_;
  optim::adam u_, v_, bu_, bi_, g_;
  bool biases_;
  double lr_;
};

relmf_model initial_model(arma::uword n_users, arma::uword n_items, const relmf_options& o,
                          std::uint64_t seed) {
  rng_engine rng = make_rng(seed, 0);
  relmf_model m;
  m.link = o.loss == loss_type::squared ? o.link : link_type::logistic;
  const double k = static_cast<double>(o.dim);
  const double au = std::sqrt(6.0 / (static_cast<double>(n_users) + k));
  const double av = std::sqrt(6.0 / (static_cast<double>(n_items) + k));
  m.U.set_size(n_users, o.dim);
  m.V.set_size(n_items, o.dim);
  for (double& x : m.U) x = draw_uniform(rng, -au, au);
  for (double& x : m.V) x = draw_uniform(rng, -av, av);
  m.user_bias.zeros(n_users);
  m.item_bias.zeros(n_items);
  return m;
}

void check_objective(double value, long iteration) {
  if (!std::isfinite(value)) {
    throw numerical_error(
        "the objective became non-finite at iteration " + std::to_string(iteration) +
        ": with propensity weights w > 1 the log loss is unbounded below; increase `lambda`, "
        "raise `clip`, or lower `lr`.");
  }
}

void fit_full_batch(const arma::sp_mat& clicks, const relmf_options& o, const runtime_context& ctx,
                    relmf_fit& fit) {
  relmf_model& m = fit.model;
  adam_set adam(m, o);
  double prev = 0;
  for (long t = 0; t < o.max_iter; ++t) {
    ctx.check_interrupt();
    const objective_eval ev = evaluate_objective(clicks, fit.weights.weight, m, o);
    check_objective(ev.value, t);
    fit.trace.push_back(ev.value);
    fit.objective = ev.value;
    if (t > 0 && std::abs(ev.value - prev) <= o.tol * std::max(1.0, std::abs(ev.value))) {
      fit.converged = true;
      fit.iterations = t;
      fit.message = "relative change of the objective below tol after " + std::to_string(t) + " steps";
      return;
    }
    prev = ev.value;
    adam.step(m, ev.gradient);
    ctx.report_progress(static_cast<double>(t + 1), static_cast<double>(o.max_iter));
  }
  fit.iterations = o.max_iter;
  fit.objective = evaluate_objective(clicks, fit.weights.weight, m, o).value;
  check_objective(fit.objective, o.max_iter);
  fit.converged = false;
  fit.message = "reached max_iter (" + std::to_string(o.max_iter) +
                " steps) before the relative change of the objective fell below tol";
}

// Draws mini-batches: the clicked pairs are found by binary search on sorted keys u n + i.
class batch_sampler {
 public:
  static constexpr arma::uword kNoClick = ~arma::uword(0);
  struct draw {
    arma::uword user, item, click;  // click: index into the click list, kNoClick if unclicked
  };

  batch_sampler(const click_weights& cw, arma::uword n_users, arma::uword n_items, std::uint64_t seed)
      : cw_(cw), n_users_(n_users), n_items_(n_items), rng_(make_rng(seed, 1)) {
    keys_.resize(cw.user.n_elem);
    for (arma::uword e = 0; e < cw.user.n_elem; ++e) keys_[e] = {key(cw.user(e), cw.item(e)), e};
    std::sort(keys_.begin(), keys_.end());
  }

  // balanced: size/2 clicks, then size/2 unclicked pairs; uniform: `size` pairs of D.
  void sample(sampling_type type, arma::uword size, std::vector<draw>& out) {
    out.clear();
    if (type == sampling_type::balanced) {
      const arma::uword half = size / 2;
      for (arma::uword b = 0; b < half; ++b) {
        const arma::uword e = uniform(cw_.user.n_elem);
        out.push_back({cw_.user(e), cw_.item(e), e});
      }
      while (out.size() < 2 * half) {
        const draw d = random_pair();
        if (d.click == kNoClick) out.push_back(d);
      }
    } else {
      for (arma::uword b = 0; b < size; ++b) out.push_back(random_pair());
    }
  }

 private:
  std::uint64_t key(arma::uword u, arma::uword i) const { return static_cast<std::uint64_t>(u) * n_items_ + i; }
  arma::uword uniform(arma::uword n) {
    return static_cast<arma::uword>(draw_integer(rng_, 0, static_cast<long long>(n) - 1));
  }
  draw random_pair() {
    const arma::uword u = uniform(n_users_), i = uniform(n_items_);
    const std::pair<std::uint64_t, arma::uword> probe{key(u, i), 0};
    const auto it = std::lower_bound(keys_.begin(), keys_.end(), probe);
    const bool hit = it != keys_.end() && it->first == probe.first;
    return {u, i, hit ? it->second : kNoClick};
  }

  const click_weights& cw_;
  arma::uword n_users_, n_items_;
  rng_engine rng_;
  std::vector<std::pair<std::uint64_t, arma::uword>> keys_;
};

void fit_minibatch(const arma::sp_mat& clicks, const relmf_options& o, std::uint64_t seed,
                   const runtime_context& ctx, relmf_fit& fit) {
  relmf_model& m = fit.model;
  const click_weights& cw = fit.weights;
  const pair_loss pl{o.loss, m.link, o.unlabeled_weight};
  batch_sampler sampler(cw, clicks.n_rows, clicks.n_cols, seed);
  const sampling_type sampling = o.sampling != sampling_type::automatic ? o.sampling
                                 : o.loss == loss_type::log            ? sampling_type::uniform
                                                                       : sampling_type::balanced;
  std::vector<batch_sampler::draw> batch;
  std::vector<double> value(o.batch_size), deriv(o.batch_size);
  adam_set adam(m, o);
  relmf_model g = zeros_like(m);
  transposed tr(m);
  for (long t = 0; t < o.max_iter; ++t) {
    if (t % 10 == 0) ctx.check_interrupt();
    if (t > 0) tr.refresh(m);
    sampler.sample(sampling, o.batch_size, batch);
    const std::vector<detail::index_range> pieces = detail::fixed_ranges(batch.size(), 4096);
    detail::parallel_tasks(pieces.size(), o.threads, [&](std::size_t p) {
      for (std::size_t b = pieces[p].begin; b < pieces[p].end; ++b) {
        const batch_sampler::draw& d = batch[b];
        const double s = score_of(m, tr, d.user, d.item);
        if (d.click == batch_sampler::kNoClick) {
          pl.f0(s, value[b], deriv[b]);
        } else {
          pl.f1(s, cw.weight(d.click), value[b], deriv[b]);
        }
      }
    });
    double clicked = 0;
    for (const batch_sampler::draw& d : batch) clicked += d.click == batch_sampler::kNoClick ? 0.0 : 1.0;
    const double z = normaliser(o, static_cast<double>(batch.size()), clicked);
    const double scale = z > 0 ? 1.0 / z : 0.0;
    g.user_bias.zeros();
    g.item_bias.zeros();
    g.global_bias = 0;
    double total = 0;
    for (std::size_t b = 0; b < batch.size(); ++b) {
      total += value[b];
      add_pair_gradient(tr, batch[b].user, batch[b].item, deriv[b] * scale, o.biases, g);
    }
    g.U = tr.gUt.t();
    g.V = tr.gVt.t();
    const double penalty = 0.5 * o.lambda * (arma::accu(arma::square(m.U)) + arma::accu(arma::square(m.V)));
    const double batch_objective = total * scale + penalty;
    check_objective(batch_objective, t);
    fit.trace.push_back(batch_objective);
    g.U += o.lambda * m.U;
    g.V += o.lambda * m.V;
    adam.step(m, g);
    if (t % 10 == 9 || t + 1 == o.max_iter) {
      ctx.report_progress(static_cast<double>(t + 1), static_cast<double>(o.max_iter));
    }
  }
  fit.iterations = o.max_iter;
  fit.objective = fit.trace.back();
  fit.converged = false;
  fit.message = "mini-batch Adam ran its fixed budget of " + std::to_string(o.max_iter) +
                " iterations (no stopping rule)";
}

// Entry e of a (users, items) pair list indexes an n_users x n_items matrix (ids 0-based
// here, reported 1-based); `hint` ends each message ("the declared users" / "the model").
void require_pair_in_range(const arma::uvec& users, const arma::uvec& items, arma::uword e,
                           arma::uword n_users, arma::uword n_items, const char* hint) {
  auto message = [&](const char* arg, arma::uword id, arma::uword n, const char* noun) {
    return std::string("`") + arg + "` entry " + std::to_string(e + 1) + " (" + std::to_string(id + 1) +
           ") is outside 1.." + std::to_string(n) + ": unknown " + noun + " (ids must index " + hint + ").";
  };
  require(users(e) < n_users, [&] { return message("users", users(e), n_users, "user"); });
  require(items(e) < n_items, [&] { return message("items", items(e), n_items, "item"); });
}

}  // namespace

void validate_clicks(const arma::sp_mat& clicks, bool allow_empty) {
  require(clicks.n_rows >= 1 && clicks.n_cols >= 1,
          "`clicks` must have at least one user (row) and one item (column).");
  require(allow_empty || clicks.n_nonzero >= 1,
          "`clicks` holds no click: at least one (user, item) pair must be clicked.");
  require(static_cast<double>(clicks.n_rows) * static_cast<double>(clicks.n_cols) < 9.2e18,
          "`clicks` has more than 2^63 user x item pairs; split the problem.");
  for (auto it = clicks.begin(); it != clicks.end(); ++it) {
    const double v = *it;
    if (v == 1.0) continue;
    std::ostringstream os;
    os << "`clicks` must be a binary 0/1 matrix, but entry " << pair_text(it.row(), it.col()) << " is ";
    if (std::isnan(v)) {
      os << "NaN/NA: remove missing entries first.";
    } else if (v < 0) {
      os << format_number(v) << " (negative): clicks are indicators; binarise with (x > 0).";
    } else {
      os << format_number(v)
         << ": repeated clicks or summed duplicate (user, item) entries are not allowed; binarise "
            "with (x > 0) or remove the duplicates.";
    }
    throw invalid_argument(os.str());
  }
}

arma::sp_mat clicks_from_pairs(const arma::uvec& users, const arma::uvec& items, arma::uword n_users,
                               arma::uword n_items, bool keep_one_duplicate) {
  require(users.n_elem == items.n_elem, "`users` and `items` must have the same length (one per click).");
  require(n_users >= 1 && n_items >= 1, "`n_users` and `n_items` must be at least 1.");
  const arma::uword n = users.n_elem;
  std::vector<std::uint64_t> keys(n);
  for (arma::uword e = 0; e < n; ++e) {
    require_pair_in_range(users, items, e, n_users, n_items, "the declared users and items");
    keys[e] = static_cast<std::uint64_t>(items(e)) * n_users + users(e);
  }
  std::sort(keys.begin(), keys.end());
  auto last = std::unique(keys.begin(), keys.end());
  if (last != keys.end() && !keep_one_duplicate) {
    const std::uint64_t dup = *std::adjacent_find(keys.begin(), keys.end());
    throw invalid_argument("the (user, item) pair " + pair_text(dup % n_users, dup / n_users) +
                           " appears more than once; remove duplicate clicks or ask to keep one copy.");
  }
  keys.erase(last, keys.end());
  arma::umat loc(2, keys.size());
  for (std::size_t e = 0; e < keys.size(); ++e) {
    loc(0, e) = keys[e] % n_users;
    loc(1, e) = keys[e] / n_users;
  }
  return arma::sp_mat(loc, arma::ones<arma::vec>(keys.size()), n_users, n_items, false, false);
}

arma::vec popularity_propensity(const arma::sp_mat& clicks, double eta) {
  validate_clicks(clicks, true);
  check_nonnegative(eta, "eta");
  arma::vec counts(clicks.n_cols, arma::fill::zeros);
  for (auto it = clicks.begin(); it != clicks.end(); ++it) counts(it.col()) += 1.0;
  const double top = counts.max();
  arma::vec theta(clicks.n_cols, arma::fill::zeros);
  if (top <= 0) return theta;
  for (arma::uword i = 0; i < counts.n_elem; ++i) {
    if (counts(i) > 0) theta(i) = std::pow(counts(i) / top, eta);
  }
  return theta;
}

click_weights compute_weights(const arma::sp_mat& clicks, const propensity_spec& p, double clip) {
  validate_clicks(clicks, true);
  check_in_closed(clip, 0.0, 1.0, "clip");
  const arma::uword nnz = clicks.n_nonzero;
  click_weights cw;
  cw.user.set_size(nnz);
  cw.item.set_size(nnz);
  cw.theta.set_size(nnz);
  arma::uword e = 0;
  for (auto it = clicks.begin(); it != clicks.end(); ++it, ++e) {
    cw.user(e) = it.row();
    cw.item(e) = it.col();
  }
  switch (p.type) {
    case propensity_type::popularity:
      cw.item_theta = popularity_propensity(clicks, p.eta);
      break;
    case propensity_type::item:
      require(p.item.n_elem == clicks.n_cols,
              "the item propensities must have one value per item (" + std::to_string(clicks.n_cols) +
                  "), not " + std::to_string(p.item.n_elem) + ".");
      for (arma::uword i = 0; i < p.item.n_elem; ++i) {
        const double v = p.item(i);
        require(std::isfinite(v) && v > 0 && v <= 1, [&] {
          return "`propensity` must lie in (0, 1], but the value of item " + std::to_string(i + 1) + " is " +
                 format_number(v) + ": propensities are exposure probabilities.";
        });
      }
      cw.item_theta = p.item;
      break;
    case propensity_type::pair:
      require(p.pair.n_rows == clicks.n_rows && p.pair.n_cols == clicks.n_cols,
              "the pair propensities must be a matrix of the same dimensions as `clicks` (" +
                  std::to_string(clicks.n_rows) + " x " + std::to_string(clicks.n_cols) + ").");
      break;
    case propensity_type::none:
      break;
  }
  for (e = 0; e < nnz; ++e) {
    double v = 1.0;
    if (p.type == propensity_type::popularity || p.type == propensity_type::item) {
      v = cw.item_theta(cw.item(e));
    } else if (p.type == propensity_type::pair) {
      v = p.pair(cw.user(e), cw.item(e));
      require(std::isfinite(v) && v > 0 && v <= 1,
              "`propensity` must lie in (0, 1] at every click, but at " + pair_text(cw.user(e), cw.item(e)) +
                  " it is " + format_number(v) + (v == 0 ? " (or missing)" : "") +
                  ": give an exposure probability for each clicked pair.");
    }
    cw.theta(e) = v;
  }
  cw.weight = 1.0 / arma::max(cw.theta, arma::vec(nnz, arma::fill::value(clip)));
  cw.n_clipped = arma::accu(cw.theta < clip);
  return cw;
}

objective_eval evaluate_objective(const arma::sp_mat& clicks, const arma::vec& weight,
                                  const relmf_model& model, const relmf_options& o) {
  validate_clicks(clicks, true);
  check_model(model, clicks.n_rows, clicks.n_cols);
  require(weight.n_elem == clicks.n_nonzero, "`weight` must have one value per click (" +
                                                 std::to_string(clicks.n_nonzero) + ").");
  check_finite(weight, "weight");
  require(!(o.loss == loss_type::log && o.link == link_type::identity),
          "`link = \"identity\"` is only available with `loss = \"squared\"`.");
  check_nonnegative(o.unlabeled_weight, "unlabeled_weight");
  check_nonnegative(o.lambda, "lambda");
  const link_type link = o.loss == loss_type::log ? link_type::logistic : o.link;
  const pair_loss pl{o.loss, link, o.unlabeled_weight};
  objective_eval ev;
  ev.gradient = zeros_like(model);
  relmf_model& g = ev.gradient;
  check_threads(o.threads);
  double total = link == link_type::identity
                     ? gram_unclicked_part(model, o.unlabeled_weight, o.biases, o.threads, g)
                     : dense_unclicked_part(model, pl, o.biases, o.threads, g);
  total += clicked_part(clicks, weight, model, pl, o.biases, o.threads, g);
  const double pairs = static_cast<double>(clicks.n_rows) * static_cast<double>(clicks.n_cols);
  const double z = normaliser(o, pairs, static_cast<double>(clicks.n_nonzero));
  const double scale = z > 0 ? 1.0 / z : 0.0;
  ev.data = total * scale;
  g.U *= scale;
  g.V *= scale;
  if (o.biases) {
    g.user_bias *= scale;
    g.item_bias *= scale;
    g.global_bias *= scale;
  } else {
    g.user_bias.zeros();
    g.item_bias.zeros();
    g.global_bias = 0;
  }
  g.U += o.lambda * model.U;
  g.V += o.lambda * model.V;
  ev.value = ev.data + 0.5 * o.lambda * (arma::accu(arma::square(model.U)) + arma::accu(arma::square(model.V)));
  return ev;
}

relmf_fit fit_relmf(const arma::sp_mat& clicks, const relmf_options& o, std::uint64_t seed,
                    const runtime_context& ctx) {
  validate_clicks(clicks, false);
  validate_options(o, clicks.n_rows, clicks.n_cols);
  relmf_fit fit;
  fit.options = o;
  fit.seed = seed;
  fit.n_users = clicks.n_rows;
  fit.n_items = clicks.n_cols;
  fit.n_clicks = clicks.n_nonzero;
  fit.weights = compute_weights(clicks, o.propensity, o.clip);
  fit.model = initial_model(clicks.n_rows, clicks.n_cols, o, seed);
  if (o.solver == solver_type::full_batch) {
    fit_full_batch(clicks, o, ctx, fit);
  } else {
    const double pairs = static_cast<double>(clicks.n_rows) * static_cast<double>(clicks.n_cols);
    const bool uniform = o.sampling == sampling_type::uniform ||
                         (o.sampling == sampling_type::automatic && o.loss == loss_type::log);
    require(uniform || static_cast<double>(clicks.n_nonzero) < pairs,
            "every (user, item) pair is clicked, so there are no unclicked pairs to sample: use "
            "`solver = \"full_batch\"` or check the input.");
    fit_minibatch(clicks, o, seed, ctx, fit);
  }
  return fit;
}

arma::vec predict_pairs(const relmf_model& model, const arma::uvec& users, const arma::uvec& items,
                        bool response) {
  require(users.n_elem == items.n_elem, "`users` and `items` must have the same length.");
  const arma::uword n_users = model.U.n_rows, n_items = model.V.n_rows;
  arma::vec out(users.n_elem);
  for (arma::uword e = 0; e < users.n_elem; ++e) {
    require_pair_in_range(users, items, e, n_users, n_items, "the fitted model's users and items");
    double s = model.user_bias(users(e)) + model.item_bias(items(e)) + model.global_bias;
    for (arma::uword j = 0; j < model.U.n_cols; ++j) s += model.U(users(e), j) * model.V(items(e), j);
    out(e) = response && model.link == link_type::logistic ? sigmoid(s) : s;
  }
  return out;
}

arma::rowvec user_scores(const relmf_model& model, arma::uword user) {
  require(user < model.U.n_rows, "`user` " + std::to_string(user + 1) + " is outside 1.." +
                                     std::to_string(model.U.n_rows) + ": unknown user.");
  arma::rowvec s = model.U.row(user) * model.V.t();
  s += model.item_bias.t();
  s += model.user_bias(user) + model.global_bias;
  return s;
}

recommendation recommend(const relmf_model& model, const arma::uvec& users, arma::uword k,
                         const arma::sp_mat& exclude, unsigned threads) {
  const arma::uword n_items = model.V.n_rows;
  require(k >= 1, "`k` must be at least 1.");
  check_threads(threads);
  const bool has_exclude = exclude.n_rows > 0 || exclude.n_cols > 0;
  if (has_exclude) {
    require(exclude.n_rows == model.U.n_rows && exclude.n_cols == n_items,
            "`exclude` must have one row per user and one column per item (" +
                std::to_string(model.U.n_rows) + " x " + std::to_string(n_items) + ").");
  }
  for (arma::uword r = 0; r < users.n_elem; ++r) {
    require(users(r) < model.U.n_rows, [&] {
      return "`users` entry " + std::to_string(r + 1) + " (" + std::to_string(users(r) + 1) +
             ") is outside 1.." + std::to_string(model.U.n_rows) + ": unknown user.";
    });
  }
  const arma::sp_mat ex_t = has_exclude ? arma::sp_mat(exclude.t()) : arma::sp_mat();
  ex_t.sync();
  recommendation out;
  out.items.set_size(users.n_elem, k);
  out.items.fill(n_items);
  out.scores.set_size(users.n_elem, k);
  out.scores.fill(arma::datum::nan);
  const std::vector<detail::index_range> pieces = detail::fixed_ranges(users.n_elem, 64);
  detail::parallel_tasks(pieces.size(), threads, [&](std::size_t p) {
    std::vector<char> skip(n_items);
    std::vector<arma::uword> cand;
    for (arma::uword r = pieces[p].begin; r < pieces[p].end; ++r) {
      const arma::rowvec s = user_scores(model, users(r));
      std::fill(skip.begin(), skip.end(), 0);
      if (has_exclude) {
        for (arma::uword q = ex_t.col_ptrs[users(r)]; q < ex_t.col_ptrs[users(r) + 1]; ++q) skip[ex_t.row_indices[q]] = 1;
      }
      cand.clear();
      for (arma::uword i = 0; i < n_items; ++i) {
        if (!skip[i]) cand.push_back(i);
      }
      const std::size_t take = std::min<std::size_t>(k, cand.size());
      std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(take), cand.end(),
                        [&](arma::uword a, arma::uword b) { return s(a) > s(b) || (s(a) == s(b) && a < b); });
      for (std::size_t j = 0; j < take; ++j) {
        out.items(r, j) = cand[j];
        out.scores(r, j) = s(cand[j]);
      }
    }
  });
  return out;
}

void check_threads(unsigned threads) {
  require(threads >= 1 && threads <= 1024,
          "`threads` must be a whole number in [1, 1024], not " + std::to_string(threads) +
              "; results do not depend on it, so 1 is always safe.");
}

}  // namespace tessera::recsys
