#pragma once
// All of tessera's public headers.
#include "tessera/version.hpp"
#include "tessera/common/arma.hpp"
#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/context.hpp"
#include "tessera/common/linalg.hpp"
#include "tessera/optim/adam.hpp"
#include "tessera/dag/graph.hpp"
#include "tessera/dag/simulate.hpp"
#include "tessera/dag/colide.hpp"
#include "tessera/montecarlo/sobol.hpp"
