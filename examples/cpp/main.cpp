// Learns a DAG from simulated data with CoLiDE-EV and prints its accuracy.
#include <iostream>

#include <tessera/tessera.hpp>

int main() {
  namespace dag = tessera::dag;
  dag::sem_options sem;
  sem.n_nodes = 8;
  sem.n_edges = 8;
  sem.n_samples = 500;
  const dag::sem_sample data = dag::simulate_sem(sem, /*seed=*/7);

  dag::path_options options;   // the reference implementation's defaults
  options.warm_iter = 5000;    // a short path for a quick example
  options.max_iter = 10000;
  const dag::dag_fit fit = dag::fit_linear_dag(data.X, dag::score_type::colide_ev, options);
  const dag::graph_metrics m = dag::compare_graphs(fit.W, data.W);

  std::cout << "tessera " << tessera::version_string << ": CoLiDE-EV found " << m.n_estimated
            << " edges (true " << m.n_true << "), SHD " << m.shd << ", noise sd "
            << fit.sigma(0) << "\n";
  return dag::is_dag(fit.W) ? 0 : 1;
}
