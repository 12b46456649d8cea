// Throughput of the LDP client (randomisation) and server (aggregation), and the cost of
// attack-resistant (discrete, grid) noise against textbook double-precision noise.
// One measurement per process, so that the peak resident memory (VmHWM) belongs to that
// measurement alone; run.sh starts a fresh process for every (d, n). CSV rows on stdout:
//   bench_ldp header
//   bench_ldp client D REPS COUNT   interleaved repetitions of COUNT reports per variant
//   bench_ldp server D N            aggregate N reports streamed in chunks
//   bench_ldp stream D N            users randomise and the server aggregates, streamed
// The covariates cycle through a pool of 1000 standard normal rows (the cost does not depend
// on the values); the server benchmark cycles through 1000 real privatised reports, so that it
// can reach N = 1e7 at every d without paying for 1e7 client randomisations.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tessera/privacy/ldp_regression.hpp"

using namespace tessera::privacy;
using clock_type = std::chrono::steady_clock;

namespace {
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
// Peak resident set of this process (kB in /proc/self/status), in MB.
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return NAN;
}
double load1() {
  std::ifstream in("/proc/loadavg");
  double l = NAN;
  in >> l;
  return l;
}
const char* commit() {
  const char* c = std::getenv("BENCH_COMMIT");
  return c ? c : "unknown";
}
void row(const char* what, arma::uword d, double n, const std::string& mech, const std::string& noise,
         double secs, double rate, double ratio) {
  std::printf("%s,%u,%.0f,%s,%s,os,%.4f,%.1f,%.4f,%.1f,%.2f,%s\n", what, static_cast<unsigned>(d), n,
              mech.c_str(), noise.c_str(), secs, rate, ratio, peak_rss_mb(), load1(), commit());
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
struct pool {
  arma::mat x;
  arma::vec y;
  explicit pool(arma::uword d) {
    auto rng = tessera::make_rng(2024);
    x = tessera::draw_normal(rng, d, 1000);  // one user per column (contiguous)
    y = tessera::draw_normal(rng, 1000, 1);
  }
};
// Users per chunk: a chunk of reports stays near 8 MB whatever d is.
double chunk_size(arma::uword d) { return std::max(100.0, std::floor(1e6 / double(d * (d + 3) / 2))); }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Interleaved repetitions: rep r runs every variant once, in turn; medians over reps.
void bench_client(arma::uword d, int reps, double count) {
  const pool p(d);
  struct variant { noise_mechanism m; bool secure; const char* noise; };
  const std::vector<variant> vs = {{noise_mechanism::laplace, false, "textbook-double"},
                                   {noise_mechanism::laplace, true, "discrete-grid"},
                                   {noise_mechanism::gaussian, false, "textbook-double"},
                                   {noise_mechanism::gaussian, true, "discrete-grid"}};
  std::vector<std::vector<double>> rate(vs.size() + 1), secs(vs.size() + 1);
  interactive_config ic;
  ic.d = d;
  ic.b.tau_x = 2;
  ic.b.tau_y = 3;
  ic.epsilon = 1;
  ic.sparsity = std::min<arma::uword>(d, 8);
  const interactive_client icl(ic);
  arma::vec theta(d, arma::fill::zeros);
  for (arma::uword j = 0; j < ic.sparsity; ++j) theta(j) = 1.0 / std::sqrt(double(ic.sparsity));
  for (int r = 0; r < reps; ++r) {
    for (std::size_t v = 0; v <= vs.size(); ++v) {
      noise_source os = noise_source::os_entropy();
      const auto t0 = clock_type::now();
      if (v < vs.size()) {
        const noninteractive_client cl(config(d, vs[v].m, vs[v].secure));
        for (double i = 0; i < count; ++i) {
          const auto k = static_cast<arma::uword>(i) % 1000;
          (void)cl.report(p.x.col(k), p.y(k), os);
        }
      } else {  // the interactive protocol's client: one Duchi release of the gradient
        for (double i = 0; i < count; ++i) {
          const auto k = static_cast<arma::uword>(i) % 1000;
          (void)icl.report(p.x.col(k), p.y(k), theta, os);
        }
      }
      const double s = seconds_since(t0);
      secs[v].push_back(s);
      rate[v].push_back(count / s);
    }
  }
  const double naive = median(rate[0]);
  for (std::size_t v = 0; v < vs.size(); ++v)
    row("client", d, count, to_string(vs[v].m), vs[v].noise, median(secs[v]), median(rate[v]),
        median(rate[v]) / naive);
  row("client_interactive", d, count, "duchi", "continuous-sphere", median(secs[vs.size()]),
      median(rate[vs.size()]), median(rate[vs.size()]) / naive);
}

// Server only: n reports (cycled from 1000 real ones) added in chunks into per-chunk sums,
// each merged into the total. Memory: the pool plus O(d^2) sums, flat in n.
void bench_server(arma::uword d, double n) {
  const pool p(d);
  const noninteractive_client cl(config(d, noise_mechanism::gaussian, true));
  noise_source os = noise_source::os_entropy();
  std::vector<noninteractive_report> reports;
  reports.reserve(1000);
  for (arma::uword k = 0; k < 1000; ++k) reports.push_back(cl.report(p.x.col(k), p.y(k), os));
  const double chunk = chunk_size(d);
  noninteractive_sums total(d, true);
  const auto t0 = clock_type::now();
  double done = 0;
  while (done < n) {
    noninteractive_sums part(d, true);
    const double stop = std::min(n, done + chunk);
    for (; done < stop; done += 1) part.add(reports[static_cast<std::size_t>(done) % 1000]);
    total.merge(part);
  }
  const double s = seconds_since(t0);
  row("server_aggregate", d, n, "gaussian", "discrete-grid", s, n / s, NAN);
}

// The whole protocol streamed: each chunk of users randomise (OS generator, secure
// Gaussian), the server adds the chunk's reports and merges. Seconds: client + server.
void bench_stream(arma::uword d, double n) {
  const pool p(d);
  const noninteractive_client cl(config(d, noise_mechanism::gaussian, true));
  noise_source os = noise_source::os_entropy();
  const double chunk = chunk_size(d);
  noninteractive_sums total(d, true);
  std::vector<noninteractive_report> batch;
  batch.reserve(static_cast<std::size_t>(chunk));
  double client_s = 0, server_s = 0, done = 0;
  while (done < n) {
    batch.clear();
    const double stop = std::min(n, done + chunk);
    const auto c0 = clock_type::now();
    for (double i = done; i < stop; i += 1) {
      const auto k = static_cast<arma::uword>(i) % 1000;
      batch.push_back(cl.report(p.x.col(k), p.y(k), os));
    }
    client_s += seconds_since(c0);
    const auto s0 = clock_type::now();
    noninteractive_sums part(d, true);
    for (const auto& r : batch) part.add(r);
    total.merge(part);
    server_s += seconds_since(s0);
    done = stop;
  }
  row("stream_client", d, n, "gaussian", "discrete-grid", client_s, n / client_s, NAN);
  row("stream_server", d, n, "gaussian", "discrete-grid", server_s, n / server_s, NAN);
  row("stream_total", d, n, "gaussian", "discrete-grid", client_s + server_s, n / (client_s + server_s), NAN);
}
}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "header";
  if (mode == "header") {
    std::printf("benchmark,d,n_users,mechanism,noise,source,seconds,reports_per_second,"
                "ratio_to_naive_laplace,peak_rss_mb,load1,commit\n");
    return 0;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_ldp header | client D REPS COUNT | server D N | stream D N\n");
    return 2;
  }
  const auto d = static_cast<arma::uword>(std::atof(argv[2]));
  if (mode == "client") bench_client(d, std::atoi(argv[3]), argc > 4 ? std::atof(argv[4]) : 2000);
  else if (mode == "server") bench_server(d, std::atof(argv[3]));
  else if (mode == "stream") bench_stream(d, std::atof(argv[3]));
  else return 2;
  return 0;
}
