#pragma once
// CoLiDE: concomitant linear DAG estimation (Saboksayr, Mateos, Tepper, ICLR 2024),
// and the DAGMA-linear baseline (Bello, Aragam, Ravikumar, NeurIPS 2022) it extends.
//
// Model: X = X W + Z, samples in rows, W(i, j) != 0 means i -> j. With X centred,
// S = X'X / n and R = (I - W)' S (I - W), stage k of the path minimises
//   F_k(W, sigma) = mu_k * [ score(W, sigma) + lambda * ||W||_1 ] + h(W, s_k),
//   h(W, s) = -log det(s I - W o W) + d log s     (DAGMA's log-det acyclicity),
// over the M-matrix domain s > rho(W o W), where h >= 0 with equality iff W is a DAG.
//   CoLiDE-EV : score = tr(R) / (2 sigma) + d sigma / 2,  sigma = max(sqrt(tr(R) / d), sigma0)
//   CoLiDE-NV : score = sum_j (R_jj / sigma_j + sigma_j) / 2, sigma_j = max(sqrt(R_jj), sigma0_j)
//   DAGMA     : score = tr(R) / 2 (no scale)
// The scales are standard deviations and have the closed-form updates above after
// every Adam step on W (inexact block-coordinate descent).
//
// Algorithm and defaults: those of the reference implementation's fit() (SAMiatto/colide,
// model.py; DAGMA's linear.py for the baseline): T = 5 stages, mu_k = mu_init * mu_factor^k,
// s = (1, .9, .8, .7, .6) (a short list repeats its last value), 3e4 Adam steps per
// stage and 6e4 in the last, lr = 3e-4, beta = (0.99, 0.999), objective checked every
// 1000 steps with relative tolerance 1e-6; Adam restarts at every stage; a step that
// leaves the domain is backtracked by halving lr (stage 0 only, i.e. s > 0.9), and a
// failed stage is retried with s_k + 0.1 and lr / 2 from the stage's starting point.
// Domain test: min entry of (s I - W o W)^-1 >= -1e-6 (CoLiDE) or >= -1e-16 (DAGMA).
//
// Decisions where the paper or the reference code is silent or wrong (see also the
// package documentation):
// * sigma0 (the paper's floor, absent from the reference code): relative to the data,
//   sigma0 = sigma_floor * sqrt(tr(S) / d) for EV and sigma0_j = sigma_floor * sd(x_j)
//   for NV, with sigma_floor = 1e-3 by default; applied at initialisation and at every
//   update, so a perfectly fitted column can never produce a division by zero.
// * The initial sigma is the reference's: EV min_j sd(x_j), NV sd(x_j) (population sd),
//   or the residual sd under w_init; then floored.
// * The caller's X is never modified; the s schedule is copied per call (the reference
//   mutates its default list across calls).
// * h is only evaluated inside the domain; an out-of-domain checkpoint is skipped and an
//   out-of-domain last step is undone, so the returned W is always in the domain.
// * The diagonal of W is free by default, as in the paper and the reference code: h pushes
//   self-loops to zero. When the score dominates h (badly scaled data, a large mu or lr)
//   the fit can instead regress columns on themselves (W_jj -> 1); a final |W_jj| above the
//   threshold therefore marks the fit as not converged, with advice. `zero_diagonal = true`
//   holds the diagonal at zero (its gradient is masked) for users who want that guarantee;
//   it changes the iterates (by up to 0.07 on the reference fixture's short schedule).
// * The data must have a representable covariance: a column whose variance under- or
//   overflows is an error that asks the user to rescale.
// * The returned graph is to_dag(W, threshold): always a DAG; the number of edges above
//   the threshold removed to break cycles is reported.
// * Per step, S (I - W) is computed once and reused for the scale update and the next
//   gradient: one d x d inverse and one d x d product per step, as in exact arithmetic.
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"

namespace tessera::dag {

enum class score_type { colide_ev, colide_nv, dagma_least_squares };

struct path_options {
  double lambda = 0.05;              // L1 weight (DAGMA's own default is 0.03)
  int stages = 5;                    // T
  double mu_init = 1.0;
  double mu_factor = 0.1;
  std::vector<double> s = {1.0, 0.9, 0.8, 0.7, 0.6};
  long warm_iter = 30000;            // Adam steps in stages 0..T-2
  long max_iter = 60000;             // Adam steps in the last stage
  double lr = 3e-4;
  double beta1 = 0.99;
  double beta2 = 0.999;
  long checkpoint = 1000;            // objective evaluated every `checkpoint` steps
  double tol = 1e-6;                 // relative change of the objective to stop a stage
  double domain_tol = 1e-6;          // in the domain iff min((sI - W o W)^-1) >= -domain_tol
  double sigma_floor = 1e-3;         // sigma0 relative to the data scale (CoLiDE only)
  double threshold = 0.3;            // |w| <= threshold is dropped by to_dag
  int max_retries = 50;              // stage retries (s += 0.1, lr /= 2) before giving up
  bool zero_diagonal = false;        // hold diag(W) at zero instead of relying on h
  arma::mat w_init;                  // optional d x d starting point (empty: zeros)
};

// The defaults of DAGMA-linear's fit() (lambda 0.03, domain tolerance 1e-16).
path_options dagma_defaults();

struct stage_record {
  int stage = 0;
  double mu = 0, s = 0, lr = 0;      // values used by the successful attempt
  long iterations = 0;               // Adam steps taken
  int retries = 0;                   // failed attempts before it
  double objective = 0;              // F_k at the end of the stage
  bool stopped_early = false;        // objective tolerance met before the step budget
};

struct dag_fit {
  score_type score = score_type::colide_ev;
  arma::mat W_raw;                   // the optimiser's W (in the domain of the last stage)
  arma::mat W;                       // to_dag(W_raw, threshold): always a DAG
  arma::vec sigma;                   // noise sd: length 1 (EV), d (NV), 0 (DAGMA)
  arma::vec sigma_floor;             // sigma0 actually used (same length as sigma)
  double objective = 0;              // F at the end of the last stage
  double score_value = 0;            // score(W_raw, sigma) + lambda ||W_raw||_1
  double h_value = 0;                // h(W_raw, s) at the last stage's s
  arma::uword n_pruned = 0;          // edges above threshold removed to make a DAG
  long total_iterations = 0;
  bool converged = true;             // every stage ended with the iterate in the domain
  std::string message;
  std::vector<stage_record> stages;
  arma::vec center;                  // column means removed from X
  path_options options;              // options used (s expanded to length T)
};

// Fits by the path-following scheme above. X: n x d, n >= 2, finite, no constant column.
dag_fit fit_linear_dag(const arma::mat& X, score_type score, const path_options& options,
                       const runtime_context& context = silent_context());

// The objective pieces at a given W (for checks and diagnostics): score + lambda ||W||_1
// with the closed-form (floored) sigma, and its gradient in W (excluding h).
struct score_eval {
  double value = 0;
  arma::mat gradient;
  arma::vec sigma;
};
score_eval evaluate_score(const arma::mat& S, const arma::mat& W, score_type score, double lambda,
                          const arma::vec& sigma_floor);

// h(W, s) and its gradient 2 W o (s I - W o W)^-T; throws numerical_error outside the domain.
struct acyclicity_eval {
  double value = 0;
  arma::mat gradient;
};
acyclicity_eval evaluate_acyclicity(const arma::mat& W, double s);

}  // namespace tessera::dag
