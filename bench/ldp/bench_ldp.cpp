// Throughput of the LDP client (randomisation) and server (aggregation), streamed in
// chunks with memory flat in n, and the cost of attack-resistant (discrete, grid) noise
// against textbook double-precision Laplace noise. Writes CSV rows to stdout.
//   bench_ldp [max_users_d10] [seconds_budget_per_row]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/privacy/ldp_regression.hpp"

using namespace tessera::privacy;
using clock_type = std::chrono::steady_clock;

namespace {
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
double max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}
void row(const std::string& what, arma::uword d, double n, const std::string& mech, const std::string& noise,
         const std::string& source, double secs, double ratio) {
  std::printf("%s,%u,%.0f,%s,%s,%s,%.4f,%.1f,%.4f,%.1f\n", what.c_str(), static_cast<unsigned>(d), n, mech.c_str(),
              noise.c_str(), source.c_str(), secs, n / secs, ratio, max_rss_mb());
  std::fflush(stdout);
}
noninteractive_config config(arma::uword d, noise_mechanism m, bool secure) {
  noninteractive_config c;
  c.d = d;
  c.b.tau_x = 2;
  c.b.tau_y = 3;
  c.epsilon = 1;
  c.delta = m == noise_mechanism::gaussian ? 1e-7 : 0;
  c.mechanism = m;
  c.secure = secure;
  return c;
}
}  // namespace

int main(int argc, char** argv) {
  const double max_users = argc > 1 ? std::atof(argv[1]) : 1e7;
  const double budget = argc > 2 ? std::atof(argv[2]) : 60;
  std::printf("benchmark,d,n_users,mechanism,noise,source,seconds,reports_per_second,ratio_to_naive_laplace,max_rss_mb\n");
  auto rng = tessera::make_rng(2024);
  for (arma::uword d : {10u, 50u, 100u}) {
    const arma::mat pool = tessera::draw_normal(rng, 1000, d);  // users cycle through 1000 rows
    const arma::vec ypool = tessera::draw_normal(rng, 1000, 1);
    // 1. Client randomisation: secure vs textbook noise, Laplace and Gaussian, OS generator.
    double naive_rate = 0;
    for (auto m : {noise_mechanism::laplace, noise_mechanism::gaussian}) {
      for (bool secure : {false, true}) {
        const noninteractive_client cl(config(d, m, secure));
        noise_source os = noise_source::os_entropy();
        const auto t0 = clock_type::now();
        double n = 0;
        while (seconds_since(t0) < budget / 8 && n < 2e5) {
          for (int i = 0; i < 100; ++i, n += 1) {
            const auto k = static_cast<arma::uword>(n) % 1000;
            (void)cl.report(pool.row(k).t(), ypool(k), os);
          }
        }
        const double secs = seconds_since(t0);
        if (m == noise_mechanism::laplace && !secure) naive_rate = n / secs;
        row("client", d, n, to_string(m), secure ? "discrete-grid" : "textbook-double", "os", secs,
            (n / secs) / naive_rate);
      }
    }
    // 2. Streaming protocol: users randomise, the server merges per-chunk sums; memory
    //    stays flat (only O(d^2) sums are kept). Gaussian, secure, OS generator.
    const noninteractive_client cl(config(d, noise_mechanism::gaussian, true));
    noise_source os = noise_source::os_entropy();
    noninteractive_sums total(d, true);
    // Chunk size keeps the batch of reports under ~8 MB whatever d is.
    const double chunk = std::max(100.0, std::floor(1e6 / double(d * (d + 3) / 2)));
    const double cap = d == 10 ? max_users : (d == 50 ? max_users / 100 : max_users / 400);
    const auto t0 = clock_type::now();
    double n = 0, next_report = 1e3;
    double server_secs = 0;
    while (n < cap && seconds_since(t0) < budget * 4) {
      noninteractive_sums part(d, true);
      std::vector<noninteractive_report> batch;
      batch.reserve(static_cast<std::size_t>(chunk));
      for (int i = 0; i < chunk; ++i) {
        const auto k = static_cast<arma::uword>(n + i) % 1000;
        batch.push_back(cl.report(pool.row(k).t(), ypool(k), os));
      }
      const auto s0 = clock_type::now();
      for (const auto& r : batch) part.add(r);
      total.merge(part);
      server_secs += seconds_since(s0);
      n += chunk;
      if (n >= next_report) {
        row("protocol_stream", d, n, "gaussian", "discrete-grid", "os", seconds_since(t0), NAN);
        row("server_aggregate", d, n, "gaussian", "discrete-grid", "os", server_secs, NAN);
        next_report *= 10;
      }
    }
    if (n < next_report && n > next_report / 10) {
      row("protocol_stream", d, n, "gaussian", "discrete-grid", "os", seconds_since(t0), NAN);
      row("server_aggregate", d, n, "gaussian", "discrete-grid", "os", server_secs, NAN);
    }
  }
  return 0;
}
